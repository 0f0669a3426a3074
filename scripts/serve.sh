#!/usr/bin/env bash
# Install the workbench into .venv (when pyproject.toml changed since the last install), then
# serve the Voilà dashboards on a loopback port and print their URLs.
#
#   bash scripts/serve.sh                 # http://127.0.0.1:8866/voila/render/<dashboard>.ipynb
#   bash scripts/serve.sh --port 0        # any free port; other options: workbench serve --help
#
# Reports: .venv/bin/workbench report   (or `workbench report` with .venv activated)
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

install_venv
echo "==> reports: .venv/bin/workbench report   (options: .venv/bin/workbench report --help)"
exec .venv/bin/workbench serve "$@"
