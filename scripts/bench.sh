#!/usr/bin/env bash
# Benchmarks: each reports a ratio against a reference measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export AWS_EC2_METADATA_DISABLED=true AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
for b in dist/bench/*.js; do
  [ -f "$b" ] || continue
  [ -n "${1:-}" ] && [[ "$b" != *"$1"* ]] && continue
  echo "== $b" >&2
  node "$b"
done
