#!/usr/bin/env bash
# Lints openapi/openapi.yaml with Spectral (ruleset spectral:oas) and Redocly (recommended).
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
echo "lint-spec: spectral $spectral_version (spectral:oas)"
"$cache/node_modules/.bin/spectral" lint --fail-severity error -r "$cache/.spectral.yaml" "$root/openapi/openapi.yaml"
echo "lint-spec: redocly $redocly_version (recommended)"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  "$cache/node_modules/.bin/redocly" lint --extends recommended --format stylish "$root/openapi/openapi.yaml" 2>&1 |
  grep -v -e '^ *║' -e '^ *╔' -e '^ *╚' || true
# grep swallowed redocly's exit status; run it once more quietly for the verdict.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  "$cache/node_modules/.bin/redocly" lint --extends recommended --format summary "$root/openapi/openapi.yaml" >/dev/null 2>&1
