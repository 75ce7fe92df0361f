#!/usr/bin/env bash
# The reliability soak (issue 21): npm run soak. SOAK_SECONDS sets the load per endpoint (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export AWS_EC2_METADATA_DISABLED=true AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL KEYLESS_HOME KEYLESS_PASSPHRASE || true
exec node dist/test/soak/soak.js
