#!/usr/bin/env bash
# Browser tests drive Debian's `chromium` (never a browser that Playwright downloads). Install it when missing and
# we can (root with apt-get); otherwise say so: the browser tests then skip with that message.
set -uo pipefail
if command -v chromium >/dev/null 2>&1 || [ -n "${DRAGONREC_CHROMIUM:-}" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests (once)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "could not install chromium: browser tests will be skipped"
else
    echo "no chromium and no root apt-get: browser tests will be skipped (apt-get install chromium)"
fi
exit 0
