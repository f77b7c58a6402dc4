#!/bin/sh
# Renders SVG files in headless Chromium and checks each picture is not blank (more than one
# colour, enough non-white pixels). Not part of ctest: it needs chromium
# (apt-get install -y --no-install-recommends chromium) and python3.
#   scripts/check_svg_renders.sh docs/history.svg docs/activations.svg
# Leaves the screenshots as /tmp/check_svg_<name>.png for a look.
set -eu
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "check_svg_renders: chromium not found (apt-get install -y --no-install-recommends chromium)" >&2
  exit 77
fi
[ $# -gt 0 ] || set -- docs/history.svg docs/activations.svg
status=0
for svg in "$@"; do
  name=$(basename "$svg" .svg)
  png=/tmp/check_svg_$name.png
  # The window a little larger than the SVG's width/height attributes.
  size=$(sed -n 's/.*<svg[^>]* width="\([0-9.]*\)" height="\([0-9.]*\)".*/\1,\2/p' "$svg" | head -n 1)
  w=${size%,*}; h=${size#*,}
  rm -f "$png"
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size="${w%.*},${h%.*}" --screenshot="$png" "file://$(realpath "$svg")" >/dev/null 2>&1 || true
  if [ ! -s "$png" ]; then
    echo "FAIL $svg: no screenshot" >&2
    status=1
    continue
  fi
  python3 - "$png" "$svg" <<'PY' || status=1
import struct, sys, zlib
png, svg = sys.argv[1], sys.argv[2]
data = open(png, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width, height, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}[ctype]
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
colours, ink = set(), 0
i = 0
for _ in range(height):
    f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 3):
        px = tuple(line[x:x + 3]); colours.add(px)
        ink += px != (255, 255, 255)
    prev = line
frac = ink / max(1, (width // 3) * height)
ok = len(colours) > 8 and 0.01 < frac < 0.6
print(("ok  " if ok else "FAIL"), svg, f"{width}x{height}", f"{len(colours)} colours", f"{100 * frac:.1f}% ink", png)
sys.exit(0 if ok else 1)
PY
done
exit $status
