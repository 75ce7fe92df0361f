#!/usr/bin/env bash
# The test command (npm test): sets up from a bare machine, checks types, lint and format, then runs
# every test (unit, integration with moto_server and a real Docker engine, end to end).
#   --unit   only the unit tests (no moto, no Docker)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Never reach a real metadata service or real AWS from a test.
export AWS_EC2_METADATA_DISABLED=true
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
  AWS_ENDPOINT_URL AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN KEYLESS_HOME KEYLESS_PASSPHRASE VAULT_ADDR VAULT_TOKEN \
  ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN AWS_OIDC_TOKEN || true
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

echo "== typecheck, lint, format" >&2
npx tsc -p tsconfig.json --noEmit
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }

# Only compiled tests whose TypeScript source still exists (dist/ may hold stale output locally).
mapfile -t files < <(find dist/src dist/test -name '*.test.js' | sort | while read -r f; do
  src="${f#dist/}"; [ -f "${src%.js}.ts" ] && echo "$f"; done)
if [ "${1:-}" = "--unit" ]; then
  mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v -E '/(integration|e2e)/')
fi
echo "== ${#files[@]} test files" >&2
exec node --test --test-concurrency="${KEYLESS_TEST_CONCURRENCY:-2}" --test-timeout=900000 --test-reporter=spec "${files[@]}"
