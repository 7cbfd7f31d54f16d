#!/bin/sh
# Copy the part of DKFDS the portal serves into static/vendor/dkfds, keeping
# css/, fonts/ and img/ side by side because the CSS refers to ../fonts and ../img.
set -eu
src=node_modules/dkfds/dist
dst=static/vendor/dkfds
rm -rf "$dst"
mkdir -p "$dst/css" "$dst/js" "$dst/fonts/IBMPlexSans/complete"
cp "$src/css/dkfds.min.css" "$dst/css/"
cp "$src/js/dkfds.min.js" "$dst/js/"
cp -r "$src/fonts/IBMPlexSans/complete/woff2" "$src/fonts/IBMPlexSans/complete/woff" "$dst/fonts/IBMPlexSans/complete/"
cp -r "$src/img" "$dst/img"
cp "$src/LICENSE.md" "$dst/LICENSE.md"
