#!/usr/bin/env bash
# Installs the Debian packages Souk needs. Idempotent: when every package is
# already installed it does nothing (no apt-get update, no network).
# Uses sudo only when not running as root.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev            # libFuzzer targets and the ASan/UBSan build
  # libraries
  libsqlite3-dev sqlite3              # store (sqlite3 CLI is the import peer in bench/)
  libsimdjson-dev nlohmann-json3-dev  # JSONL reading, JSON output
  libicu-dev libopencc-dev opencc     # text normalization, segmentation, trad->simp
  libxapian-dev                       # Snowball stemmers (text/), lexical index (index/)
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libfaiss-dev libopenblas-dev        # vector index (index/)
  libeigen3-dev                       # EASE collaborative filter (recommend/)
  libxgboost-dev xgboost              # learning-to-rank and intent models (rank/); the CMake config needs the binary
  python3-xapian                      # the Xapian BM25 latency peer in bench/
  libtorch-dev                        # BERT encoders, pre-training and fine-tuning (lm/)
  python3-torch                       # independent reference for encoder parity tests and the throughput peer
  libcpp-httplib-dev libssl-dev       # HTTPS model download (lm/), later the HTTP API; SHA-256 (common/)
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium                            # the web console's end-to-end tests (playwright-core drives it)
  fonts-wqy-zenhei                    # CJK glyphs for the console's Chinese screenshots
)
# The web console is built with Node.js + npm (packages pinned in console/package-lock.json,
# fetched from the npm registry). Use the machine's Node.js when it has one (Vite 7 needs
# Node >= 20.19); otherwise Debian's.
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
