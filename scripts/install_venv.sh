# Shared by scripts/serve.sh and scripts/test.sh (sourced, not run): install_venv creates .venv
# and installs workbench[test] into it when pyproject.toml, setup.py, the kernels' C source or the
# Python version changed.

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
    want="$(cat pyproject.toml setup.py workbench/native/_kernels.c | sha256sum | cut -d' ' -f1) $(.venv/bin/python -V 2>&1) [test]"
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
