#!/usr/bin/env bash
# Runs the tools people feed the vendor document (algoreg-kit spec) to, against the mock:
#   1. Prism's validating proxy (prism proxy --errors) in front of the mock, with the
#      contract suite as traffic: fails on any response of the mock that violates the
#      vendor document (and first proves, with a broken copy of the document, that such a
#      violation is detected);
#   2. Dredd: the document's 2xx transactions;
#   3. Specmatic: the document's paired examples (--strict).
# Pinned versions are installed from npm into a cache folder outside the repository on
# first use. Without npm or Java it skips, except under CI=true, where it fails. Every
# process it starts listens on a free port of 127.0.0.1 and is stopped on exit.
# The limitations of each tool (what is skipped and why) are in README.md ("Peer tools").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${ALGOREG_KIT_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/algoreg-kit}/peers
prism_version=5.16.0
dredd_version=14.1.0
specmatic_version=2.55.1
started=$SECONDS

skip_or_fail() { # reason
  if [ "${CI:-}" = true ]; then
    echo "peer-tools: CI=true: $1"
    exit 1
  fi
  echo "peer-tools: skipped: $1 (under CI=true this fails)"
  exit 0
}
command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || skip_or_fail "npm and node are needed"
java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || skip_or_fail "Java 17 or later is needed by Specmatic"

installed() { # package version
  grep -q "\"version\": \"$2\"" "$cache/node_modules/$1/package.json" 2>/dev/null
}
mkdir -p "$cache"
if ! installed @stoplight/prism-cli $prism_version || ! installed dredd $dredd_version || ! installed specmatic $specmatic_version; then
  echo "peer-tools: installing @stoplight/prism-cli@$prism_version dredd@$dredd_version specmatic@$specmatic_version into $cache"
  npm install --loglevel=error --no-audit --no-fund --prefix "$cache" \
    "@stoplight/prism-cli@$prism_version" "dredd@$dredd_version" "specmatic@$specmatic_version" >/dev/null ||
    skip_or_fail "npm install of the peer tools failed (above)"
fi
bin=$cache/node_modules/.bin

work=$(mktemp -d "${TMPDIR:-/tmp}/algoreg-peers.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
# wait_for FILE PATTERN WHAT PID: until FILE has PATTERN, at most 60 s.
wait_for() {
  for _ in $(seq 600); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { cat "$1"; echo "peer-tools: $3 exited before it was ready (above)"; exit 1; }
    sleep 0.1
  done
  cat "$1"; echo "peer-tools: $3 not ready after 60 s (above)"; exit 1
}

(cd "$root" && go build -o "$work/algoreg-kit" ./cmd/algoreg-kit)
"$work/algoreg-kit" spec > "$work/vendor.yaml"
printf 'username,password,business\npeer,peer-secret,peer-a\nother,other-secret,peer-b\napi-user@acme.example,s3cret,acme\n' > "$work/users.csv"
"$work/algoreg-kit" mock --addr 127.0.0.1:0 --users "$work/users.csv" > "$work/mock.log" 2>&1 &
pids+=($!)
wait_for "$work/mock.log" 'serving on http://' "the mock" "$!"
mock=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/mock.log" | head -1)
token=$(curl -sf -H 'Content-Type: application/json' \
  -d '{"grant_type":"password","username":"peer","password":"peer-secret"}' "$mock/api/v1/token" |
  sed -E 's/.*"access_token":"([^"]+)".*/\1/')
echo "peer-tools: the mock (--users) on $mock"

failed=()

# start_prism DOCUMENT LOG: a validating proxy in front of the mock, at $proxy. (Not in a
# command substitution: its subshell would keep the process out of pids, and cleanup.)
start_prism() {
  local port
  port=$(free_port)
  # --validate-request=false: the suite sends invalid requests on purpose (its negative
  # checks); Prism would answer them itself instead of passing them to the mock, whose
  # answers to them are what this run validates.
  "$bin/prism" proxy --errors --validate-request=false -h 127.0.0.1 -p "$port" "$1" "$mock" > "$2" 2>&1 &
  pids+=($!)
  wait_for "$2" 'Prism is listening' "prism" "$!"
  proxy="http://127.0.0.1:$port"
}

echo "== Prism $prism_version: its detection, on a copy of the document that the mock violates"
sed 's/enum: \[Bearer\]/enum: [NotBearer]/' "$work/vendor.yaml" > "$work/broken.yaml"
grep -q 'NotBearer' "$work/broken.yaml" || { echo "peer-tools: could not break the copy (TokenResponse token_type enum moved?)"; exit 1; }
start_prism "$work/broken.yaml" "$work/prism-broken.log"
if curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"grant_type":"password","username":"peer","password":"peer-secret"}' "$proxy/api/v1/token" | grep -qi '^sl-violations:'; then
  echo "peer-tools: Prism reports the violation of the broken copy"
else
  echo "peer-tools: Prism did not report a violation the mock makes of the broken copy: this run cannot be trusted"
  exit 1
fi

echo "== Prism $prism_version: prism proxy --errors in front of the mock, the contract suite as traffic"
start_prism "$work/vendor.yaml" "$work/prism.log"
# Skipped, as Prism's own limitations (README.md, "Peer tools"): Prism answers a request
# without credentials with its own 401 (no WWW-Authenticate), a body over its own limit
# with its own 413, and never answers a body that is not JSON (the request hangs).
prism_skip='^(negative/auth/no-credentials-401|negative/auth/token-malformed-400|transport/malformed-json-400|transport/oversized-body-413)$'
contract_status=0
ALGOREG_PASSWORD=peer-secret ALGOREG_CONTRACT_SECOND_USER=other ALGOREG_CONTRACT_SECOND_PASSWORD=other-secret \
  "$work/algoreg-kit" contract --target "$proxy" --user peer --skip "$prism_skip" > "$work/contract.out" 2>&1 || contract_status=$?
grep -E '^[0-9]+ checks:' "$work/contract.out" || true
forwarded=$(grep -c 'Received forward response' "$work/prism.log" || true)
violations=$(grep -c 'prism/errors#VIOLATIONS' "$work/prism.log" || true)
echo "peer-tools: Prism validated $forwarded responses of the mock: $violations violations of the vendor document"
if [ "$violations" != 0 ]; then
  grep -B3 'prism/errors#VIOLATIONS' "$work/prism.log" | head -40
  grep -A8 '^FAIL' "$work/contract.out" | head -80
  failed+=("prism: $violations violations")
fi
if [ "$forwarded" -lt 100 ]; then
  tail -20 "$work/contract.out"
  failed+=("prism: only $forwarded responses went through the proxy")
fi
if [ "$contract_status" != 0 ]; then
  grep -A8 '^FAIL' "$work/contract.out" | head -80
  failed+=("the contract suite through Prism failed (above)")
fi

echo "== Dredd $dredd_version: the vendor document's transactions against the mock"
dredd_status=0
(cd "$work" && "$bin/dredd" vendor.yaml "$mock" --user peer:peer-secret --hookfiles "$root/scripts/peer-tools/dredd-hooks.js" \
  --loglevel error --reporter dot) > "$work/dredd.out" 2>&1 || dredd_status=$?
sed 's/\x1b\[[0-9;]*m//g' "$work/dredd.out" | grep -E '^(complete|fail):' || true
if [ "$dredd_status" != 0 ] || ! grep -q ' 0 failing, 0 errors' "$work/dredd.out"; then
  sed 's/\x1b\[[0-9;]*m//g' "$work/dredd.out" | tail -60
  failed+=("dredd")
fi

echo "== Specmatic $specmatic_version: the vendor document's paired examples against the mock (--strict)"
# Specmatic reads a bearer token from the environment variable named as the scheme.
(cd "$work" && bearerAuth=$token "$bin/specmatic" test vendor.yaml --strict \
  --overlay-file "$root/scripts/peer-tools/specmatic-overlay.yaml" --testBaseURL "$mock") > "$work/specmatic.out" 2>&1 || true
# Specmatic's exit status does not say whether tests failed: read its summary.
summary=$(grep -E '^Tests run: ' "$work/specmatic.out" | tail -1 || true)
echo "peer-tools: specmatic: ${summary:-no summary}"
if ! echo "$summary" | grep -Eq '^Tests run: [1-9][0-9]*, Successes: [0-9]+, Failures: 0, WIP: 0, Errors: 0'; then
  grep -v '^\s*$' "$work/specmatic.out" | tail -60
  failed+=("specmatic")
fi

echo "peer-tools: $((SECONDS - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'peer-tools: FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "peer-tools: Prism, Dredd and Specmatic found no violation of the vendor document"
