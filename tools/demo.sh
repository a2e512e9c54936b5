#!/usr/bin/env bash
# `make demo`: the provider against a local Secrets Manager, then state-scrubber on a legacy state.
#
#  1. start moto_server (a local Secrets Manager) on a free loopback port;
#  2. install the built provider into a filesystem mirror, `terraform init && terraform apply`
#     examples/quickstart with a freshly generated password;
#  3. show that the password is in Secrets Manager and nowhere in the plan, the state or
#     `terraform show -json`;
#  4. `state-scrubber audit` a legacy state full of plaintext secrets, `scrub` it (dry run, then
#     --write into the local Secrets Manager) and audit the result;
#  5. stop moto_server, whatever happened.
#
# Nothing here prints the password.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
export PATH="$ROOT/tools:$PATH"
PROVIDER_BIN="${OFFSTATE_PROVIDER_BIN:-$ROOT/target/release/terraform-provider-offstate}"
SCRUBBER_BIN="$ROOT/target/release/state-scrubber"
DEMO="${OFFSTATE_DEMO_DIR:-$ROOT/target/demo}"
VERSION="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1)"

# Bold step titles on a terminal only (NO_COLOR and TERM=dumb honoured, as state-scrubber does):
# `make demo > demo.log` or a CI log gets no escape codes.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != dumb ]; then
  BOLD=$'\033[1m' PLAIN=$'\033[0m'
else
  BOLD='' PLAIN=''
fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"; }
note() { printf '    %s\n' "$*"; }

[ -x "$PROVIDER_BIN" ] || { echo "demo: $PROVIDER_BIN is missing; run 'make demo' (it builds first)" >&2; exit 1; }
[ -x "$SCRUBBER_BIN" ] || { echo "demo: $SCRUBBER_BIN is missing; run 'make demo' (it builds first)" >&2; exit 1; }

# One demo at a time in this checkout: a second one started meanwhile (another terminal, the
# e2e suite's test_demo.py) removed the first one's directory under it, its terraform working
# directory and moto log included, and the first one failed halfway. A directory as the lock
# (mkdir is atomic, and works on macOS, which has no flock), with the owner's pid; one whose
# owner is gone is taken over.
LOCK="$DEMO.lock"
mkdir -p "$(dirname "$DEMO")"
if ! mkdir "$LOCK" 2>/dev/null; then
  OWNER="$(cat "$LOCK/pid" 2>/dev/null || true)"
  if [ -z "$OWNER" ] || kill -0 "$OWNER" 2>/dev/null; then
    echo "demo: another demo${OWNER:+ (pid $OWNER)} is running in this checkout ($DEMO); wait for it to end (if none is, remove $LOCK)" >&2
    exit 1
  fi
  rm -rf "$LOCK"
  mkdir "$LOCK"
fi
echo "$$" >"$LOCK/pid"

rm -rf "$DEMO"
mkdir -p "$DEMO"
chmod 700 "$DEMO"

# --- 1. local Secrets Manager ---------------------------------------------------------------
step "Starting a local Secrets Manager (moto_server) on 127.0.0.1"
MOTO_PID=""
cleanup() {
  local rc=$?
  if [ -n "$MOTO_PID" ] && kill -0 "$MOTO_PID" 2>/dev/null; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    echo "    stopped moto_server (pid $MOTO_PID)"
  fi
  rm -rf "$LOCK"
  exit "$rc"
}
trap cleanup EXIT INT TERM

PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
if command -v moto_server >/dev/null 2>&1; then
  moto_server -H 127.0.0.1 -p "$PORT" >"$DEMO/moto.log" 2>&1 &
else
  "$PYTHON" -m moto.server -H 127.0.0.1 -p "$PORT" >"$DEMO/moto.log" 2>&1 &
fi
MOTO_PID=$!
ENDPOINT="http://127.0.0.1:$PORT"
for _ in $(seq 1 150); do
  if "$PYTHON" -c "import urllib.request,sys; urllib.request.urlopen('$ENDPOINT/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$MOTO_PID" 2>/dev/null || { echo "moto_server died; see $DEMO/moto.log" >&2; exit 1; }
  sleep 0.2
done
note "endpoint: $ENDPOINT (pid $MOTO_PID)"

# Dummy credentials: moto accepts anything, and nothing here may reach real AWS.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SECRETS_MANAGER || true
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0

# --- 2. provider from a filesystem mirror, init + apply ----------------------------------------
step "Installing the provider into a filesystem mirror; terraform init && terraform apply"
case "$(uname -m)" in
  x86_64 | amd64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) ARCH="$(uname -m)" ;;
esac
PLATFORM="$(uname -s | tr '[:upper:]' '[:lower:]')_$ARCH"
MIRROR="$DEMO/mirror"
PKG="$MIRROR/registry.terraform.io/offstate/offstate/$VERSION/$PLATFORM"
mkdir -p "$PKG"
cp "$PROVIDER_BIN" "$PKG/terraform-provider-offstate_v$VERSION"
cat >"$DEMO/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/offstate/offstate"]
  }
  direct {
    exclude = ["registry.terraform.io/offstate/offstate"]
  }
}
EOF
export TF_CLI_CONFIG_FILE="$DEMO/terraformrc"
note "$(terraform version | head -n1) with offstate/offstate v$VERSION ($PLATFORM)"

WORK="$DEMO/quickstart"
mkdir -p "$WORK"
cp "$ROOT/examples/quickstart/"*.tf "$WORK/"
# A fresh password, handed over through an ephemeral variable; never printed.
TF_VAR_db_password="$("$PYTHON" -c 'import secrets; print("demo-" + secrets.token_urlsafe(24))')"
export TF_VAR_db_password TF_VAR_endpoint="$ENDPOINT"

cd "$WORK"
terraform init -input=false -no-color | sed 's/^/    /'
terraform plan -input=false -no-color -out=demo.tfplan | sed 's/^/    /'
terraform apply -input=false -no-color demo.tfplan | sed 's/^/    /'

# --- 3. where the password is, and where it is not ----------------------------------------------
step "The state has no value: terraform show -json"
terraform show -json >show-state.json
terraform show -json demo.tfplan >show-plan.json
"$PYTHON" - <<'EOF'
import json
state = json.load(open("show-state.json"))
for r in state["values"]["root_module"]["resources"]:
    if r["type"] == "offstate_secret":
        v = r["values"]
        print(f"    {r['address']}:")
        for k in ("name", "arn", "version_id", "value_wo_version", "value_wo"):
            print(f"      {k:<17}= {json.dumps(v.get(k))}")
        assert v.get("value_wo") is None, "value_wo must be null in the state"
EOF

"$PYTHON" - "$ENDPOINT" <<'EOF'
import base64, glob, hmac, json, os, sys, zipfile
import boto3

pw = os.environ["TF_VAR_db_password"]
needles = [pw.encode(), base64.b64encode(pw.encode())[:-4]]
def count(data):
    return sum(data.count(n) for n in needles)
places = {}
for path in ["terraform.tfstate", "terraform.tfstate.backup", "show-state.json", "show-plan.json"]:
    if os.path.exists(path):
        places[path] = count(open(path, "rb").read())
with zipfile.ZipFile("demo.tfplan") as z:
    places["demo.tfplan (every zip member)"] = sum(count(z.read(n)) for n in z.namelist())
for path, n in places.items():
    print(f"    {'ok ' if n == 0 else 'LEAK'} password occurrences in {path}: {n}")

state = json.load(open("terraform.tfstate"))
arn = next(r for r in state["resources"] if r["type"] == "offstate_secret")["instances"][0]["attributes"]["arn"]
sm = boto3.client("secretsmanager", endpoint_url=sys.argv[1], region_name=os.environ["AWS_REGION"])
stored = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
same = hmac.compare_digest(stored["password"].encode(), pw.encode())
print(f"    {'ok ' if same else 'FAIL'} Secrets Manager holds the password (compared, not printed)")
sys.exit(0 if same and not any(places.values()) else 1)
EOF
cd "$ROOT"

# --- 4. state-scrubber on a legacy state -----------------------------------------------------
step "state-scrubber: audit a legacy state with plaintext secrets"
LEGACY="$DEMO/legacy-state/terraform.tfstate"
"$PYTHON" "$ROOT/examples/legacy-state/generate_state.py" "$LEGACY" | sed 's/^/    /'

# `scrubber WANT LINES WHAT ARGS...`: runs state-scrubber ARGS, shows its output indented (only
# the last LINES lines, or all), and stops the demo with exit 1 unless it exits WANT (0 clean,
# 1 findings, 2 error).
scrubber() {
  local want="$1" lines="$2" what="$3" rc
  shift 3
  set +e
  if [ "$lines" = all ]; then
    AWS_ENDPOINT_URL_SECRETS_MANAGER="$ENDPOINT" "$SCRUBBER_BIN" "$@" | sed 's/^/    /'
  else
    AWS_ENDPOINT_URL_SECRETS_MANAGER="$ENDPOINT" "$SCRUBBER_BIN" "$@" | tail -n "$lines" | sed 's/^/    /'
  fi
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" != "$want" ]; then
    echo "demo: $what exited $rc, expected $want" >&2
    exit 1
  fi
  note "$what exit code: $rc, as expected"
}

scrubber 1 all "audit of the legacy state (1: findings)" audit "$LEGACY"

step "state-scrubber: scrub the legacy state (dry run: nothing is written)"
scrubber 0 all "scrub (dry run)" scrub "$LEGACY" --prefix offstate-demo/legacy/

step "state-scrubber: scrub --write (values to the local Secrets Manager, state rewritten to references)"
scrubber 0 3 "scrub --write" scrub "$LEGACY" --prefix offstate-demo/legacy/ --write

step "state-scrubber: audit the scrubbed state"
scrubber 0 all "audit of the scrubbed state (0: no plaintext secret left)" audit "$LEGACY"

step "Done. Work files are in ${DEMO#"$ROOT/"}/"
