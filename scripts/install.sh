#!/usr/bin/env bash
# Installs planlod into .venv on a fresh Debian machine, with the system packages it needs:
# graphviz + a Japanese font draw the 体系図; chromium only for the browser tests (--test).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v dot >/dev/null || packages+=(graphviz)
fc-list 2>/dev/null | grep -qi "IPAGothic" || packages+=(fonts-ipafont-gothic)
if [ "${1:-}" = "--test" ]; then
    command -v chromium >/dev/null || packages+=(chromium)
fi
if [ ${#packages[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "--test" ]; then
    .venv/bin/python -m pip install -q -e '.[test]'
else
    .venv/bin/python -m pip install -q -e .
fi
