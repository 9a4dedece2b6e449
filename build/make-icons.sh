#!/bin/sh
# Renders resources/icon.svg into every icon the packages need; the results are committed, so this
# runs only when the SVG changes. Needs Debian's librsvg2-bin (rsvg-convert), imagemagick (convert)
# and python3.
set -eu
cd "$(dirname "$0")/../resources"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p icons
for size in 16 24 32 48 64 128 256 512; do
  rsvg-convert -w "$size" -h "$size" icon.svg -o "icons/${size}x${size}.png"
done
cp icons/512x512.png icon.png
rsvg-convert -w 1024 -h 1024 icon.svg -o "$tmp/1024.png"

# Windows: one .ico with the sizes the shell asks for.
convert icons/16x16.png icons/24x24.png icons/32x32.png icons/48x48.png icons/64x64.png \
  icons/128x128.png icons/256x256.png icon.ico

# macOS: an .icns whose entries are plain PNGs (what iconutil writes), which Debian's png2icns
# does not do for the large sizes.
python3 - "$tmp/1024.png" <<'PY'
import struct, sys
entries = [('icp4', 16), ('icp5', 32), ('icp6', 64), ('ic07', 128), ('ic08', 256), ('ic09', 512),
           ('ic11', 32), ('ic12', 64), ('ic13', 256), ('ic14', 512), ('ic10', 1024)]
body = b''
for kind, size in entries:
    path = sys.argv[1] if size == 1024 else f'icons/{size}x{size}.png'
    data = open(path, 'rb').read()
    body += kind.encode() + struct.pack('>I', len(data) + 8) + data
open('icon.icns', 'wb').write(b'icns' + struct.pack('>I', len(body) + 8) + body)
PY
