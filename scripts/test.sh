#!/usr/bin/env bash
# Install everything (the workbench into .venv, Debian's chromium when /usr/bin/chromium is
# missing, Debian's openjdk-17-jre-headless for the Spark tests when java is missing), then run
# ruff and the whole pytest suite (the Spark tests included). Extra arguments go to pytest:
#
#   bash scripts/test.sh
#   bash scripts/test.sh -k "report or cli" -x
#   bash scripts/test.sh -m "not browser"
#   bash scripts/test.sh -m packaging   # the built wheel, installed into a fresh venv
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

install_java() {
    # PySpark (the engine parity tests, marked `spark`) needs a Java 17 runtime
    command -v java >/dev/null && return
    echo "==> installing Debian's openjdk-17-jre-headless (for the Spark tests)"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo -n"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    command -v java >/dev/null || { echo "error: java still missing" >&2; exit 1; }
}

install_venv
install_chromium
install_java

echo "==> ruff check"
.venv/bin/ruff check .

if [ "$#" -eq 0 ]; then  # the whole suite: also the kernels under AddressSanitizer
    bash scripts/asan_kernels.sh
fi

echo "==> pytest $*"
exec .venv/bin/python -m pytest "$@"
