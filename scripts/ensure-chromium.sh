#!/usr/bin/env bash
# The browser tests drive Debian's chromium through playwright-core (no browser download). Install it when it is
# missing and we may (root with apt-get); otherwise say exactly what to run.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "gradtrace: installing Debian's chromium for the browser tests (apt-get install -y chromium) …" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
else
  echo "gradtrace: the browser tests need Debian's chromium: run 'sudo apt-get install -y chromium'" >&2
  exit 1
fi
