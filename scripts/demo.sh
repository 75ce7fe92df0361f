#!/usr/bin/env bash
# The quick start's main job (issue 11 fills this in).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "demo: not written yet" >&2
