#!/usr/bin/env bash
# Install everything (the workbench into .venv, Debian's chromium when /usr/bin/chromium is
# missing), then run ruff and the whole pytest suite. Extra arguments go to pytest:
#
#   bash scripts/test.sh
#   bash scripts/test.sh -k "report or cli" -x
#   bash scripts/test.sh -m "not browser"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off

install_venv() {
    local python="${PYTHON:-python3}"
    if ! command -v "$python" >/dev/null; then
        echo "error: $python not found; install Python 3.11 or newer" >&2
        exit 1
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "error: Python 3.11 or newer needed, $python is $("$python" -V 2>&1)" >&2
        exit 1
    fi
    if ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
        echo "==> creating .venv"
        rm -rf .venv
        "$python" -m venv .venv
    fi
    local stamp=.venv/.workbench-install-stamp want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) $(.venv/bin/python -V 2>&1) [test]"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c 'import workbench' 2>/dev/null; then
        echo "==> .venv is up to date"
        return
    fi
    echo "==> installing workbench[test] into .venv (a few minutes the first time)"
    rm -f "$stamp"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[test]'
    echo "$want" >"$stamp"
}

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
