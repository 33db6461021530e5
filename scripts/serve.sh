#!/usr/bin/env bash
# Installs planlod and serves the dataset on the embedded store at http://127.0.0.1:8000/.
# Extra arguments go to `planlod serve` (e.g. --port 8080 --workers 4).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/planlod serve "$@"
