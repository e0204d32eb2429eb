# Sourced by scripts/serve.sh and scripts/test.sh: a project venv with conflict-kb installed.
# Each set-up step prints one plain line; pip's own output goes to a log, shown only on failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${CKB_VENV:-.venv}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
EXTRAS="${1:-}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setting up: creating the Python environment in $VENV"
  python3 -m venv "$VENV"
fi
stamp="$VENV/.installed$EXTRAS"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setting up: installing conflict-kb${EXTRAS:+ $EXTRAS} and its dependencies from the package index (first run: about a minute)"
  log="$VENV/install.log"
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
      -e ".$EXTRAS" >"$log" 2>&1; then
    echo "setting up: pip failed; the last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
