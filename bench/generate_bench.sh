#!/usr/bin/env bash
# Times `souk generate` at 1M items / 10M events and reports wall time and peak RSS.
# Usage: bench/generate_bench.sh [build-dir] [out-dir]
# Run it at full size at most once per change: it writes ~2.5 GB and takes minutes.
set -euo pipefail
BUILD=${1:-build}
OUT=${2:-/tmp/souk-gen-bench}
ITEMS=${ITEMS:-1000000}
USERS=${USERS:-300000}
DAYS=${DAYS:-60}
EVENTS=${EVENTS:-10000000}
rm -rf "$OUT"
LOG=$(mktemp)
/usr/bin/time -v "$BUILD/souk" generate --items "$ITEMS" --users "$USERS" --days "$DAYS" \
  --events-target "$EVENTS" --seed 1 --out "$OUT" --json --progress lines 2> "$LOG" > "$LOG.json"
wall=$(grep "Elapsed (wall clock)" "$LOG" | awk '{print $NF}')
rss_kb=$(grep "Maximum resident set size" "$LOG" | awk '{print $NF}')
echo "souk generate: items=$ITEMS users=$USERS days=$DAYS events_target=$EVENTS"
echo "  summary: $(cat "$LOG.json")"
echo "  wall time: $wall"
echo "  peak RSS: $((rss_kb / 1024)) MiB"
echo "  output size: $(du -sh "$OUT" | cut -f1)"
rm -f "$LOG" "$LOG.json"
if [[ "${KEEP:-0}" != "1" ]]; then rm -rf "$OUT"; fi
