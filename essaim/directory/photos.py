"""Photos (profile pictures, community covers): untrusted uploads in, clean WebP files of
fixed sizes out.

Only the decoded pixels survive: the upload's bytes, name and metadata (EXIF, GPS, comments)
never reach the disk, so a crafted file cannot become active content or a path.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext
from PIL import Image, ImageCms, ImageOps


@dataclass(frozen=True)
class Shape:
    """Where a kind of photo lives and the sizes (width, height) it is cut to; every size
    has the same proportions, those of the largest."""

    folder: str
    sizes: dict[str, tuple[int, int]]


PROFILE = Shape("photos", {"large": (512, 512), "small": (96, 96)})
COVER = Shape("covers", {"wide": (1200, 300), "narrow": (600, 150)})
SIZES = PROFILE.sizes
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000

# Pillow names of the accepted formats; passed to Image.open so that no other parser
# (SVG is not one, but PSD, EPS, PDF … are) ever sees the bytes.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# What Pillow raises on hostile or broken files (its fuzzers find all of these).
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,  # raised, not warned, where warnings are errors
    ImageCms.PyCMSError,
)
_NAME = re.compile(r"[0-9a-f]{32}")
_SRGB = ImageCms.createProfile("sRGB")


class PhotoError(Exception):
    """A photo that cannot be accepted; ``message`` is for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _read_capped(source: BinaryIO) -> bytes:
    # Read in chunks so that a stream returning short reads is still read whole, and stop
    # one byte past the limit: that byte is enough to know the file is too large.
    chunks: list[bytes] = []
    remaining = MAX_BYTES + 1
    while remaining > 0:
        chunk = source.read(min(remaining, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _too_many_pixels() -> PhotoError:
    return PhotoError(
        gettext("The photo has too many pixels: at most %(count)d million.")
        % {"count": MAX_PIXELS // 1_000_000}
    )


def process_photo(source: BinaryIO, shape: Shape = PROFILE) -> dict[str, bytes]:
    """Check and re-encode an uploaded photo; returns the WebP bytes of every size of
    ``shape``, cut from the middle of the photo."""
    data = _read_capped(source)
    if len(data) > MAX_BYTES:
        raise PhotoError(
            gettext("The photo is too large: at most %(size)d MB.") % {"size": MAX_BYTES >> 20}
        )
    if not data:
        raise PhotoError(gettext("The file is empty."))
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except DECODE_ERRORS:
        raise PhotoError(
            gettext("The file is not a readable JPEG, PNG, WebP or GIF image.")
        ) from None
    # The header gives the size: refuse before a single pixel is allocated. This limit is
    # below Pillow's own, which stays as it is for the rest of the process.
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()
    top_width, top_height = max(shape.sizes.values())
    try:
        # Lets libjpeg decode a big photo at 1/2, 1/4 or 1/8 scale, still >= top pixels.
        image.draft(None, (top_width, top_height))
        image.load()  # the first frame only, for animations
        oriented = ImageOps.exif_transpose(image)
        icc = oriented.info.get("icc_profile")
        if oriented.mode.startswith("I"):
            # 16-bit grey PNG: scale to 8 bits, as a plain conversion clips it to white.
            oriented = oriented.convert("I").point(lambda value: value / 256).convert("L")
        rgba = oriented.convert("RGBA")
        # A fresh image carries none of the source's info (EXIF, XMP, ICC, comments).
        ratio = top_width / top_height
        width = min(rgba.width, round(rgba.height * ratio))
        square = Image.new("RGB", (width, max(1, round(width / ratio))), "white")
        left, upper = (rgba.width - square.width) // 2, (rgba.height - square.height) // 2
        crop = rgba.crop((left, upper, left + square.width, upper + square.height))
        square.paste(crop, mask=crop.getchannel("A"))
        if icc:
            # Phones tag photos Display P3: map them to sRGB, what a WebP without a profile
            # means, instead of letting their colours fade. An unusable profile (broken,
            # or not an RGB one) leaves the pixels as they are.
            with contextlib.suppress(ImageCms.PyCMSError, OSError, TypeError, ValueError):
                ImageCms.profileToProfile(
                    square, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB, inPlace=True
                )
        result: dict[str, bytes] = {}
        for size_name, size in shape.sizes.items():
            resized = square.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            out = io.BytesIO()
            resized.save(out, "WEBP", quality=85, method=4)
            result[size_name] = out.getvalue()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None  # a GIF frame may grow the canvas
    except DECODE_ERRORS:
        raise PhotoError(gettext("The photo is damaged or incomplete.")) from None
    return result


def photo_file(name: str, size: str, shape: Shape = PROFILE) -> Path:
    """The file of one size of a stored photo; refuses any name store_photo cannot make."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or size not in shape.sizes:
        raise PhotoError(gettext("This photo does not exist."))
    return Path(settings.MEDIA_ROOT) / shape.folder / f"{name}-{size}.webp"


def photo_response(path: Path) -> HttpResponse:
    """A stored photo as a response, whole: photos are small, and under ASGI a file
    streamed through a synchronous iterator ties up a thread (Django warns)."""
    response = HttpResponse(path.read_bytes(), content_type="image/webp")
    response["Cache-Control"] = "private, max-age=86400"
    return response


def store_photo(images: dict[str, bytes], shape: Shape = PROFILE) -> str:
    """Write the sizes of a processed photo under a new random name, and return that name."""
    if set(images) != set(shape.sizes):
        raise ValueError(f"expected the sizes {sorted(shape.sizes)}")
    name = secrets.token_hex(16)
    try:
        for size, content in images.items():
            path = photo_file(name, size, shape)
            path.parent.mkdir(parents=True, exist_ok=True)
            # A temporary file in the same directory, then a rename: readers see the whole
            # file or none, even if the process dies mid-write.
            fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(content)
                    file.flush()
                    os.fsync(file.fileno())
                # mkstemp makes it 0600; the web server serving media may be another user.
                os.chmod(temporary, settings.FILE_UPLOAD_PERMISSIONS or 0o644)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
    except BaseException:
        delete_photo(name, shape)
        raise
    return name


def delete_photo(name: str, shape: Shape = PROFILE) -> None:
    """Remove every size of a stored photo; a photo already gone is not an error."""
    for size in shape.sizes:
        photo_file(name, size, shape).unlink(missing_ok=True)
