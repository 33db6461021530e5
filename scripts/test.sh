#!/usr/bin/env bash
# Installs planlod with its test tools and runs the whole test suite (lint first, then pytest).
# Extra arguments go to pytest (e.g. -k pages, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
.venv/bin/ruff check server tests bench
exec .venv/bin/python -m pytest "$@"
