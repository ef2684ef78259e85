#!/usr/bin/env bash
# Import throughput: `souk import` (validating, deduplicating, indexed, durable
# batches) versus the peer `sqlite3 .import` of the same events.csv into a plain
# table, in the same run on the same file.
# Usage: bench/import_bench.sh [build-dir]   (EVENTS=10000000 by default)
set -euo pipefail
BUILD=${1:-build}
EVENTS=${EVENTS:-10000000}
ITEMS=${ITEMS:-1000000}
USERS=${USERS:-300000}
WORK=${WORK:-/tmp/souk-import-bench}
GEN=$WORK/gen
mkdir -p "$WORK"
if [[ ! -f $GEN/ground_truth/manifest.json ]] || ! grep -q "\"events_target\": *$EVENTS" "$GEN/ground_truth/manifest.json"; then
  rm -rf "$GEN"
  "$BUILD/souk" generate --items "$ITEMS" --users "$USERS" --days 60 --events-target "$EVENTS" \
    --seed 1 --holdout-days 0 --out "$GEN" --progress off --json > "$WORK/gen.json"
fi
ROWS=$(($(wc -l < "$GEN/events.csv") - 1))
SIZE=$(du -h "$GEN/events.csv" | cut -f1)
echo "events.csv: $ROWS rows, $SIZE"

timed() {  # timed LABEL CMD... -> prints seconds and peak RSS
  local log; log=$(mktemp)
  /usr/bin/time -v "${@:2}" > /dev/null 2> "$log" || { cat "$log"; exit 1; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  echo "$1 $(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }') $((rss / 1024))"
  rm -f "$log"
}

# Peer: sqlite3's CSV import into a plain table (no validation, no indexes).
rm -f "$WORK/peer.db"
read -r _ peer_s peer_mb < <(timed peer sqlite3 "$WORK/peer.db" -cmd ".mode csv" ".import $GEN/events.csv events")
peer_rows=$(sqlite3 "$WORK/peer.db" "select count(*) from events")

# Souk: catalog and users first (not timed), then the events file alone.
rm -rf "$WORK/souk"
"$BUILD/souk" import --data-dir "$WORK/souk" --format souk --progress off "$GEN/items.jsonl" "$GEN/users.jsonl" > /dev/null
read -r _ souk_s souk_mb < <(timed souk "$BUILD/souk" import --data-dir "$WORK/souk" --format souk --progress off --json "$GEN/events.csv")
souk_rows=$(sqlite3 "$WORK/souk/souk.db" "select count(*) from events")

awk -v r="$ROWS" -v ps="$peer_s" -v pm="$peer_mb" -v pr="$peer_rows" -v ss="$souk_s" -v sm="$souk_mb" -v sr="$souk_rows" 'BEGIN {
  printf "%-34s %10s %12s %10s %10s\n", "system", "seconds", "rows/s", "rows", "peak MiB";
  printf "%-34s %10.1f %12.0f %10d %10d\n", "sqlite3 .import (plain table)", ps, r / ps, pr, pm;
  printf "%-34s %10.1f %12.0f %10d %10d\n", "souk import (validated, indexed)", ss, r / ss, sr, sm;
  printf "souk / peer rate: %.2f\n", (r / ss) / (r / ps);
}'
