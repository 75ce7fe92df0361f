#!/usr/bin/env bash
# Sets up everything keyless's tests and demo need, from a bare Debian machine (run as root):
# Debian packages, npm dependencies, the build, and a running Docker engine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR="${KEYLESS_RUN_DIR:-$PWD/.test-run}"
mkdir -p "$RUN_DIR"
log() { printf 'setup: %s\n' "$*" >&2; }

# Debian packages: docker engine and CLIs, compose v1, awscli v2, ripgrep (bench reference), registry,
# chromium (page tests).
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have dockerd || need+=(docker.io)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /usr/bin/aws ] || need+=(awscli)
have docker-compose || need+=(docker-compose)
have rg || need+=(ripgrep)
have docker-registry || need+=(docker-registry)
have skopeo || need+=(skopeo)
have zstd || need+=(zstd)
have cc || need+=(gcc libc6-dev) # the scanner's native kernel (scripts/build-native.sh)
have htpasswd || need+=(apache2-utils)
have ip || need+=(iproute2)
have docker-credential-ecr-login || need+=(amazon-ecr-credential-helper)
have rootlesskit || need+=(rootlesskit)  # rootless Docker for the end-to-end setups (test/helpers/setups.ts)
have slirp4netns || need+=(slirp4netns)
have newuidmap || need+=(uidmap)
have wrk || need+=(wrk) # npm run bench: HTTP load for the server benches
[ -x /usr/bin/chromium ] || need+=(chromium) # a real browser for keyless ui's tests (puppeteer-core drives it)
have zsh || need+=(zsh)   # keyless completion's tests run the scripts in the real shells
have fish || need+=(fish)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing packages: ${need[*]}; run as root or install them (apt-get install ${need[*]})"
    exit 2
  fi
  log "installing ${need[*]}"
  apt-get update -qq >"$RUN_DIR/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >>"$RUN_DIR/apt.log" 2>&1 || {
    tail -20 "$RUN_DIR/apt.log" >&2
    exit 2
  }
fi
have moto_server || { log "moto_server is missing (pip install 'moto[server]')"; exit 2; }

# npm dependencies and the build.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund >"$RUN_DIR/npm.log" 2>&1 || { tail -20 "$RUN_DIR/npm.log" >&2; exit 2; }
fi
log "building"
npm run --silent build

# Docker engine.
if ! docker info >/dev/null 2>&1; then
  if [ "${KEYLESS_TEST_SKIP_DOCKER:-}" = 1 ]; then
    log "no Docker engine (KEYLESS_TEST_SKIP_DOCKER=1: Docker tests will be skipped)"
  else
    log "starting dockerd (log: $RUN_DIR/dockerd.log)"
    nohup dockerd >"$RUN_DIR/dockerd.log" 2>&1 &
    for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
    docker info >/dev/null 2>&1 || { tail -20 "$RUN_DIR/dockerd.log" >&2; log "dockerd did not start"; exit 2; }
  fi
fi
log "ready"
