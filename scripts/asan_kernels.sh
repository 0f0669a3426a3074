#!/usr/bin/env bash
# Build workbench/_kernels.c with AddressSanitizer (and UndefinedBehaviorSanitizer) and run the
# kernel tests against that build: an out-of-bounds read of an Arrow view or buffer, a
# use-after-free or an overflow fails the run.  Called by scripts/test.sh (so by .ci/run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cc="${CC:-cc}"
out="$(mktemp -d)/wb_kernels_asan.so"
"$cc" -shared -fPIC -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
    -fno-sanitize-recover=all -I"$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \
    workbench/_kernels.c -o "$out"
asan="$("$cc" -print-file-name=libasan.so)"
ubsan="$("$cc" -print-file-name=libubsan.so)"
echo "==> kernel tests under AddressSanitizer ($out)"
WORKBENCH_KERNELS_LIBRARY="$out" LD_PRELOAD="$asan $ubsan" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_customer_scan.py \
    tests/test_properties.py -k "(compiled or scan or kernel or radix or order or summary) and not another_kernels_version"
