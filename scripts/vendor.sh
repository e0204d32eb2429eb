#!/usr/bin/env bash
# Refresh webui/static/vendor/ from the npm registry (run by hand; the app never fetches at run time).
# Uses `npm pack` (tarball only, no install scripts run) into a temp dir, copies the built files and
# the licence of each package, and writes MANIFEST.json (package, version, licence, files).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/webui/static/vendor"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# name|version|dest-subdir|files (space separated, relative to the package root)
PACKAGES=(
  "@zazuko/yasgui|4.6.2|yasgui|build/yasgui.min.js build/yasgui.min.css"
  "cytoscape|3.34.4|cytoscape|dist/cytoscape.min.js"
  "vis-timeline|8.5.4|vis-timeline|standalone/umd/vis-timeline-graph2d.min.js styles/vis-timeline-graph2d.min.css"
  "dompurify|3.4.18|dompurify|dist/purify.min.js"
)

mkdir -p "$DEST"
manifest="["
sep=""
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r name version sub files <<<"$entry"
  work="$TMP/$sub"
  mkdir -p "$work"
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  pkg="$work/package"
  licence="$(node -p "require('$pkg/package.json').license")"
  mkdir -p "$DEST/$sub"
  copied=""
  for f in $files; do
    cp "$pkg/$f" "$DEST/$sub/$(basename "$f")"
    copied="$copied\"$sub/$(basename "$f")\","
  done
  # Copy every licence-like file the package ships (LICENSE, LICENSE-MIT, LICENSE-APACHE-2.0, ...).
  for lic in "$pkg"/LICEN[CS]E* "$pkg"/licen[cs]e* "$pkg"/COPYING*; do
    [ -e "$lic" ] || continue
    cp "$lic" "$DEST/$sub/$(basename "$lic")"
    copied="$copied\"$sub/$(basename "$lic")\","
  done
  manifest="$manifest$sep
  {\"package\": \"$name\", \"version\": \"$version\", \"licence\": \"$licence\", \"files\": [${copied%,}]}"
  sep=","
done
printf '%s\n]\n' "$manifest" > "$DEST/MANIFEST.json"
node -e "JSON.parse(require('fs').readFileSync('$DEST/MANIFEST.json','utf8'))"
echo "vendored into $DEST"
