#!/usr/bin/env bash
# Build workbench/native/_kernels.c with AddressSanitizer (and UndefinedBehaviorSanitizer) and run the
# kernel tests against that build: an out-of-bounds read of an Arrow view or buffer, a
# use-after-free or an overflow fails the run.  tests/test_kernel_boundary.py hands the kernels
# malformed Arrow arrays (views past their buffer, buffer indices out of range, wrong formats,
# offsets, released structs): they must be refused with an error before any byte is read.
# Called by scripts/test.sh (so by .ci/run); takes about a minute.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cc="${CC:-cc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="$tmp/wb_kernels_asan.so"
"$cc" -shared -fPIC -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
    -fno-sanitize-recover=all -I"$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \
    workbench/native/_kernels.c -o "$out"
asan="$("$cc" -print-file-name=libasan.so)"
ubsan="$("$cc" -print-file-name=libubsan.so)"
echo "==> kernel tests under AddressSanitizer ($out)"
# PYTHONMALLOC=malloc and Arrow's system pool put Python's and pyarrow's buffers in malloc'd
# blocks of their own, so that a read one byte past one of them is caught (Polars' own buffers
# come from its allocator, which AddressSanitizer does not see); --capture=sys leaves its report
# on the job's stderr.
PYTHONMALLOC=malloc ARROW_DEFAULT_MEMORY_POOL=system \
WORKBENCH_KERNELS_LIBRARY="$out" LD_PRELOAD="$asan $ubsan" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    .venv/bin/python -m pytest -q --capture=sys -p no:cacheprovider tests/test_kernel_boundary.py \
    tests/test_customer_scan.py tests/test_properties.py \
    -k "(boundary or compiled or scan or kernel or radix or order or summary) and not another_kernels_version"
