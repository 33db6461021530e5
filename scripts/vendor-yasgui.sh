#!/bin/sh
# Refresh the vendored YASGUI query editor from its npm release (no CDN: the page serves these files itself).
# Usage: scripts/vendor-yasgui.sh [VERSION]      (default: the version recorded in VERSION)
# Needs npm (the registry only). The npm package ships no LICENSE file, so the MIT text kept beside the
# bundle (taken from the upstream repository rdfjs/Yasgui at tag @zazuko/yasgui@<version>) stays as it is;
# check it is unchanged upstream when moving to a new major version.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/server/planlod/web/static/vendor/yasgui"
version=${1:-$(sed -n 's/^version: //p' "$dest/VERSION")}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@zazuko/yasgui@$version" >/dev/null && tar xzf zazuko-yasgui-*.tgz)

license=$(sed -n 's/.*"license": *"\([^"]*\)".*/\1/p' "$work/package/package.json")
[ "$license" = "MIT" ] || { echo "licence changed to '$license': review before vendoring" >&2; exit 1; }

cp "$work/package/build/yasgui.min.js" "$work/package/build/yasgui.min.css" "$dest/"
integrity=$(cd "$work" && sha256sum zazuko-yasgui-*.tgz | cut -d' ' -f1)
cat > "$dest/VERSION" <<INFO
name: @zazuko/yasgui
version: $version
license: $license
from: npm registry, npm pack @zazuko/yasgui@$version (files build/yasgui.min.js, build/yasgui.min.css)
tarball-sha256: $integrity
INFO
echo "vendored @zazuko/yasgui@$version into $dest"
