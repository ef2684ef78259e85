#!/usr/bin/env bash
# The console's end-to-end test run (CTest's console_e2e calls this; see
# tests/CMakeLists.txt): builds a demo store, starts `souk serve` on a free port
# with a fresh admin key, and runs every console/e2e/*.test.mjs in Debian's
# Chromium through playwright-core. Screenshots go to $2.
#   usage: console/e2e/run.sh SOUK_BINARY ARTIFACTS_DIR
set -euo pipefail
souk=$(realpath "${1:?usage: run.sh SOUK_BINARY ARTIFACTS_DIR}")
artifacts=$(realpath -m "${2:?usage: run.sh SOUK_BINARY ARTIFACTS_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
console=$(dirname "$here")
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

for need in node /usr/bin/chromium; do
  command -v "$need" >/dev/null || { echo "console e2e: $need is missing (run scripts/setup.sh)" >&2; exit 1; }
done
[[ -d "$console/node_modules/playwright-core" ]] || { echo "console e2e: console/node_modules missing (the build installs it: console/build.sh)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/souk-console-e2e.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

data="$work/data"
echo "console e2e: building the demo store in $data"
if ! "$souk" demo --no-serve --data-dir "$data" --items 2000 --users 900 --days 45 --progress off > "$work/demo.log" 2>&1; then
  tail -40 "$work/demo.log" >&2
  echo "console e2e: souk demo failed" >&2
  exit 1
fi
key=$("$souk" keys create --scope admin --name "console e2e" --json --data-dir "$data" |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).key))')
"$souk" serve --data-dir "$data" --port 0 --port-file "$work/port" --threads 8 > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  [[ -s "$work/port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; echo "console e2e: souk serve exited" >&2; exit 1; }
  sleep 0.2
done
[[ -s "$work/port" ]] || { echo "console e2e: souk serve did not start" >&2; exit 1; }
port=$(cat "$work/port")
echo "console e2e: server on port $port; screenshots in $artifacts"
mkdir -p "$artifacts"
cd "$console"
status=0
SOUK_URL="http://127.0.0.1:$port" SOUK_KEY="$key" SOUK_ARTIFACTS="$artifacts" \
  node --test --test-concurrency=1 e2e/ || status=$?
if [[ $status -ne 0 ]]; then
  echo "console e2e: failed; the server's last log lines:" >&2
  tail -20 "$work/serve.log" >&2
fi
exit $status
