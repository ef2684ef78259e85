#!/usr/bin/env bash
# The recorded load benchmark of `souk serve` (bench/load/README.md).
#
#  a. Home Depot search: import products.csv (54,667 items), `souk index`; targets are the
#     distinct queries of judgments.dev.csv as GET /v1/search?q=...&limit=10.
#  b. Amazon Beauty home recommendations: import Beauty.txt (amazon-seq), `souk train
#     recommender`; targets are GET /v1/recommendations/home?user=U&n=10 over sampled users.
#  c. For each: closed-loop sweep over concurrency 1 2 4 8 (20 s after 5 s warm-up) against
#     `souk serve --threads 8` -> max throughput, p50/p99 at each level.
#  d. Hot swap under load, open loop at 50% of the measured max (keep-alive max): by default
#     a POST /v1/admin/reload every 10 s; with --swap-search index / --swap-rec train a
#     POST /v1/admin/train {"kinds":["index"|"recommender"]} instead, and the load stays on
#     until the job has rebuilt and swapped in the new index/model. Errors must be 0.
#  e. Soak (only with --soak SECONDS): open loop at 70% of the max search throughput,
#     server RSS sampled every 10 s; errors and RSS slope (MB/hour).
#  f. Summary table on stdout, everything as one JSON object in --out FILE.
#
# Usage: bench/load/run_load.sh [--out FILE] [--keep DIR] [--soak SECONDS] [options]
#   --souk PATH            souk binary (default build/souk)
#   --load-gen PATH        souk_load_gen (default build/bench/souk_load_gen)
#   --data DIR             shared datasets (default ../shared/data from the project root)
#   --keep DIR             work in DIR and keep it (data dirs are reused when prepared)
#   --only LIST            search,rec (default both)
#   --levels "1 2 4 8"     closed-loop concurrency levels
#   --seconds S / --warmup S   per level (default 20 / 5)
#   --threads N            server worker threads (default 8)
#   --swap-seconds S       hot-swap phase length (default 60)
#   --swap-search reload|index   what swaps the search server (default reload)
#   --swap-rec reload|train      what swaps the recommendation server (default reload)
#   --open-concurrency N   connections of the open-loop phases (default 6 < --threads:
#                          keep-alive connections hold a server thread each)
#   --close-sweep          also sweep with a new connection per request
#   --no-swap              skip d
#   --max-search-rps R     skip the search sweep, use R as the max (soak-only runs)
#   --max-rec-rps R        skip the recommendation sweep, use R as the max
#   --soak SECONDS         run e for this long (default off; the issue asks for 1800)
#   --users N              recommendation users sampled (default 2000)
# Needs python3 (target files) and jq (summary).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOUK=$ROOT/build/souk
LOADGEN=$ROOT/build/bench/souk_load_gen
DATA=${SOUK_SHARED_DATA:-$ROOT/../shared/data}
OUT=""
KEEP=""
ONLY="search,rec"
LEVELS="1 2 4 8"
SECONDS_PER_LEVEL=20
WARMUP=5
THREADS=8
SWAP_SECONDS=60
SWAP_REC=reload
SWAP_SEARCH=reload
OPEN_CONC=6
CLOSE_SWEEP=0
DO_SWAP=1
MAX_SEARCH=""
MAX_REC=""
SOAK=0
USERS=2000

while [[ $# -gt 0 ]]; do
  case "$1" in
    --souk) SOUK=$2; shift 2 ;;
    --load-gen) LOADGEN=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --levels) LEVELS=$2; shift 2 ;;
    --seconds) SECONDS_PER_LEVEL=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --swap-seconds) SWAP_SECONDS=$2; shift 2 ;;
    --swap-rec) SWAP_REC=$2; shift 2 ;;
    --swap-search) SWAP_SEARCH=$2; shift 2 ;;
    --open-concurrency) OPEN_CONC=$2; shift 2 ;;
    --close-sweep) CLOSE_SWEEP=1; shift ;;
    --no-swap) DO_SWAP=0; shift ;;
    --max-search-rps) MAX_SEARCH=$2; shift 2 ;;
    --max-rec-rps) MAX_REC=$2; shift 2 ;;
    --soak) SOAK=$2; shift 2 ;;
    --users) USERS=$2; shift 2 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "run_load.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "run_load.sh: error: $*" >&2; exit 1; }
step() { echo; echo "== $* ($(date +%H:%M:%S), load average $(cut -d' ' -f1-3 /proc/loadavg))"; }
[[ -x $SOUK ]] || die "no souk binary at $SOUK (build it, or --souk PATH)"
[[ -x $LOADGEN ]] || die "no load generator at $LOADGEN (cmake --build BUILD --target souk_load_gen, or --load-gen PATH)"
command -v python3 >/dev/null || die "python3 is needed to write the target files"
command -v jq >/dev/null || die "jq is needed for the summary"
[[ $SWAP_REC == train || $SWAP_REC == reload ]] || die "--swap-rec must be reload or train, got '$SWAP_REC'"
[[ $SWAP_SEARCH == index || $SWAP_SEARCH == reload ]] || die "--swap-search must be reload or index, got '$SWAP_SEARCH'"
HD=$DATA/homedepot
BEAUTY=$DATA/amazon-beauty
[[ $ONLY != *search* || -f $HD/products.csv ]] || die "missing $HD/products.csv (--data DIR)"
[[ $ONLY != *rec* || -f $BEAUTY/Beauty.txt ]] || die "missing $BEAUTY/Beauty.txt (--data DIR)"

if [[ -n $KEEP ]]; then
  WORK=$KEEP
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d /tmp/souk-load.XXXXXX)
fi
WORK=$(cd "$WORK" && pwd)
RESULTS=$WORK/results
mkdir -p "$RESULTS"
SERVER_PID=""

cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -z $KEEP ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "souk load benchmark: $($SOUK version), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), work dir $WORK"
echo "server: --threads $THREADS, rate limit off; the load generator runs on the same cores"

# --- data preparation ------------------------------------------------------------------
prepare_search() {
  local dir=$WORK/search
  if [[ -f $dir/.prepared ]]; then
    echo "reusing $dir"
  else
    step "a. import Home Depot products and build the search indexes"
    rm -rf "$dir"
    local t0=$SECONDS
    "$SOUK" import --format homedepot --data-dir "$dir" --progress off "$HD/products.csv"
    "$SOUK" index --data-dir "$dir" --progress off
    echo "prepared in $((SECONDS - t0)) s"
    touch "$dir/.prepared"
  fi
  "$SOUK" keys create --scope admin --name load-bench --json --data-dir "$dir" | jq -r .key > "$WORK/search.key"
  python3 - "$HD/judgments.dev.csv" "$WORK/search.targets" <<'EOF'
import csv, sys, urllib.parse
seen, out = set(), []
with open(sys.argv[1], encoding='utf-8', newline='') as f:
    for row in csv.DictReader(f):
        q = row['query'].strip()
        if q and q not in seen:
            seen.add(q)
            out.append(q)
with open(sys.argv[2], 'w') as f:
    for q in out:
        f.write('GET /v1/search?q=%s&limit=10\n' % urllib.parse.quote(q, safe=''))
print('search targets: %d distinct dev queries' % len(out))
EOF
}

prepare_rec() {
  local dir=$WORK/rec
  if [[ -f $dir/.prepared ]]; then
    echo "reusing $dir"
  else
    step "b. import Amazon Beauty sequences and train the recommender"
    rm -rf "$dir"
    local t0=$SECONDS
    "$SOUK" import --format amazon-seq --data-dir "$dir" --progress off "$BEAUTY/Beauty.txt"
    "$SOUK" train recommender --data-dir "$dir" --progress off
    echo "prepared in $((SECONDS - t0)) s"
    touch "$dir/.prepared"
  fi
  "$SOUK" keys create --scope admin --name load-bench --json --data-dir "$dir" | jq -r .key > "$WORK/rec.key"
  python3 - "$BEAUTY/Beauty.txt" "$WORK/rec.targets" "$USERS" <<'EOF'
import random, sys, urllib.parse
users = [line.split()[0] for line in open(sys.argv[1], encoding='utf-8') if line.strip()]
random.Random(7).shuffle(users)
users = users[:int(sys.argv[3])]
with open(sys.argv[2], 'w') as f:
    for u in users:
        f.write('GET /v1/recommendations/home?user=%s&n=10\n' % urllib.parse.quote(u, safe=''))
print('recommendation targets: %d users sampled from %s' % (len(users), sys.argv[1]))
EOF
}

# --- server ------------------------------------------------------------------------------
start_server() {  # name
  local name=$1 dir=$WORK/$1
  rm -f "$WORK/$name.port"
  "$SOUK" serve --data-dir "$dir" --port 0 --port-file "$WORK/$name.port" --threads "$THREADS" \
    --set server.rate_limit_per_second=0 > "$WORK/$name.server.log" 2>&1 &
  SERVER_PID=$!
  local t0=$SECONDS
  while [[ ! -s $WORK/$name.port ]]; do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/$name.server.log"; die "souk serve ($name) exited at start"; }
    (( SECONDS - t0 < 300 )) || die "souk serve ($name) did not bind within 300 s"
    sleep 0.5
  done
  PORT=$(cat "$WORK/$name.port")
  KEY=$(cat "$WORK/$name.key")
  echo "souk serve ($name) pid $SERVER_PID on port $PORT, ready after $((SECONDS - t0)) s: $(curl -s "http://127.0.0.1:$PORT/healthz")"
}

stop_server() {  # name
  local name=$1
  kill -0 "$SERVER_PID" 2>/dev/null || die "souk serve ($name) died during the run (see $WORK/$name.server.log)"
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
  echo "server RSS at the end: $((rss / 1024)) MB"
  curl -s "http://127.0.0.1:$PORT/metrics" > "$RESULTS/$name.metrics.txt" || true
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  local errs
  errs=$(grep -c '"status":5[0-9][0-9]\|\berror\b' "$WORK/$name.server.log" || true)
  echo "server log: $(wc -l < "$WORK/$name.server.log") lines, $errs with a 5xx status or 'error'"
}

loadgen() {  # result-name, then load-gen options
  local name=$1
  shift
  local la
  la=$(cut -d' ' -f1 /proc/loadavg)
  "$LOADGEN" --port "$PORT" --key "$KEY" --label "$name" --json "$@" > "$RESULTS/$name.json.tmp"
  jq --arg la "$la" --arg cmd "souk_load_gen $*" '. + {load_average_before: ($la | tonumber), args: $cmd}' \
    "$RESULTS/$name.json.tmp" > "$RESULTS/$name.json"
  rm -f "$RESULTS/$name.json.tmp"
}

sweep() {  # name -> prints the max throughput
  local name=$1
  step "c. $name: closed-loop sweep, concurrency $LEVELS, ${SECONDS_PER_LEVEL} s each after ${WARMUP} s warm-up" >&2
  for c in $LEVELS; do
    loadgen "$name.c$c" --targets "$WORK/$name.targets" --concurrency "$c" --duration "$SECONDS_PER_LEVEL" \
      --warmup "$WARMUP" --rss-pid "$SERVER_PID" --sample-every 5 2>&1 >&2 | sed 's/^/  /' >&2
  done
  if [[ $CLOSE_SWEEP == 1 ]]; then
    step "c. $name: the same sweep with a new connection per request (--no-keep-alive)" >&2
    for c in $LEVELS; do
      loadgen "$name.c$c.close" --targets "$WORK/$name.targets" --concurrency "$c" --duration "$SECONDS_PER_LEVEL" \
        --warmup "$WARMUP" --no-keep-alive --rss-pid "$SERVER_PID" --sample-every 5 2>&1 >&2 | sed 's/^/  /' >&2
    done
  fi
  for c in $LEVELS; do jq .throughput_rps "$RESULTS/$name.c$c.json"; done | sort -g | tail -1
}

run_target() {  # name max-override
  local name=$1 override=$2
  start_server "$name"
  local max
  if [[ -n $override ]]; then
    max=$override
    echo "using the given max throughput $max req/s (no sweep)"
  else
    max=$(sweep "$name")
  fi
  echo "$max" > "$RESULTS/$name.max_rps"
  echo "$name: max throughput $max req/s"
  local half
  half=$(python3 -c "print(max(1.0, round($max * 0.5, 1)))")
  if [[ $DO_SWAP == 1 ]]; then
    local kind=reload
    if [[ $name == search && $SWAP_SEARCH == index ]]; then kind=index; fi
    if [[ $name == rec && $SWAP_REC == train ]]; then kind=recommender; fi
    if [[ $kind == reload ]]; then
      local count=$(( (SWAP_SECONDS - 10) / 10 ))
      (( count >= 1 )) || count=1
      step "d. $name: hot swap under load: open loop at $half req/s (50%) for $SWAP_SECONDS s, $count x POST /v1/admin/reload"
      loadgen "$name.swap" --targets "$WORK/$name.targets" --concurrency "$OPEN_CONC" --rate "$half" --duration "$SWAP_SECONDS" \
        --warmup "$WARMUP" --swap reload --swap-at 5 --swap-every 10 --swap-count "$count" --interval 5 \
        --rss-pid "$SERVER_PID" --sample-every 5 2>&1 >/dev/null | sed 's/^/  /'
    else
      step "d. $name: hot swap under load: open loop at $half req/s (50%), POST /v1/admin/train {\"kinds\":[\"$kind\"]}; the load stays on until the job swapped the new $kind in (at least $SWAP_SECONDS s)"
      loadgen "$name.swap" --targets "$WORK/$name.targets" --concurrency "$OPEN_CONC" --rate "$half" --duration "$SWAP_SECONDS" \
        --warmup "$WARMUP" --swap train --swap-at 5 --swap-body "{\"kinds\":[\"$kind\"]}" --extend-for-swap \
        --max-duration 1800 --interval 10 --rss-pid "$SERVER_PID" --sample-every 5 2>&1 >/dev/null | sed 's/^/  /'
    fi
  fi
  if [[ $name == search && $SOAK -gt 0 ]]; then
    local soak_rate
    soak_rate=$(python3 -c "print(max(1.0, round($max * 0.7, 1)))")
    step "e. soak: open loop at $soak_rate req/s (70%) for $SOAK s, server RSS every 10 s"
    loadgen "search.soak" --targets "$WORK/search.targets" --concurrency "$OPEN_CONC" --rate "$soak_rate" --duration "$SOAK" \
      --warmup "$WARMUP" --interval 60 --rss-pid "$SERVER_PID" --sample-every 10 2>&1 >/dev/null | sed 's/^/  /'
  fi
  stop_server "$name"
}

if [[ $ONLY == *search* ]]; then
  prepare_search
  run_target search "$MAX_SEARCH"
fi
if [[ $ONLY == *rec* ]]; then
  prepare_rec
  run_target rec "$MAX_REC"
fi

# --- summary --------------------------------------------------------------------------------
step "f. summary"
shopt -s nullglob
parts=("$RESULTS"/*.json)
SUMMARY=$WORK/summary.json
jq -s --arg version "$($SOUK version)" --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
  --argjson cores "$(nproc)" --argjson threads "$THREADS" \
  '{souk: $version, machine: {cores: $cores, cpu: $cpu, server_threads: $threads,
    note: "load generator and server share the same cores"},
    runs: (map({key: .label, value: .}) | from_entries)}' "${parts[@]}" > "$SUMMARY"

printf '%-12s %-6s %5s %9s %8s %8s %8s %8s %7s\n' run mode conc "req/s" "p50 ms" "p99 ms" "p99.9" "max ms" errors
jq -r '.runs | to_entries[] | .value |
  [.label, .mode, (.concurrency|tostring), (.throughput_rps|tostring), (.latency_ms.p50|tostring),
   (.latency_ms.p99|tostring), (.latency_ms.p999|tostring), (.latency_ms.max|tostring), (.errors|tostring)] | @tsv' \
  "$SUMMARY" | while IFS=$'\t' read -r l m c t p50 p99 p999 mx e; do
  printf '%-12s %-6s %5s %9s %8s %8s %8s %8s %7s\n' "$l" "$m" "$c" "$t" "$p50" "$p99" "$p999" "$mx" "$e"
done
jq -r '.runs | to_entries[] | .value | select(.swap) |
  "\(.label): during the swap \(.swap.during.requests) requests, \(.swap.during.errors) errors, p99 \(.swap.during.latency_ms.p99) ms (outside \(.swap.outside.latency_ms.p99) ms); swaps ok: \(.swap.all_ok)"' "$SUMMARY"
jq -r '.runs | to_entries[] | .value | select(.rss and (.label | test("soak"))) |
  "\(.label): RSS first \(.rss.first_mb) MB, last \(.rss.last_mb) MB, max \(.rss.max_mb) MB, slope \(.rss.slope_mb_per_hour) MB/h (second half \(.rss.slope_second_half_mb_per_hour) MB/h); errors \(.errors)"' "$SUMMARY"
if [[ -n $OUT ]]; then
  cp "$SUMMARY" "$OUT"
  echo "JSON: $OUT"
fi
