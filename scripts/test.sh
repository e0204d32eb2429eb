#!/usr/bin/env bash
# Quick start, command 2: lint and run every test (browser tests need /usr/bin/chromium).
source "$(dirname "$0")/env.sh" "[dev]"
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests" >&2
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
ruff check .
exec python -m pytest "$@"
