#!/usr/bin/env bash
# Lints the protobuf contracts and fails when regenerating them changes libs/contracts (generated code is
# committed and never edited by hand).
set -euo pipefail
cd "$(dirname "$0")/../.."
(cd proto && npx --no-install buf lint)
if git rev-parse --verify -q main >/dev/null && git cat-file -e main:proto 2>/dev/null; then
  (cd proto && npx --no-install buf breaking --against '../.git#branch=main,subdir=proto')
fi
npx --no-install buf generate
changes=$(git status --porcelain -- libs/contracts/src/gen)
if [ -n "$changes" ]; then
  echo "Generated contracts are out of date; run 'npm run generate' and commit the result:" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- libs/contracts/src/gen >&2
  exit 1
fi
echo "contracts: buf lint clean, generated code up to date"
