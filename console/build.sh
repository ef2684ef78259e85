#!/usr/bin/env bash
# Builds the web console into the folder given as $1 (CMake calls this; see
# src/server/CMakeLists.txt). Installs the pinned packages (package-lock.json)
# only when they are missing or the lock file changed.
set -euo pipefail
out=${1:?usage: console/build.sh OUT_DIR}
cd "$(dirname "$0")"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "console: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
npx --no-install tsc --noEmit
npx --no-install vite build --outDir "$out" --emptyOutDir --logLevel warn
