#!/usr/bin/env bash
# Proves the module-boundary rules bite: each probe imports across a forbidden edge and lint must reject it.
set -uo pipefail
cd "$(dirname "$0")/../.."
probes=(
  "apps/api-gateway/src/boundary-probe.ts|import { loadPlatformEnv } from '../../platform/src/platform-services.js'; export const probe = loadPlatformEnv;|an app importing another app"
  "libs/config-manager/src/boundary-probe.ts|import { AuditServiceHost } from '@llmops/audit-service'; export const probe = AuditServiceHost;|a service importing another service"
  "libs/platform/grpc/src/boundary-probe.ts|import { ConfigManagerHost } from '@llmops/config-manager'; export const probe = ConfigManagerHost;|a platform lib importing a service"
  "libs/contracts/src/boundary-probe.ts|import { GrpcServer } from '@llmops/platform-grpc'; export const probe = GrpcServer;|contracts importing a platform lib"
)
# The rule reads Nx's cached project graph and silently skips itself without one: compute it first.
npx --no-install nx show projects >/dev/null
status=0
for probe in "${probes[@]}"; do
  IFS='|' read -r file source what <<<"$probe"
  printf '%s\n' "$source" >"$file"
  output=$(npx --no-install eslint --no-warn-ignored "$file" 2>&1)
  failed=$?
  if [ $failed -ne 0 ] && grep -q '@nx/enforce-module-boundaries' <<<"$output" && ! grep -q 'rule will be skipped' <<<"$output"; then
    echo "boundary enforced: $what"
  else
    echo "boundary NOT enforced: $what ($file)" >&2
    echo "$output" >&2
    status=1
  fi
  rm -f "$file"
done
exit $status
