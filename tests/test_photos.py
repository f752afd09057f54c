"""Profile photos: every hostile upload is refused cheaply, every good one comes out clean.

The corpus is made here with Pillow (and a few crafted headers): nothing is downloaded.
Security cases 29 (upload paths), 30 (bombs) and 31 (active content).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from django.utils import translation
from PIL import ExifTags, Image, ImageCms, ImageFile, WebPImagePlugin
from pytest_django import Settings

from essaim.directory import photos
from essaim.directory.photos import (
    MAX_BYTES,
    SIZES,
    PhotoError,
    delete_photo,
    photo_file,
    process_photo,
    store_photo,
)

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def halves(size: tuple[int, int], first: tuple[int, ...], second: tuple[int, ...]) -> Image.Image:
    """Left half ``first``, right half ``second``."""
    image = Image.new("RGBA" if len(first) == 4 else "RGB", size, second)
    image.paste(first, (0, 0, size[0] // 2, size[1]))
    return image


def close(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= 40 for a, b in zip(pixel, colour, strict=True))


def refused(data: bytes) -> str:
    with pytest.raises(PhotoError) as caught:
        process_photo(io.BytesIO(data))
    assert caught.value.message
    return caught.value.message


def png(width: int, height: int) -> bytes:
    """A valid 1-bit grey PNG: width*height bytes once decoded, a few kilobytes on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def gif(width: int, height: int) -> bytes:
    """A 1x1 GIF whose logical screen claims width x height."""
    data = bytearray(encode(Image.new("P", (1, 1)), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def jpeg(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims width x height."""
    data = bytearray(encode(Image.new("RGB", (16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp(width: int, height: int) -> bytes:
    """An animated 1x1 WebP whose canvas (VP8X) claims width x height."""
    frames = [Image.new("RGB", (1, 1), colour) for colour in (RED, BLUE)]
    data = bytearray(encode(frames[0], "WEBP", save_all=True, append_images=frames[1:]))
    assert data[12:16] == b"VP8X"
    data[24:27] = (width - 1).to_bytes(3, "little")
    data[27:30] = (height - 1).to_bytes(3, "little")
    return bytes(data)


# --- good photos ------------------------------------------------------------------------


def test_a_phone_photo_is_turned_upright_squared_and_stripped_of_its_metadata() -> None:
    # Stored sideways: orientation 6 says "turn 90° clockwise to display", which puts the
    # red left half on top.
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Essaim Test Camera"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (48.0, 51.0, 24.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 21.0, 3.0),
    }
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = encode(
        halves((400, 200), RED, BLUE),
        "JPEG",
        quality=95,
        exif=exif,
        icc_profile=icc,
        comment=b"secret comment",
    )
    original = Image.open(io.BytesIO(source))
    assert original.getexif()[ExifTags.Base.Orientation] == 6
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the corpus really has GPS

    result = process_photo(io.BytesIO(source))

    assert set(result) == set(SIZES) == {"large", "small"}
    assert SIZES["large"] == (512, 512)
    for name, size in SIZES.items():
        data = result[name]
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.mode, image.size) == ("WEBP", "RGB", size)
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
        # No metadata chunk at all in the RIFF container, nor the camera's strings.
        for marker in (b"EXIF", b"XMP ", b"ICCP", b"Essaim Test Camera", b"secret comment"):
            assert marker not in data
        side = size[0]
        low, high = side // 8, side - side // 8
        for x in (low, high):
            assert close(image.getpixel((x, low)), RED), name
            assert close(image.getpixel((x, high)), BLUE), name


def test_transparency_becomes_white() -> None:
    source = encode(halves((300, 300), (0, 0, 0, 0), (*RED, 255)), "PNG")
    image = Image.open(io.BytesIO(process_photo(io.BytesIO(source))["large"]))
    assert image.mode == "RGB"
    assert close(image.getpixel((60, 256)), WHITE)
    assert close(image.getpixel((450, 256)), RED)


def test_an_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (120, 80), colour) for colour in (RED, BLUE)]
    source = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert getattr(Image.open(io.BytesIO(source)), "n_frames", 1) == 2
    result = process_photo(io.BytesIO(source))
    small = Image.open(io.BytesIO(result["small"]))
    assert small.size == (96, 96)
    assert getattr(small, "n_frames", 1) == 1
    assert close(small.getpixel((48, 48)), RED)


# Every mode each format can hold (Pillow writes "1" as grey JPEG, I;16 as 8-bit WebP …).
MODES = {
    "JPEG": ["RGB", "L", "CMYK", "1"],
    "PNG": ["RGB", "L", "P", "RGBA", "LA", "I;16", "1"],
    "WEBP": ["RGB", "L", "P", "RGBA", "LA", "CMYK", "I;16", "1"],
    "GIF": ["RGB", "L", "P", "RGBA", "LA", "I;16", "1"],
}


@pytest.mark.parametrize(
    ("fmt", "mode"), [(fmt, mode) for fmt, modes in MODES.items() for mode in modes]
)
def test_every_accepted_format_and_mode_gives_both_sizes(fmt: str, mode: str) -> None:
    source = encode(Image.new(mode, (90, 150)), fmt)
    result = process_photo(io.BytesIO(source))
    assert [Image.open(io.BytesIO(result[name])).size for name in SIZES] == [(512, 512), (96, 96)]


def test_sixteen_bit_grey_keeps_its_brightness() -> None:
    source = encode(Image.new("I;16", (64, 64), 0x8000), "PNG")
    image = Image.open(io.BytesIO(process_photo(io.BytesIO(source))["small"]))
    pixel = image.getpixel((48, 48))
    assert isinstance(pixel, tuple)
    assert 100 < pixel[0] < 160  # mid grey, not clipped to white


def test_short_reads_are_read_whole() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self.data.read(min(size, 7) if size >= 0 else 7)

    source = encode(Image.new("RGB", (64, 64), BLUE), "PNG")
    assert set(process_photo(cast(BinaryIO, Trickle(source)))) == set(SIZES)


# --- refused files ----------------------------------------------------------------------


class Huge(io.RawIOBase):
    """A stream of four times the limit, which counts what it gives."""

    def __init__(self) -> None:
        self.given = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        left = 4 * MAX_BYTES - self.given
        size = left if size < 0 else min(size, left)
        self.given += size
        return b"\xff" * size


def test_a_too_large_file_is_refused_without_reading_the_rest() -> None:
    stream = Huge()
    with pytest.raises(PhotoError, match="too large"):
        process_photo(cast(BinaryIO, stream))
    assert MAX_BYTES < stream.given <= MAX_BYTES + 1


def test_the_size_limit_is_exact() -> None:
    # JPEG decoders stop at the end-of-image marker, so padding keeps the photo valid.
    source = encode(Image.new("RGB", (64, 64), RED), "JPEG")
    padded = source + b"\0" * (MAX_BYTES - len(source))
    assert set(process_photo(io.BytesIO(padded))) == set(SIZES)
    assert "too large" in refused(padded + b"\0")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("20000x20000 PNG", lambda: png(20_000, 20_000)),  # above Pillow's own limit too
        ("8000x6000 PNG", lambda: png(8_000, 6_000)),  # only our limit stops it
        ("65535x65535 GIF", lambda: gif(65_535, 65_535)),
        ("7000x7000 JPEG", lambda: jpeg(7_000, 7_000)),
        ("8000x6000 WebP", lambda: webp(8_000, 6_000)),
        ("16384x16384 WebP", lambda: webp(16_384, 16_384)),
    ],
)
def test_a_pixel_flood_is_refused_before_decoding(
    name: str, data: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert callable(data)
    content = data()
    assert len(content) < 200_000, name
    loads: list[str] = []
    for cls in (ImageFile.ImageFile, WebPImagePlugin.WebPImageFile):
        monkeypatch.setattr(cls, "load", lambda image: loads.append(image.format))
    assert "too many pixels" in refused(content)
    assert loads == []  # no pixel was decoded


@pytest.mark.parametrize("as_errors", [True, False])
def test_pillows_bomb_warning_is_refused_whatever_the_warning_filters(as_errors: bool) -> None:
    # 10000x10000 is between Pillow's warning (89 Mpx) and error (179 Mpx) thresholds.
    content = png(10_000, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if as_errors else "ignore", Image.DecompressionBombWarning)
        assert "too many pixels" in refused(content)


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_pixel_flood_keeps_memory_bounded(tmp_path: Path) -> None:
    # Pillow allocates pixels with C malloc, which tracemalloc does not see: measure the
    # peak resident size (VmHWM) of a fresh process instead, reset before each attempt
    # (getrusage would report the parent's peak, inherited across fork), and prove that
    # the measure does see a decoded image.
    bombs = {"png": png(20_000, 20_000), "png48": png(8_000, 6_000), "webp": webp(8_000, 6_000)}
    for key, content in bombs.items():
        (tmp_path / key).write_bytes(content)
    script = textwrap.dedent(
        """
        import io, json, sys
        from pathlib import Path
        from django.conf import settings
        settings.configure(USE_I18N=False)
        from PIL import Image
        from essaim.directory.photos import PhotoError, process_photo

        def status(key):  # bytes
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024

        def growth(action):
            Path("/proc/self/clear_refs").write_text("5")  # peak := current
            before = status("VmRSS")
            verdict = action()
            return verdict, status("VmHWM") - before

        def attempt(data):
            try:
                process_photo(io.BytesIO(data))
            except PhotoError:
                return "refused"
            return "accepted"

        warm = io.BytesIO()
        Image.new("RGB", (64, 64)).save(warm, "PNG")
        attempt(warm.getvalue())
        attempt(b"not an image")
        result = {}
        for path in sorted(Path(sys.argv[1]).iterdir()):
            data = path.read_bytes()
            result[path.name] = growth(lambda: attempt(data))
        # 100 MB of pixels, touched: the measure must see them.
        result["control"] = growth(lambda: Image.new("L", (10_000, 10_000), 1).mode)
        print(json.dumps(result))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        text=True,
        timeout=120,
    )
    growth = json.loads(done.stdout)
    assert growth["control"][1] > 90 * 1024 * 1024, growth
    for key in bombs:
        verdict, grown = growth[key]
        assert verdict == "refused", key
        assert grown < 50 * 1024 * 1024, (key, grown)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty", b"", "empty"),
        (
            "SVG",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
            b'<rect width="10" height="10"/></svg>',
            "JPEG, PNG, WebP or GIF",
        ),
        (
            "HTML",
            b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
            "JPEG, PNG, WebP or GIF",
        ),
        (
            "PDF",
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
            "JPEG, PNG, WebP or GIF",
        ),
        ("text", b"hello", "JPEG, PNG, WebP or GIF"),
        ("GIF magic + HTML", b"GIF89a<script>alert(1)</script>", ""),
    ],
)
def test_active_content_and_junk_are_refused(name: str, data: bytes, message: str) -> None:
    assert message in refused(data), name


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM", "PDF", "EPS", "TGA"])
def test_image_formats_pillow_could_read_are_still_refused(fmt: str) -> None:
    assert "JPEG, PNG, WebP or GIF" in refused(encode(Image.new("RGB", (32, 32), RED), fmt))


def test_truncated_and_corrupt_files_are_refused() -> None:
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    noise = Image.frombytes("RGB", (256, 256), random.Random(0).randbytes(256 * 256 * 3))
    for fmt in ("JPEG", "PNG", "WEBP", "GIF"):
        whole = encode(noise, fmt)
        assert "JPEG, PNG, WebP or GIF" in refused(whole[:40])  # header cut: not recognised
        half = refused(whole[: len(whole) // 2])
        # libwebp checks the whole container when it opens the file; the others at decoding.
        assert ("JPEG, PNG, WebP or GIF" if fmt == "WEBP" else "damaged") in half, fmt
        corrupt = bytearray(whole)
        corrupt[len(corrupt) // 3 : len(corrupt) // 3 + 64] = b"\xff" * 64
        with contextlib.suppress(PhotoError):  # refused with a message, or processed
            process_photo(io.BytesIO(bytes(corrupt)))


def test_whatever_trails_an_image_never_reaches_the_output() -> None:
    source = encode(Image.new("RGB", (64, 64), RED), "JPEG") + b"<script>alert(1)</script>"
    for data in process_photo(io.BytesIO(source)).values():
        assert b"<script" not in data
        assert data.startswith(b"RIFF") and data[8:12] == b"WEBP"


# --- storage ----------------------------------------------------------------------------


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def sample() -> dict[str, bytes]:
    return process_photo(io.BytesIO(encode(Image.new("RGB", (64, 64), RED), "PNG")))


def test_store_photo_file_and_delete_round_trip(media: Path) -> None:
    images = sample()
    name = store_photo(images)
    assert len(name) == 32 and name == name.lower() and int(name, 16) >= 0
    for size in SIZES:
        path = photo_file(name, size)
        assert path == media / "photos" / f"{name}-{size}.webp"
        assert path.read_bytes() == images[size]
        assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in (media / "photos").iterdir()) == [
        f"{name}-large.webp",
        f"{name}-small.webp",
    ]
    assert store_photo(images) != name  # a new random name each time

    delete_photo(name)
    assert not photo_file(name, "large").exists()
    assert not photo_file(name, "small").exists()
    delete_photo(name)  # already gone: not an error


def test_a_failed_write_leaves_nothing_behind(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replaced: list[str] = []
    real_replace = os.replace

    def replace_once(src: str, dst: str) -> None:
        if replaced:
            raise OSError("disk full")
        replaced.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(photos.os, "replace", replace_once)
    with pytest.raises(OSError, match="disk full"):
        store_photo(sample())
    assert replaced  # the first size was written, then removed with the rest
    assert list((media / "photos").iterdir()) == []


def test_store_photo_wants_exactly_the_known_sizes(media: Path) -> None:
    with pytest.raises(ValueError):
        store_photo({"large": b"x"})
    with pytest.raises(ValueError):
        store_photo({**sample(), "../../evil": b"x"})
    assert not (media / "photos").exists() or list((media / "photos").iterdir()) == []


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("../etc/passwd", "large"),
        ("../../../../etc/passwd", "small"),
        ("/etc/passwd", "large"),
        ("ABCDEF0123456789ABCDEF0123456789", "large"),  # upper case
        ("0123456789abcdef0123456789abcde", "large"),  # 31 characters
        ("0123456789abcdef0123456789abcdef0", "large"),  # 33 characters
        ("0123456789abcdef0123456789abcdef\n", "large"),
        ("0123456789abcdef0123456789abcde\0", "large"),
        ("0123456789abcdef0123456789abcdeg", "large"),
        ("０１２３４５６７８９ａｂｃｄｅｆ０１２３４５６７８９ａｂｃｄｅｆ０１", "large"),  # noqa: RUF001
        ("", "large"),
        ("0123456789abcdef0123456789abcdef", "medium"),
        ("0123456789abcdef0123456789abcdef", "../large"),
        ("0123456789abcdef0123456789abcdef", "LARGE"),
        ("0123456789abcdef0123456789abcdef", ""),
    ],
)
def test_photo_file_refuses_any_name_store_photo_cannot_make(name: str, size: str) -> None:
    with pytest.raises(PhotoError):
        photo_file(name, size)


def test_delete_photo_refuses_a_crafted_name(media: Path) -> None:
    victim = media / "victim-large.webp"
    victim.write_bytes(b"keep me")
    (media / "photos").mkdir()
    with pytest.raises(PhotoError):
        delete_photo("../victim")
    assert victim.read_bytes() == b"keep me"
