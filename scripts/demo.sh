#!/usr/bin/env bash
# The quick start's main job: from a fresh machine to a real container that gets an assumed role from
# keyless, with no key in its env, image or mounts. Uses your AWS profile when KEYLESS_DEMO_PROFILE
# names one; otherwise a local AWS API (moto_server) seeded with a user, its key and a role.
# Never lets the engine reach for an outside registry (local images, --pull never). Cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export AWS_EC2_METADATA_DISABLED=true AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
REPO=$PWD
KEYLESS="node $REPO/dist/bin/keyless.js"
WORK=$(mktemp -d /tmp/keyless-demo.XXXXXX)
export KEYLESS_HOME=$WORK/keyless HOME_SAVED=$HOME
export KEYLESS_PASSPHRASE=$(head -c 24 /dev/urandom | base64)
PY=$(python3 -c 'import sys;print(sys.base_prefix)')
MOUNTS="-v /usr:/usr:ro -v /lib:/lib:ro -v /lib64:/lib64:ro -v /bin:/bin:ro -v /etc:/etc:ro -v $PY:$PY:ro"
created_network=0 moto_pid= route_added=0
cleanup() {
  $KEYLESS serve --stop >/dev/null 2>&1 || true
  docker rm -f keyless-demo >/dev/null 2>&1 || true
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
  [ "$created_network" = 1 ] && docker network rm keyless >/dev/null 2>&1 || true
  [ "$route_added" = 1 ] && ip route del blackhole 169.254.170.2/32 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

# An empty image that borrows the host's programs read-only (no registry involved).
if ! docker image inspect local/hostbase:latest >/dev/null 2>&1; then
  mkdir -p "$WORK/empty" && tar -C "$WORK/empty" -c . | docker import - local/hostbase:latest >/dev/null
fi

if [ -n "${KEYLESS_DEMO_PROFILE:-}" ]; then
  say "using your AWS profile $KEYLESS_DEMO_PROFILE (keys from your keyless vault)"
  export KEYLESS_HOME=${KEYLESS_DEMO_HOME:-$HOME_SAVED/.keyless}
  unset KEYLESS_PASSPHRASE
  PROFILE=$KEYLESS_DEMO_PROFILE
  ENDPOINT_ENV=()
else
  say "no profile named: using a local AWS API (moto_server, signature checks on)"
  # nothing may leave this machine: drop packets to 169.254.170.2 until it is a local address
  ip route add blackhole 169.254.170.2/32 2>/dev/null && route_added=1 || true
  if ! docker network inspect keyless >/dev/null 2>&1; then
    docker network create --internal --driver bridge --subnet 169.254.170.0/24 --gateway 169.254.170.2 keyless >/dev/null
    created_network=1
  fi
  PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("169.254.170.2",0));print(s.getsockname()[1])')
  INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 169.254.170.2 -p "$PORT" >"$WORK/moto.log" 2>&1 &
  moto_pid=$!
  for _ in $(seq 1 100); do (echo >"/dev/tcp/169.254.170.2/$PORT") 2>/dev/null && break; sleep 0.1; done
  export AWS_ENDPOINT_URL=http://169.254.170.2:$PORT AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_CONFIG_FILE=$WORK/aws-config AWS_SHARED_CREDENTIALS_FILE=$WORK/aws-credentials
  : >"$AWS_SHARED_CREDENTIALS_FILE"
  # seed: a user with a key and a policy (the free requests), then a role (signed by that user)
  read -r KEY_ID KEY_SECRET ROLE_ARN < <(python3 - <<'PYEOF'
import boto3, json, os
u = os.environ["AWS_ENDPOINT_URL"]
iam = boto3.client("iam", endpoint_url=u, aws_access_key_id="free-request", aws_secret_access_key="x" * 40)
iam.create_user(UserName="demo")
k = iam.create_access_key(UserName="demo")["AccessKey"]
iam.put_user_policy(UserName="demo", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
signed = boto3.client("iam", endpoint_url=u, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
r = signed.create_role(RoleName="demo-app", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
print(k["AccessKeyId"], k["SecretAccessKey"], r)
PYEOF
)
  printf '[profile base]\nregion = us-east-1\n\n[profile demo]\nrole_arn = %s\nsource_profile = base\n' "$ROLE_ARN" >"$AWS_CONFIG_FILE"
  say "keyless add base --env   (the long-term key goes into the encrypted vault, nowhere else)"
  AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$KEY_SECRET $KEYLESS add base --env
  unset KEY_SECRET
  $KEYLESS list
  PROFILE=demo
  ENDPOINT_ENV=(-e AWS_EC2_METADATA_DISABLED=true -e "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL")
fi

say "keyless run --profile $PROFILE -- ... aws sts get-caller-identity   (inside a container)"
# shellcheck disable=SC2086
$KEYLESS run --profile "$PROFILE" -- --rm --pull never $MOUNTS "${ENDPOINT_ENV[@]}" local/hostbase \
  "$PY/bin/python3" -m awscli sts get-caller-identity --output json

say "docker inspect of a keyless container: no key, no token"
# shellcheck disable=SC2086
$KEYLESS run --profile "$PROFILE" -- -d --name keyless-demo --pull never $MOUNTS "${ENDPOINT_ENV[@]}" local/hostbase /bin/sleep 60 >/dev/null
docker exec keyless-demo "$PY/bin/python3" -m awscli sts get-caller-identity --query Arn --output text >/dev/null
if docker inspect keyless-demo | grep -Eq 'AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|ASIA[A-Z0-9]{16}|AKIA[A-Z0-9]{16}'; then
  echo "docker inspect shows an AWS secret: this should never happen" >&2
  exit 1
fi
docker inspect keyless-demo --format '{{range .Config.Env}}{{println .}}{{end}}' | grep '^AWS_' >&2
echo "docker inspect keyless-demo: only the credentials URI above, no AWS key or token" >&2
say "done; cleaning up"
