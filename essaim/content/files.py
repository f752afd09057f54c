"""Files attached to posts and comments: untrusted uploads in, inert stored files out.

SECURITY.md cases 29 (upload paths), 30 (bombs), 31 (active content) and 32 (access):

- The type comes from the content, never from the name, and must be one of a short list
  (``TYPES``). HTML, SVG, scripts and executables are not on it; a file of another type
  wearing an accepted type's name is refused.
- Images keep only their decoded pixels, as profile photos do (``directory.photos``): they
  are re-encoded, so their metadata (EXIF and GPS, XMP, comments) and anything hidden
  after the pixels are gone. Other files are stored byte for byte: nothing here parses
  them further than telling their type and, for ZIP containers, their expanded size.
- Every limit is checked before the work it bounds: the byte size while reading, the
  pixel count from the image header, the entry count and sizes of an archive from its
  central directory, so a bomb costs a few reads.
- The user's file name only ever becomes a display name (``clean_name``); the storage key
  is random. Downloads always go through ``file_response``: attachment unless a raster
  image is asked inline, nosniff, and a sandbox CSP in case a browser renders it anyway.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import lzma
import os
import re
import secrets
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, BinaryIO

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext
from PIL import Image, ImageCms, ImageOps

from essaim.content.storage import attachments
from essaim.directory.photos import DECODE_ERRORS, FORMATS, MAX_PIXELS

if TYPE_CHECKING:
    from essaim.content.models import Attachment

MAX_SIDE = 2560  # stored images are at most this wide and high
THUMB_SIDE = 480
ZIP_MAX_ENTRIES = 2000
ZIP_MAX_TOTAL = 200 * 1024 * 1024  # bytes, all entries expanded
ZIP_MAX_RATIO = 100  # expanded / compressed, per entry …
ZIP_RATIO_FLOOR = 1024 * 1024  # … for entries larger than this: small parts may be sparse
ZIP_MAX_DIRECTORY = 4 * 1024 * 1024  # central directory bytes, read before the entry count
NAME_MAX = 150
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileType:
    mime: str
    kind: str  # "image", "document", "text" or "archive"
    extensions: tuple[str, ...]  # lower case, the first is the canonical one
    pillow: str = ""  # Pillow's format name, for images


JPEG = FileType("image/jpeg", "image", ("jpg", "jpeg", "jpe"), "JPEG")
PNG = FileType("image/png", "image", ("png",), "PNG")
GIF = FileType("image/gif", "image", ("gif",), "GIF")
WEBP = FileType("image/webp", "image", ("webp",), "WEBP")
PDF = FileType("application/pdf", "document", ("pdf",))
_OOXML = "application/vnd.openxmlformats-officedocument."
DOCX = FileType(_OOXML + "wordprocessingml.document", "document", ("docx",))
XLSX = FileType(_OOXML + "spreadsheetml.sheet", "document", ("xlsx",))
PPTX = FileType(_OOXML + "presentationml.presentation", "document", ("pptx",))
_ODF = "application/vnd.oasis.opendocument."
ODT = FileType(_ODF + "text", "document", ("odt",))
ODS = FileType(_ODF + "spreadsheet", "document", ("ods",))
ODP = FileType(_ODF + "presentation", "document", ("odp",))
ZIP = FileType("application/zip", "archive", ("zip",))
TEXT = FileType("text/plain", "text", ("txt", "text", "log"))
CSV = FileType("text/csv", "text", ("csv",))
TSV = FileType("text/tab-separated-values", "text", ("tsv",))
MARKDOWN = FileType("text/markdown", "text", ("md", "markdown"))
TYPES = (JPEG, PNG, GIF, WEBP, PDF, DOCX, XLSX, PPTX, ODT, ODS, ODP, ZIP, TEXT, CSV, TSV, MARKDOWN)
# What file_response may show inline: raster images, re-encoded by store_upload.
INLINE_MIMES = frozenset(kind.mime for kind in (JPEG, PNG, GIF, WEBP))
# Images are decoded by Pillow restricted to their one format, among the photos' ones.
assert {kind.pillow for kind in TYPES if kind.pillow} <= set(FORMATS)

_MAGIC = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"%PDF-", PDF),
    (b"PK\x03\x04", ZIP),
)
# OOXML: the main part of each kind of document, beside [Content_Types].xml.
_OOXML_PARTS = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
_ODF_TYPES = {kind.mime: kind for kind in (ODT, ODS, ODP)}
_TEXT_TYPES = {ext: kind for kind in (TEXT, CSV, TSV, MARKDOWN) for ext in kind.extensions}
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,  # bz2
    ValueError,
    NotImplementedError,  # compression methods zipfile lacks
    RuntimeError,
    struct.error,
)
# Taken out of names: controls, format characters (bidi overrides and isolates U+202A-E,
# U+2066-9, marks, zero-width characters, BOM), lone surrogates, line/paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# An extension: up to 10 letters and digits, at least one letter ("v1.2" has none).
_EXTENSION = re.compile(r"\.(?=[0-9]*[a-z])([a-z0-9]{1,10})\Z", re.IGNORECASE | re.ASCII)
# Text control characters other than tab, line feed, form feed and carriage return.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_KEY = re.compile(r"files/[0-9]{4}/[0-9]{2}/[0-9a-f]{32}(-thumb)?\.[a-z0-9]{1,10}")


@dataclass(frozen=True)
class StoredFile:
    key: str  # storage name: files/yyyy/mm/<32 hex>.<canonical extension>
    thumb_key: str  # "" unless an image: a WebP preview of at most THUMB_SIDE pixels
    name: str  # display name, its extension that of the stored type
    mime: str
    kind: str  # "image", "document", "text" or "archive"
    size: int  # bytes stored
    width: int | None
    height: int | None
    sha256: str  # of the stored bytes


class FileRefused(Exception):
    """An upload that cannot be accepted; ``message`` is for the person who sent it,
    ``code`` one of "too_large", "type", "damaged", "bomb"."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _type_refused() -> FileRefused:
    return FileRefused(
        gettext(
            "This type of file is not accepted. Accepted: images (JPEG, PNG, GIF, WebP), "
            "PDF, Word, Excel, PowerPoint and OpenDocument files, plain text, CSV, Markdown "
            "and ZIP archives."
        ),
        "type",
    )


def _damaged() -> FileRefused:
    return FileRefused(gettext("The file is damaged or incomplete."), "damaged")


def _archive_bomb() -> FileRefused:
    return FileRefused(
        gettext(
            "The archive holds too many files or expands to too much data: at most "
            "%(count)d files and %(size)d MB."
        )
        % {"count": ZIP_MAX_ENTRIES, "size": ZIP_MAX_TOTAL >> 20},
        "bomb",
    )


def _pixel_bomb() -> FileRefused:
    return FileRefused(
        gettext("The image has too many pixels: at most %(count)d million.")
        % {"count": MAX_PIXELS // 1_000_000},
        "bomb",
    )


# --- names -------------------------------------------------------------------------------


def _split(name: str) -> tuple[str, str]:
    """(stem, extension without its dot, as written), or (name, "") without one."""
    match = _EXTENSION.search(name)
    if match is None or match.start() == 0:
        return name, ""
    return name[: match.start()], match.group(1)


def _joined(stem: str, extension: str) -> str:
    suffix = f".{extension}" if extension else ""
    stem = stem[: NAME_MAX - len(suffix)].rstrip(" .")
    return (stem or "file") + suffix


def clean_name(name: str) -> str:
    """A file name fit to show and to offer for download; never a path."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    # The last part of a Unix or Windows path; leading dots would hide the file on Unix,
    # trailing ones vanish on Windows.
    name = re.split(r"[/\\]", name)[-1].strip().strip(".").strip()
    stem, extension = _split(name)
    return _joined(stem, extension) if name else "file"


def _named(name: str, kind: FileType) -> str:
    """``name`` with the extension of ``kind``: one that belongs to it stays as written,
    any other is replaced (evil.html holding a PNG becomes evil.png, not evil.html.png,
    whose first extension some systems show and some tools believe)."""
    stem, extension = _split(name)
    if extension.lower() in kind.extensions:
        return name
    return _joined(stem, kind.extensions[0])


# --- reading and telling the type --------------------------------------------------------


def _spool(upload: UploadedFile | BinaryIO) -> tuple[IO[bytes], int, str]:
    """A copy of the upload that can be read again, its size and SHA-256; refused as soon
    as it passes the size limit."""
    limit = settings.FILE_MAX_BYTES
    too_large = FileRefused(
        gettext("The file is too large: at most %(size)d MB.") % {"size": limit >> 20},
        "too_large",
    )
    if isinstance(upload, UploadedFile) and (upload.size or 0) > limit:
        raise too_large
    spool = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115 (returned)
    digest = hashlib.sha256()
    size = 0
    try:
        # One byte past the limit is enough to know the file is too large.
        while chunk := upload.read(min(CHUNK, limit + 1 - size)):
            size += len(chunk)
            if size > limit:
                raise too_large
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size, digest.hexdigest()


def _detect(spool: IO[bytes], name: str) -> FileType:
    head = spool.read(16)
    spool.seek(0)
    if not head:
        raise FileRefused(gettext("The file is empty."), "damaged")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return _container(spool) if kind is ZIP else kind
    return _text(spool, name)


def _text(spool: IO[bytes], name: str) -> FileType:
    """Text: valid UTF-8 without control characters, and not markup or a script (the
    first thing in it is neither "<" nor "#!"). Its content cannot tell prose from code,
    so its name has to be a text one (notes.txt, data.csv, README); a script renamed
    .png, .js or .html is refused rather than stored as text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    start = True
    try:
        while chunk := spool.read(CHUNK):
            text = decoder.decode(chunk)
            if start and text.lstrip("\ufeff \t\r\n\f").startswith(("<", "#!")):
                raise _type_refused()
            start = start and not text.strip()
            if _CONTROLS.search(text):
                raise _type_refused()
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _type_refused() from None
    spool.seek(0)
    kind = _TEXT_TYPES.get(_split(name)[1].lower() or "txt")
    if kind is None:
        raise _type_refused()
    return kind


def _directory_size(spool: IO[bytes]) -> int:
    """The size of a ZIP's central directory, as zipfile will find it (end record at the
    very end, else the last one in the 64 KiB comment area; its ZIP64 twin, if any, wins).
    zipfile reads the whole directory into objects before it can count them."""
    spool.seek(0, os.SEEK_END)
    end = spool.tell()
    spool.seek(max(0, end - 22 - 65535))
    tail = spool.read()
    at = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" else tail.rfind(b"PK\x05\x06")
    if at < 0:
        raise _damaged()
    size: int = struct.unpack_from("<I", tail, at + 12)[0]
    zip64 = tail[at - 76 : at - 72] == b"PK\x06\x06" and tail[at - 20 : at - 16] == b"PK\x06\x07"
    if at >= 76 and zip64:
        size = max(size, struct.unpack_from("<Q", tail, at - 76 + 40)[0])
    return size


def _container(spool: IO[bytes]) -> FileType:
    """A ZIP file: an OOXML or ODF document, else a plain archive, once its central
    directory and every entry's real expanded bytes are within the limits."""
    try:
        if _directory_size(spool) > ZIP_MAX_DIRECTORY:
            raise _archive_bomb()
        spool.seek(0)
        with zipfile.ZipFile(spool) as archive:
            entries = archive.infolist()
            if not entries:
                raise _damaged()
            declared = sum(entry.file_size for entry in entries)
            if len(entries) > ZIP_MAX_ENTRIES or declared > ZIP_MAX_TOTAL:
                raise _archive_bomb()
            for entry in entries:
                if entry.file_size > ZIP_RATIO_FLOOR and (
                    entry.file_size > ZIP_MAX_RATIO * entry.compress_size
                ):
                    raise _archive_bomb()
                if entry.flag_bits & 0x1:  # encrypted: no one can check what it holds
                    raise _type_refused()
            # Expand everything, in chunks: sizes and CRCs in the directory may lie, and
            # zipfile stops at the declared size, so this costs at most ZIP_MAX_TOTAL.
            for entry in entries:
                with archive.open(entry) as member:
                    while member.read(CHUNK):
                        pass
            kind = _document(archive)
    except _ZIP_ERRORS:
        raise _damaged() from None
    spool.seek(0)
    return kind


def _document(archive: zipfile.ZipFile) -> FileType:
    names = set(archive.namelist())
    lowered = [name.lower() for name in names]
    if "mimetype" in names:  # ODF: the first entry, stored, holds the type
        with archive.open("mimetype") as member:
            kind = _ODF_TYPES.get(member.read(100).decode("ascii", "replace").strip())
        # Macros (LibreOffice Basic, scripts) would be active content.
        if kind and any(name.startswith(("basic/", "scripts/")) for name in lowered):
            raise _type_refused()
        return kind or ZIP
    if "[Content_Types].xml" in names:
        if any(name.endswith("vbaproject.bin") for name in lowered):  # macro-enabled
            raise _type_refused()
        for part, kind in _OOXML_PARTS.items():
            if part in names:
                return kind
    return ZIP


# --- images ------------------------------------------------------------------------------


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _clean_image(spool: IO[bytes], kind: FileType) -> tuple[FileType, Image.Image]:
    """The first frame of an image, upright, at most MAX_SIDE pixels, in a fresh image
    (no EXIF, XMP, ICC or comment: none of the source's info)."""
    try:
        image: Image.Image = Image.open(spool, formats=(kind.pillow,))
        width, height = image.size  # GIF: already grown to fit the first frame
        if width * height > MAX_PIXELS:
            raise _pixel_bomb()
        icc = image.info.get("icc_profile")
        # JPEG: decode at 1/2 … 1/8 scale when that still gives MAX_SIDE pixels.
        image.draft(None, (MAX_SIDE, MAX_SIDE))
        # Animated GIF, WebP and PNG: only the first frame is loaded and kept. Keeping the
        # animation would mean holding every frame, a memory bomb of its own.
        image.load()
        if image.mode.startswith("I"):  # 16-bit grey: scale to 8 bits, not clip to white
            image = image.convert("I").point(lambda value: value / 256).convert("L")
        alpha = image.has_transparency_data
        mode = "RGBA" if alpha else "L" if image.mode in ("1", "L") else "RGB"
        if image.mode != mode:
            image = image.convert(mode)
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
        ImageOps.exif_transpose(image, in_place=True)
        clean = Image.new(mode, image.size)
        clean.paste(image)
        if icc and mode != "L":
            # A profile is kept as colours, not as bytes: pixels mapped to sRGB. One
            # that cannot be used leaves the pixels as they are.
            with contextlib.suppress(ImageCms.PyCMSError, OSError, TypeError, ValueError):
                srgb = ImageCms.createProfile("sRGB")
                profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                ImageCms.profileToProfile(clean, profile, srgb, inPlace=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _pixel_bomb() from None
    except DECODE_ERRORS:
        raise _damaged() from None
    # A still GIF is better kept as a PNG: GIF would cut it to 256 colours again.
    return (PNG if kind is GIF else kind), clean


_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 90},
    "PNG": {},
    "WEBP": {"quality": 90},
}


# --- storing and serving -----------------------------------------------------------------


def store_upload(upload: UploadedFile | BinaryIO, name: str) -> StoredFile:
    """Check an upload, clean it, and store it under a new random key; ``name`` is the
    name it came with, of which only a cleaned display name is kept."""
    spool, size, sha256 = _spool(upload)
    with spool:
        kind = _detect(spool, clean_name(name))
        now = timezone.now()
        key = f"files/{now:%Y}/{now:%m}/{secrets.token_hex(16)}"
        if kind.kind != "image":
            stored = attachments().save(f"{key}.{kind.extensions[0]}", File(spool))
            display = _named(clean_name(name), kind)
            return StoredFile(stored, "", display, kind.mime, kind.kind, size, None, None, sha256)
        kind, image = _clean_image(spool, kind)
    data = _encode(image, kind.pillow, **_SAVE_OPTIONS[kind.pillow])
    width, height = image.size
    image.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    storage = attachments()
    stored = storage.save(f"{key}.{kind.extensions[0]}", File(io.BytesIO(data)))
    try:
        thumb = File(io.BytesIO(_encode(image, "WEBP", quality=80)))
        thumb_key = storage.save(f"{key}-thumb.webp", thumb)
    except BaseException:
        storage.delete(stored)
        raise
    return StoredFile(
        key=stored,
        thumb_key=thumb_key,
        name=_named(clean_name(name), kind),
        mime=kind.mime,
        kind=kind.kind,
        size=len(data),
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _checked(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"not a stored file key: {key!r}")
    return key


def delete_stored(*keys: str) -> None:
    """Remove stored files (a file and its thumbnail: ``delete_stored(f.key, f.thumb_key)``);
    empty keys are skipped, files already gone are not an error."""
    storage = attachments()
    for key in keys:
        if key:
            storage.delete(_checked(key))


class _FileStream(FileResponse):
    """A FileResponse that also streams under ASGI. Django's own reads a synchronous file
    whole into memory there (with a warning); this reads one block at a time in a thread."""

    block_size = 256 * 1024

    async def __aiter__(self) -> AsyncIterator[bytes]:
        blocks: Iterator[bytes] = iter(self.streaming_content)  # type: ignore[arg-type]
        while block := await sync_to_async(_next_block, thread_sensitive=False)(blocks):
            yield block


def _next_block(blocks: Iterator[bytes]) -> bytes:
    return next(blocks, b"")


def file_response(key: str, name: str, mime: str, *, inline: bool) -> FileResponse:
    """A stored file as a download, streamed. Shown in the page (``inline``) only if it is
    a raster image, which store_upload re-encoded; anything else is an attachment."""
    try:
        handle = attachments().open(_checked(key), "rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    content_type = f"{mime}; charset=utf-8" if mime.startswith("text/") else mime
    response = _FileStream(
        handle,
        content_type=content_type,
        # Django's content_disposition_header: RFC 6266, filename* for non-ASCII names.
        as_attachment=not (inline and mime in INLINE_MIMES),
        filename=name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it anyway: no script, no plugin, no same-origin access.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def attachment_response(attachment: Attachment, *, thumbnail: bool = False) -> FileResponse:
    """An attachment (or its image's thumbnail) as a download; the caller has checked
    that the viewer may read it."""
    if not thumbnail:
        inline = attachment.kind == "image"
        return file_response(attachment.key, attachment.name, attachment.mime, inline=inline)
    if not attachment.thumb_key:
        raise Http404
    name = f"{_split(attachment.name)[0]}.webp"
    return file_response(attachment.thumb_key, name, "image/webp", inline=True)
