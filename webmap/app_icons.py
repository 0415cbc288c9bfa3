"""The installable app's icons (a white map pin on the header's blue), drawn as PNGs without any library.

Run ``python -m dialogkarta.webmap.app_icons`` when the drawing changes: it writes
``webmap/static/icons/icon-<size>.png``, which the web app manifest names and the service worker
keeps. The files are committed, so serving them needs no drawing, no Pillow and no network;
``tests/test_offline.py`` checks they are what this draws. Every icon is "maskable" as well:
the background fills the square and the pin stays inside the central safe circle.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path

SIZES = (192, 512)
ICON_DIR = Path(__file__).resolve().parent / "static" / "icons"
BACKGROUND = (0x00, 0x3D, 0x5C)  # --accent-dark of dialogkarta.css
PIN = (0xFF, 0xFF, 0xFF)
SAMPLES = 3  # per axis and pixel: smooth edges

# The pin in unit coordinates: a round head, sides tangent to it meeting in a tip, a hole in the head.
HEAD_X, HEAD_Y, HEAD_R, HOLE_R, TIP_Y = 0.5, 0.42, 0.19, 0.075, 0.8


def _in_pin(x: float, y: float) -> bool:
    dx, dy = x - HEAD_X, y - HEAD_Y
    distance = math.hypot(dx, dy)
    if distance <= HOLE_R:
        return False
    if distance <= HEAD_R:
        return True
    if not HEAD_Y <= y <= TIP_Y:
        return False
    # Between the two tangents from the tip to the head: the half-width shrinks linearly towards the tip.
    tip = TIP_Y - HEAD_Y
    tangent_y = HEAD_R * HEAD_R / tip  # how far below the centre the tangents touch the circle
    half_at_touch = math.sqrt(HEAD_R * HEAD_R - tangent_y * tangent_y)
    if dy < tangent_y:
        return False
    return abs(dx) <= half_at_touch * (tip - dy) / (tip - tangent_y)


def draw(size: int) -> bytes:
    """Return the icon of ``size`` x ``size`` pixels as PNG bytes (RGB, 8 bits)."""
    rows = []
    offsets = [(i + 0.5) / SAMPLES for i in range(SAMPLES)]
    for py in range(size):
        row = bytearray([0])  # PNG filter type 0 for this scanline
        for px in range(size):
            covered = sum(_in_pin((px + ox) / size, (py + oy) / size) for ox in offsets for oy in offsets)
            share = covered / (SAMPLES * SAMPLES)
            row.extend(round(b + (p - b) * share) for b, p in zip(BACKGROUND, PIN))
        rows.append(bytes(row))
    return _png(size, size, b"".join(rows))


def _png(width: int, height: int, scanlines: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scanlines, 9)) + chunk(b"IEND", b"")


def icon_name(size: int) -> str:
    return f"icon-{size}.png"


def main() -> None:
    ICON_DIR.mkdir(exist_ok=True)
    for size in SIZES:
        (ICON_DIR / icon_name(size)).write_bytes(draw(size))
        print(ICON_DIR / icon_name(size), file=sys.stderr)


if __name__ == "__main__":
    main()
