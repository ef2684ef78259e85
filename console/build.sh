#!/usr/bin/env bash
# Builds the web console into the folder given as $1 (CMake calls this; see
# src/server/CMakeLists.txt). Installs the pinned packages (package-lock.json)
# only when they are missing or the lock file changed.
# Requires Node.js >= 20.19 (Vite 7).
set -euo pipefail
out=${1:?usage: console/build.sh OUT_DIR}
cd "$(dirname "$0")"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  # `npm install` with the lock file installs exactly the locked versions and leaves the
  # lock unchanged. Not `npm ci`: it refuses a lock that lacks the optional per-platform
  # packages (rollup's native builds) a registry mirror may not carry.
  echo "console: npm install (from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
fi
npx --no-install tsc --noEmit
npx --no-install vite build --outDir "$out" --emptyOutDir --logLevel warn
