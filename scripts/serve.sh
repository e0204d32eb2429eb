#!/usr/bin/env bash
# Quick start, command 1: serve the web UI on the embedded store with the bundled data.
source "$(dirname "$0")/env.sh" ""
exec ckb serve --host "${CKB_HOST:-127.0.0.1}" --port "${CKB_PORT:-5000}" "$@"
