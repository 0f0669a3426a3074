#!/usr/bin/env bash
# Install everything (the workbench into .venv, Debian's chromium when /usr/bin/chromium is
# missing), then run ruff and the whole pytest suite. Extra arguments go to pytest:
#
#   bash scripts/test.sh
#   bash scripts/test.sh -k "report or cli" -x
#   bash scripts/test.sh -m "not browser"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/install_venv.sh

install_chromium() {
    [ -x /usr/bin/chromium ] && return
    echo "==> installing Debian's chromium (for the browser tests)"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo -n"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq chromium >/dev/null
    [ -x /usr/bin/chromium ] || { echo "error: /usr/bin/chromium still missing" >&2; exit 1; }
}

install_venv
install_chromium

echo "==> ruff check"
.venv/bin/ruff check .

echo "==> pytest $*"
exec .venv/bin/python -m pytest "$@"
