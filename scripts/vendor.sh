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
  "leaflet|1.9.4|leaflet|dist/leaflet.js dist/leaflet.css"
  "world-atlas|2.0.2|world-atlas|countries-110m.json"
  "topojson-client|3.1.0|topojson-client|dist/topojson-client.min.js"
  "layout-base|2.0.1|layout-base|layout-base.js"
  "cose-base|2.2.0|cose-base|cose-base.js"
  "cytoscape-fcose|2.2.0|cytoscape-fcose|cytoscape-fcose.js"
)
# Used by the browser tests only (accessibility checks); never served by the app.
TEST_DEST="$ROOT/tests/browser/vendor"
TEST_PACKAGES=(
  "axe-core|4.14.1|axe-core|axe.min.js"
)

vendor() {  # vendor DEST ENTRY...: fetch each entry into DEST and write DEST/MANIFEST.json
  local DEST="$1"; shift
mkdir -p "$DEST"
manifest="["
sep=""
for entry in "$@"; do
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
    # The source maps are not vendored: drop the pointer so dev tools do not ask for them.
    sed -i -e 's#^//[#@] sourceMappingURL=.*$##' -e 's#/\*[#@] sourceMappingURL=[^*]*\*/##' \
      "$DEST/$sub/$(basename "$f")"
    copied="$copied\"$sub/$(basename "$f")\","
  done
  # Copy every licence-like file the package ships (LICENSE, LICENSE-MIT, LICENSE-APACHE-2.0, ...).
  found=0
  for lic in "$pkg"/LICEN[CS]E* "$pkg"/licen[cs]e* "$pkg"/COPYING*; do
    [ -f "$lic" ] || continue
    case "$lic" in *.js|*.mjs|*.cjs|*.ts) continue ;; esac  # scripts named license-*, not texts
    cp "$lic" "$DEST/$sub/$(basename "$lic")"
    copied="$copied\"$sub/$(basename "$lic")\","
    found=1
  done
  if [ "$found" = 0 ]; then
    # The npm tarball ships no licence text (e.g. @zazuko/yasgui): record what package.json declares.
    author="$(node -p "const p=require('$pkg/package.json'); [].concat(p.author||[], p.contributors||[]).map(a=>a.name||a).join(', ')")"
    {
      echo "$name $version declares the licence \"$licence\" in its package.json;"
      echo "the npm tarball ships no licence file. Authors: $author."
      echo "Homepage: $(node -p "require('$pkg/package.json').homepage || ''")"
      if [ "$licence" = "MIT" ]; then
        echo
        echo "MIT License"
        echo
        echo "Copyright (c) $author"
        echo
        echo "Permission is hereby granted, free of charge, to any person obtaining a copy of this software"
        echo "and associated documentation files (the \"Software\"), to deal in the Software without"
        echo "restriction, including without limitation the rights to use, copy, modify, merge, publish,"
        echo "distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the"
        echo "Software is furnished to do so, subject to the following conditions:"
        echo
        echo "The above copyright notice and this permission notice shall be included in all copies or"
        echo "substantial portions of the Software."
        echo
        echo "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,"
        echo "INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR"
        echo "PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR"
        echo "ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE,"
        echo "ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE"
        echo "SOFTWARE."
      fi
    } > "$DEST/$sub/LICENSE.txt"
    copied="$copied\"$sub/LICENSE.txt\","
  fi
  manifest="$manifest$sep
  {\"package\": \"$name\", \"version\": \"$version\", \"licence\": \"$licence\", \"files\": [${copied%,}]}"
  sep=","
done
printf '%s\n]\n' "$manifest" > "$DEST/MANIFEST.json"
node -e "JSON.parse(require('fs').readFileSync('$DEST/MANIFEST.json','utf8'))"
echo "vendored into $DEST"
}

vendor "$DEST" "${PACKAGES[@]}"
vendor "$TEST_DEST" "${TEST_PACKAGES[@]}"
