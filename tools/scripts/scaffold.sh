#!/usr/bin/env bash
# Lays out a workspace project the way every project here is laid out:
#   tools/scripts/scaffold.sh <dir> <package-name> <nx-name> <tags(comma)> <lib|app> [dep ...]
set -euo pipefail
dir=$1 pkg=$2 name=$3 tags=$4 kind=$5; shift 5
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir/src"; rel=$(realpath --relative-to="$dir" "$root")
mkdir -p "$dir/src"
deps=""; for d in "$@"; do deps="$deps\"$d\": \"*\","; done; deps="{${deps%,}}"
tagjson=$(printf '%s' "$tags" | awk -F, '{for(i=1;i<=NF;i++){printf "%s\"%s\"", (i>1?", ":""), $i}}')
if [ "$kind" = lib ]; then
  cat > "$dir/package.json" <<JSON
{
  "name": "$pkg",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "exports": { ".": { "@llmops/source": "./src/index.ts", "types": "./dist/index.d.ts", "default": "./dist/index.js" } },
  "dependencies": $deps
}
JSON
  out="{projectRoot}/dist"; tsout="dist"; rootdir="src"
else
  cat > "$dir/package.json" <<JSON
{ "name": "$pkg", "version": "0.1.0", "private": true, "type": "module", "dependencies": $deps }
JSON
  out="{workspaceRoot}/dist/apps/$name"; tsout="$rel/dist/apps/$name"; rootdir="src"
fi
cat > "$dir/project.json" <<JSON
{
  "name": "$name",
  "\$schema": "$rel/node_modules/nx/schemas/project-schema.json",
  "sourceRoot": "$dir/src",
  "projectType": "$([ "$kind" = lib ] && echo library || echo application)",
  "tags": [$tagjson],
  "targets": {
    "build": { "executor": "nx:run-commands", "outputs": ["$out"], "options": { "command": "tsc -p {projectRoot}/tsconfig.build.json" } },
    "typecheck": { "executor": "nx:run-commands", "options": { "command": "tsc -p {projectRoot}/tsconfig.json --noEmit" } },
    "lint": { "executor": "nx:run-commands", "options": { "command": "eslint --max-warnings=0 {projectRoot}" } },
    "test": { "executor": "nx:run-commands", "options": { "command": "tools/scripts/jest.sh {projectRoot}" } }
  }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "$rel/tsconfig.base.json",
  "compilerOptions": { "noEmit": true },
  "include": ["src/**/*.ts"]
}
JSON
cat > "$dir/tsconfig.build.json" <<JSON
{
  "extends": "./tsconfig.json",
  "compilerOptions": { "noEmit": false, "customConditions": [], "rootDir": "src", "outDir": "$tsout", "tsBuildInfoFile": null },
  "exclude": ["src/**/*.spec.ts", "src/**/*.int-spec.ts", "src/**/*.e2e-spec.ts"]
}
JSON
cat > "$dir/jest.config.mjs" <<JSON
import { jestProject } from '$rel/jest.preset.mjs';

export default jestProject('$name');
JSON
