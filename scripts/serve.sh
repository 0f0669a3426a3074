#!/usr/bin/env bash
# Install the workbench into .venv (when pyproject.toml changed since the last install), then
# serve the Voilà dashboards on a loopback port and print their URLs.
#
#   bash scripts/serve.sh                 # http://127.0.0.1:8866/voila/render/<dashboard>.ipynb
#   bash scripts/serve.sh --port 0        # any free port; other options: workbench serve --help
#   bash scripts/serve.sh --host 0.0.0.0  # every interface: a token is required; one is
#                                         # generated and printed with the URLs unless --token
#                                         # is given (--no-token opts out, with a warning)
#   bash scripts/serve.sh --viewers 15    # keep 15 kernels ready (default: from cores and memory)
#
# Before printing the URL, serve computes the default view into the results cache
# (.workbench-cache/ in the data folder; --cache-dir elsewhere, --no-warm to skip).
#
# Reports: .venv/bin/workbench report   (or `workbench report` with .venv activated)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/install_venv.sh

install_venv
echo "==> reports: .venv/bin/workbench report   (options: .venv/bin/workbench report --help)"
exec .venv/bin/workbench serve "$@"
