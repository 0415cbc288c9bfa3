"""Print what preparing a resident's photo costs: a 12-megapixel phone JPEG, HEIC and PNG, and a refused bomb.

Each case runs ``layers.photo_image.prepare`` several times in this process and prints the median
and range in milliseconds, with the output's size. The peer is the obvious way without JPEG draft
decoding (open, load every pixel, turn upright, shrink, save), so the ratio shows what decoding a
large JPEG at a reduced scale saves. Usage: python bench/photos.py [--runs 7]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import struct
import time
import zlib

from PIL import Image, ImageOps

from dialogkarta.layers.photo_image import MAX_SIDE, PhotoRefused, heif_available, prepare

MAX_PIXELS = 50_000_000


def phone_picture(size=(4032, 3024)) -> Image.Image:
    """A picture with detail everywhere (noise over gradients), like a photo rather than a flat colour."""
    noise = Image.frombytes("L", size, os.urandom(size[0] * size[1])).convert("RGB")
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    return Image.blend(noise, gradient, 0.7)


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.from_pillow(image).save(out, quality=85)
    else:
        image.save(out, fmt, exif=exif, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def bomb(side: int = 40_000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    deflate = zlib.compressobj(9)
    body = b"".join(deflate.compress(b"\x00" * (1 + side // 8) * 1000) for _ in range(side // 1000)) + deflate.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def naive(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
        upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=82, optimize=True, progressive=True)
        return out.getvalue()


def measure(function, data: bytes, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        try:
            function(data)
        except PhotoRefused:
            pass
        times.append((time.perf_counter() - start) * 1000)
    return times


def line(label: str, times: list[float], extra: str = "") -> str:
    return f"{label}: {statistics.median(times):.0f} ms [{min(times):.0f}–{max(times):.0f}]{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"load average at the start: {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores; median [range] of {runs}")
    picture = phone_picture()
    cases = [("JPEG", encoded(picture, "JPEG")), ("PNG", encoded(picture, "PNG"))]
    if heif_available():
        cases.append(("HEIC", encoded(picture, "HEIF")))
    for name, data in cases:
        ours = measure(lambda d: prepare(d, MAX_PIXELS), data, runs)
        result = prepare(data, MAX_PIXELS)
        print(
            line(
                f"{name} 4032x3024 ({len(data) / 1e6:.1f} MB)",
                ours,
                f" -> {result.width}x{result.height}, {len(result.jpeg) / 1e3:.0f} KB",
            )
        )
        peer = measure(naive, data, runs)
        print(line("  peer without draft decoding", peer, f"; ours/peer {statistics.median(ours) / statistics.median(peer):.2f}"))
    data = bomb()
    print(
        line(f"PNG bomb 40000x40000 ({len(data) / 1e3:.0f} KB), refused", measure(lambda d: prepare(d, MAX_PIXELS), data, runs))
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
