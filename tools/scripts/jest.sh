#!/usr/bin/env bash
# Runs jest for one project in ESM mode; TZ is pinned so date handling is the same everywhere.
set -euo pipefail
export TZ=UTC NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning ${NODE_OPTIONS:-}"
exec node "$(dirname "$0")/../../node_modules/jest/bin/jest.js" --config "$1/jest.config.mjs" --passWithNoTests=false "${@:2}"
