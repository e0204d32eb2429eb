#!/usr/bin/env bash
# Quick start, command 1: serve the web UI on the embedded store with the bundled data.
# CKB_HOST, CKB_PORT and CKB_STORE choose the address, the port and the store folder.
source "$(dirname "$0")/env.sh" ""
host="${CKB_HOST:-127.0.0.1}"
port="${CKB_PORT:-5000}"
echo "starting: ckb serve on http://$host:$port/ (store: ${CKB_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/conflict-kb/store})"
# ckb is on this script's PATH only: say how another shell reaches it (to add files while this runs).
echo "note: in another shell, 'source $VENV/bin/activate' puts ckb on the PATH; 'ckb import FILE' then adds a file through this server (with \$CKB_UPDATE_TOKEN set in both shells)"
exec ckb serve --host "$host" --port "$port" "$@"
