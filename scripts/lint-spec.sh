#!/usr/bin/env bash
# Lints both documents with Spectral (ruleset spectral:oas) and Redocly (recommended): the
# full one, openapi/openapi.yaml (algoreg-kit spec --mock), and the vendor's contract derived
# from it (algoreg-kit spec).
# Installs pinned versions from npm into a cache folder outside the repository on first use.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${ALGOREG_KIT_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/algoreg-kit/lint}
spectral_version=6.16.3
redocly_version=2.77.0
mkdir -p "$cache"
if [ ! -x "$cache/node_modules/.bin/spectral" ] || [ ! -x "$cache/node_modules/.bin/redocly" ] ||
   ! grep -q "\"version\": \"$spectral_version\"" "$cache/node_modules/@stoplight/spectral-cli/package.json" 2>/dev/null ||
   ! grep -q "\"version\": \"$redocly_version\"" "$cache/node_modules/@redocly/cli/package.json" 2>/dev/null; then
  echo "lint-spec: installing @stoplight/spectral-cli@$spectral_version and @redocly/cli@$redocly_version into $cache"
  npm install --silent --no-audit --no-fund --prefix "$cache" \
    "@stoplight/spectral-cli@$spectral_version" "@redocly/cli@$redocly_version" >/dev/null
fi
printf 'extends: ["spectral:oas"]\n' > "$cache/.spectral.yaml"
vendor=$(mktemp "${TMPDIR:-/tmp}/algoreg-vendor.XXXXXX.yaml")
trap 'rm -f "$vendor"' EXIT
(cd "$root" && go run ./cmd/algoreg-kit spec) > "$vendor"
for doc in "$root/openapi/openapi.yaml" "$vendor"; do
  name="full document (spec --mock)"
  [ "$doc" = "$vendor" ] && name="vendor document (spec)"
  echo "lint-spec: spectral $spectral_version (spectral:oas), $name"
  "$cache/node_modules/.bin/spectral" lint --fail-severity error -r "$cache/.spectral.yaml" "$doc"
  echo "lint-spec: redocly $redocly_version (recommended), $name"
  REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    "$cache/node_modules/.bin/redocly" lint --extends recommended --format stylish "$doc" 2>&1 |
    grep -v -e '^ *║' -e '^ *╔' -e '^ *╚' || true
  # grep swallowed redocly's exit status; run it once more quietly for the verdict.
  REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    "$cache/node_modules/.bin/redocly" lint --extends recommended --format summary "$doc" >/dev/null 2>&1
done
