#!/usr/bin/env bash
# Regenerates docs/config.md from `souk config` (a test checks they agree).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/souk}
{
  echo "# Configuration"
  echo
  echo 'Every key, its default and meaning, as printed by `souk config` (generated from `src/common/config_schema.cc` by `scripts/gen_config_doc.sh`). Put any of them in a TOML file passed with `--config FILE`, or override one with `--set section.key=value`.'
  echo
  echo '```toml'
  "$BIN" config
  echo '```'
} > docs/config.md
