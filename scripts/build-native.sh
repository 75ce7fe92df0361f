#!/usr/bin/env bash
# Builds the scan kernel (native/scan_kernel.c, N-API) into dist/native/. Without a C compiler or
# Node's headers it says so and exits 0: keyless then uses the same search written in JavaScript
# (slower; `keyless scan --version-info` style diagnostics print which one runs).
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/native/keyless_scan_kernel.node
mkdir -p dist/native
cc=${CC:-cc}
inc=""
for d in "$(dirname "$(dirname "$(command -v node)")")/include/node" /usr/include/node /usr/local/include/node; do
  if [ -f "$d/node_api.h" ]; then inc=$d; break; fi
done
if ! command -v "$cc" >/dev/null 2>&1 || [ -z "$inc" ]; then
  echo "build-native: no C compiler or Node headers (node_api.h); the scanner will use its JavaScript search" >&2
  rm -f "$out"
  exit 0
fi
if [ "$out" -nt native/scan_kernel.c ] && [ "$out" -nt scripts/build-native.sh ]; then exit 0; fi
"$cc" -O3 -std=c11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
  -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=keyless_scan_kernel -I"$inc" \
  native/scan_kernel.c -o "$out.tmp"
mv "$out.tmp" "$out"
