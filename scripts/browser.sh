#!/usr/bin/env bash
# Headless Chromium for the browser test of the API docs (tests/ops/test_docs_browser.py).
#
#   bash scripts/browser.sh     make sure Debian's `chromium` (at /usr/bin/chromium) and a CJK
#                               font (`fonts-wqy-microhei`, so screenshots show the Chinese
#                               text) are installed; installs them with apt-get when missing.
#
# Called by `make test`. It never fails the caller: where the packages cannot be installed
# (not Debian/Ubuntu, no root or sudo, no network) it says why on stderr and the browser test
# skips with that reason. Playwright drives this browser; it downloads no browser of its own.
set -uo pipefail

CHROMIUM="${OUTFIELD_CHROMIUM:-/usr/bin/chromium}"

log() { printf 'browser.sh: %s\n' "$*" >&2; }

missing=()
if ! [ -x "$CHROMIUM" ]; then
    missing=(chromium fonts-wqy-microhei)
elif ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
    missing=(fonts-wqy-microhei)
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! [ -r /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
    log "cannot install ${missing[*]} (not Debian/Ubuntu); the docs browser test will skip"
    exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        log "cannot install ${missing[*]} (not root, no sudo); the docs browser test will skip"
        exit 0
    fi
fi
log "apt-get install -y ${missing[*]}"
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2; then
    log "apt-get update, then retry"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2 ||
        log "apt-get install ${missing[*]} failed; the docs browser test will skip"
fi
exit 0
