"""Attached files: every hostile upload is refused cheaply, every good one is stored inert
under a random key and served as a download.

The corpus is made here (Pillow, zipfile, crafted headers): nothing is downloaded.
Security cases 29 (upload paths), 30 (bombs), 31 (active content) and 32 (serving).
"""

from __future__ import annotations

import asyncio
import io
import os
import struct
import time
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from PIL import ExifTags, Image, ImageCms
from pytest_django import Settings

from essaim.content import files
from essaim.content.files import (
    FileRefused,
    StoredFile,
    clean_name,
    delete_stored,
    file_response,
    store_upload,
)
from essaim.content.storage import attachments

RED, BLUE = (255, 0, 0), (0, 0, 255)
KIB = 1024


@pytest.fixture(autouse=True)
def _files_dir(settings: Settings, tmp_path: Path) -> Path:
    settings.FILES_DIR = tmp_path / "files"
    return tmp_path / "files"


# --- helpers ------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def store(data: bytes, name: str) -> StoredFile:
    return store_upload(io.BytesIO(data), name)


def refused(data: bytes, name: str = "upload.png") -> str:
    with pytest.raises(FileRefused) as caught:
        store(data, name)
    assert caught.value.message
    return caught.value.code


def read(key: str) -> bytes:
    with attachments().open(key, "rb") as handle:
        data: bytes = handle.read()
    return data


def opened(key: str) -> Image.Image:
    image = Image.open(io.BytesIO(read(key)))
    image.load()
    return image


def close(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= 40 for a, b in zip(pixel[:3], colour, strict=True))


def png(width: int, height: int) -> bytes:
    """A valid 1-bit grey PNG whose header declares width x height: a few kilobytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(min(height, 64))) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def gif(
    screen: tuple[int, int] = (1, 1), frame: tuple[int, int] = (1, 1), frames: int = 1
) -> bytes:
    """A GIF whose screen and frames declare any size; each frame holds one pixel."""
    header = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    block = b"," + struct.pack("<HHHHB", 0, 0, *frame, 0) + b"\x02\x02D\x01\x00"
    return header + block * frames + b";"


def jpeg(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims width x height."""
    data = bytearray(encode(Image.new("RGB", (16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def zipped(entries: dict[str, bytes], stored: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return out.getvalue()


XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES = XML + (
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def ooxml(main_part: str, *extra: str) -> bytes:
    entries = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": XML + b"<Relationships/>"}
    entries[main_part] = XML + b"<document/>"
    entries.update({name: b"\0" * 64 for name in extra})
    return zipped(entries)


def odf(mime: str, *extra: str) -> bytes:
    entries = {
        "mimetype": mime.encode(),
        "content.xml": XML + b"<office:document-content/>",
        "META-INF/manifest.xml": XML + b"<manifest:manifest/>",
    }
    entries.update({name: b"x" for name in extra})
    return zipped(entries, stored=("mimetype",))


# --- images -------------------------------------------------------------------------------


def test_a_phone_photo_is_turned_upright_and_keeps_no_metadata() -> None:
    # Stored sideways: orientation 6 says "turn 90° clockwise to display", which puts the
    # left (red) half on top.
    source = Image.new("RGB", (120, 60), BLUE)
    source.paste(RED, (0, 0, 60, 60))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "SecretPhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        source,
        "JPEG",
        exif=exif.tobytes(),
        comment=b"SecretComment",
        xmp=b"<x:xmpmeta>SecretXmp</x:xmpmeta>",
        icc_profile=icc,
    )
    assert b"SecretPhone" in data and b"SecretXmp" in data

    stored = store(data, "IMG_0001.JPEG")

    assert (stored.mime, stored.kind, stored.name) == ("image/jpeg", "image", "IMG_0001.JPEG")
    assert stored.key.endswith(".jpg") and stored.thumb_key.endswith("-thumb.webp")
    raw = read(stored.key)
    assert b"Secret" not in raw and b"Exif" not in raw
    assert (stored.size, stored.width, stored.height) == (len(raw), 60, 120)
    image = opened(stored.key)
    assert not image.getexif() and not image.info.get("comment")
    assert not {"exif", "xmp", "icc_profile"} & set(image.info)
    assert close(image.getpixel((30, 20)), RED) and close(image.getpixel((30, 100)), BLUE)
    thumb = opened(stored.thumb_key)
    assert thumb.format == "WEBP" and b"Secret" not in read(stored.thumb_key)


def test_a_large_image_is_scaled_down_with_a_small_preview() -> None:
    stored = store(encode(Image.new("RGB", (3000, 1500), RED), "PNG"), "wide.png")
    assert (stored.width, stored.height) == (2560, 1280)
    assert opened(stored.key).size == (2560, 1280)
    assert opened(stored.thumb_key).size == (480, 240)


def test_png_text_chunks_go_and_transparency_stays() -> None:
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "SecretAuthor")
    text.add_itxt("XML:com.adobe.xmp", "SecretXmp")
    source = Image.new("RGBA", (40, 40), (*RED, 0))
    stored = store(encode(source, "PNG", pnginfo=text), "clear.png")
    raw = read(stored.key)
    assert b"Secret" not in raw and b"tEXt" not in raw and b"iTXt" not in raw
    image = opened(stored.key)
    assert image.mode == "RGBA" and image.getpixel((5, 5)) == (*RED, 0)


def test_an_animated_gif_keeps_its_first_frame_as_a_png() -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in (RED, BLUE)]
    source = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    stored = store(source, "party.gif")
    assert (stored.mime, stored.name) == ("image/png", "party.png")
    assert stored.key.endswith(".png")
    image = opened(stored.key)
    assert image.format == "PNG" and not getattr(image, "is_animated", False)
    assert close(image.convert("RGB").getpixel((5, 5)), RED)


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [
        ("JPEG", "CMYK"),
        ("JPEG", "L"),
        ("PNG", "I;16"),
        ("PNG", "P"),
        ("PNG", "LA"),
        ("PNG", "1"),
        ("WEBP", "RGBA"),
        ("GIF", "L"),
    ],
)
def test_every_format_and_mode_is_stored(fmt: str, mode: str) -> None:
    source = Image.new("RGB", (64, 48), RED).convert(mode)
    stored = store(encode(source, fmt), "picture")
    assert stored.kind == "image" and (stored.width, stored.height) == (64, 48)
    assert opened(stored.key).mode in ("L", "RGB", "RGBA")
    expected = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "png"}[fmt]
    assert stored.name == f"picture.{expected}" and stored.key.endswith(f".{expected}")


def test_a_png_named_html_is_stored_as_a_png() -> None:
    stored = store(encode(Image.new("RGB", (8, 8), RED), "PNG"), "evil.html")
    assert (stored.name, stored.mime) == ("evil.png", "image/png")
    assert "evil" not in stored.key and stored.key.endswith(".png")


def test_a_pdf_named_png_is_stored_as_a_pdf() -> None:
    data = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    stored = store(data, "holiday.png")
    assert (stored.name, stored.mime, stored.kind) == ("holiday.pdf", "application/pdf", "document")
    assert read(stored.key) == data and stored.thumb_key == ""
    assert stored.width is None and stored.height is None


# --- refused ------------------------------------------------------------------------------

ELF = b"\x7fELF\x02\x01\x01\0" + bytes(8) + b"\x02\0\x3e\0" + bytes(100)
EXE = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0" + bytes(100) + b"This program cannot be run"


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"<!doctype html><script>alert(1)</script>", "cat.png", "type"),
        (b"  \n<html><body onload=alert(1)>", "cat.png", "type"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "cat.png",
            "type",
        ),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "cat.svg", "type"),
        (b"\xef\xbb\xbf<svg onload=alert(1)>", "notes.txt", "type"),
        (b"alert(document.cookie)\n", "cat.png", "type"),
        (b"alert(document.cookie)\n", "evil.js", "type"),
        (b'{"a": 1}', "data.json", "type"),
        (b"#!/bin/sh\nrm -rf ~\n", "notes.txt", "type"),
        (b"<?php system($_GET['c']); ?>", "notes.txt", "type"),
        (ELF, "cat.png", "type"),
        (EXE, "cat.png", "type"),
        (b"GIF89a<script>alert(1)</script>", "cat.gif", "damaged"),
        (b"\x89PNG\r\n\x1a\n<html>", "cat.png", "damaged"),
        (b"%!PS-Adobe-3.0\n", "print.pdf", "type"),
        (b"\x1f\x8b\x08\0" + bytes(20), "archive.zip", "type"),
        (b"<html>hi</html>" + zipped({"a.txt": b"a"}), "polyglot.zip", "type"),
        (b"", "empty.txt", "damaged"),
    ],
)
def test_active_content_and_unknown_types_are_refused(data: bytes, name: str, code: str) -> None:
    assert refused(data, name) == code


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM"])
def test_image_formats_pillow_could_read_are_still_refused(fmt: str) -> None:
    assert refused(encode(Image.new("RGB", (32, 32), RED), fmt)) == "type"


def test_truncated_images_are_damaged() -> None:
    for fmt in ("JPEG", "PNG", "GIF"):
        whole = encode(Image.effect_noise((64, 64), 50).convert("RGB"), fmt)
        assert refused(whole[: len(whole) // 2], f"cut.{fmt}") == "damaged", fmt


@pytest.mark.parametrize(
    "data",
    [
        png(100_000, 100_000),
        png(7_000, 7_000),  # 49 Mpx: under Pillow's own limit, over ours (40)
        jpeg(50_000, 50_000),
        gif(screen=(65_535, 65_535)),
        gif(frame=(65_535, 65_535)),  # a first frame far larger than its screen
    ],
    ids=["png-100k", "png-7000", "jpeg-50k", "gif-screen", "gif-frame"],
)
def test_pixel_floods_are_refused_before_decoding(data: bytes) -> None:
    started = time.monotonic()
    assert refused(data) == "bomb"
    assert time.monotonic() - started < 1


def test_a_gif_of_a_hundred_thousand_frames_costs_its_first_frame() -> None:
    started = time.monotonic()
    stored = store(gif(frames=100_000), "many.gif")
    assert time.monotonic() - started < 2
    assert (stored.width, stored.height, stored.mime) == (1, 1, "image/png")


# --- documents and archives ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime", "extension"),
    [
        (ooxml("word/document.xml"), files.DOCX.mime, "docx"),
        (ooxml("xl/workbook.xml"), files.XLSX.mime, "xlsx"),
        (ooxml("ppt/presentation.xml"), files.PPTX.mime, "pptx"),
        (odf(files.ODT.mime), files.ODT.mime, "odt"),
        (odf(files.ODS.mime), files.ODS.mime, "ods"),
        (odf(files.ODP.mime), files.ODP.mime, "odp"),
    ],
)
def test_office_documents_are_recognised_from_their_content(
    data: bytes, mime: str, extension: str
) -> None:
    stored = store(data, "Budget 2025.zip")
    assert (stored.mime, stored.kind) == (mime, "document")
    assert stored.name == f"Budget 2025.{extension}" and stored.key.endswith(f".{extension}")
    assert read(stored.key) == data and stored.size == len(data)


def test_a_plain_zip_is_an_archive() -> None:
    data = zipped({"a/one.txt": b"one", "two.bin": os.urandom(100)})
    stored = store(data, "bundle.docx")
    assert (stored.mime, stored.kind, stored.name) == ("application/zip", "archive", "bundle.zip")


def test_a_zip_bomb_is_refused_without_being_expanded(tmp_path: Path) -> None:
    # 300 MB of zeros, about 1.4 MB on disk.
    bomb = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("zeros.bin", "w") as member,
    ):
        for _ in range(300):
            member.write(bytes(1024 * KIB))
    assert bomb.stat().st_size < 2 * 1024 * KIB
    started = time.monotonic()
    with bomb.open("rb") as source, pytest.raises(FileRefused) as caught:
        store_upload(source, "report.zip")
    assert caught.value.code == "bomb" and "MB" in caught.value.message
    assert time.monotonic() - started < 1


def test_a_dense_entry_is_refused_even_under_the_total() -> None:
    # 2 MiB of zeros: ratio about 1000:1, far from the 200 MiB total.
    assert refused(zipped({"zeros.bin": bytes(2048 * KIB)}), "a.zip") == "bomb"


def test_small_sparse_parts_are_not_a_bomb() -> None:
    stored = store(zipped({"blank.xml": b" " * (512 * KIB)}), "a.zip")
    assert stored.kind == "archive"


def test_too_many_entries_are_refused() -> None:
    data = zipped({f"{index}.txt": b"" for index in range(files.ZIP_MAX_ENTRIES + 1)})
    assert refused(data, "many.zip") == "bomb"


def test_the_expanded_total_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "ZIP_MAX_TOTAL", 1024 * KIB)
    data = zipped({"a.bin": os.urandom(600 * KIB), "b.bin": os.urandom(600 * KIB)})
    assert refused(data, "two.zip") == "bomb"


def test_a_huge_central_directory_is_refused_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = zipped({f"{index:04}.txt": b"" for index in range(300)})
    monkeypatch.setattr(files, "ZIP_MAX_DIRECTORY", 4 * KIB)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", never)
    assert refused(data, "dir.zip") == "bomb"


def test_a_zip_lying_about_its_sizes_is_damaged() -> None:
    data = bytearray(zipped({"zeros.bin": bytes(1024 * KIB)}))
    # Declare 100 bytes, in the local header and in the central directory.
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    data[local + 22 : local + 26] = struct.pack("<I", 100)
    data[central + 24 : central + 28] = struct.pack("<I", 100)
    assert refused(bytes(data), "liar.zip") == "damaged"


def test_a_zip_whose_data_is_corrupt_is_damaged() -> None:
    data = bytearray(zipped({"text.txt": b"hello world " * 1000}))
    data[60:70] = b"\xff" * 10  # inside the compressed data
    assert refused(bytes(data), "broken.zip") == "damaged"


@pytest.mark.parametrize(
    "data",
    [
        ooxml("word/document.xml", "word/vbaProject.bin"),
        ooxml("xl/workbook.xml", "xl/vbaProject.bin"),
        odf(files.ODT.mime, "Basic/Standard/Module1.xml"),
    ],
    ids=["docm", "xlsm", "odt-basic"],
)
def test_documents_with_macros_are_refused(data: bytes) -> None:
    assert refused(data, "report.docx") == "type"


def test_encrypted_zips_are_refused() -> None:
    data = bytearray(zipped({"secret.txt": b"x" * 100}))
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    data[local + 6] |= 1
    data[central + 8] |= 1
    assert refused(bytes(data), "secret.zip") == "type"


# --- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "mime", "expected"),
    [
        ("notes.txt", "Café, naïve, 東京 ✓\r\n\ttab\f".encode(), "text/plain", "notes.txt"),
        ("journal.log", b"2025-01-01 started\n", "text/plain", "journal.log"),
        ("README", b"Read me\n", "text/plain", "README.txt"),
        ("version 1.2", b"a version\n", "text/plain", "version 1.2.txt"),
        ("data.CSV", b"\xef\xbb\xbfname;city\nAlice;Paris\n", "text/csv", "data.CSV"),
        ("table.tsv", b"a\tb\n", "text/tab-separated-values", "table.tsv"),
        ("Guide.markdown", b"# Title\n\n*Hello* 3 < 4\n", "text/markdown", "Guide.markdown"),
    ],
)
def test_utf8_text_is_accepted(name: str, data: bytes, mime: str, expected: str) -> None:
    stored = store(data, name)
    assert (stored.mime, stored.kind, stored.name) == (mime, "text", expected)
    assert read(stored.key) == data and stored.thumb_key == ""


@pytest.mark.parametrize(
    "data",
    [
        "Café".encode("latin-1"),
        "Café".encode("utf-16"),
        b"text with a NUL\0 inside",
        b"escape \x1b[31m red",
        b"\xe2\x82",  # cut in the middle of a character
        os.urandom(4096),
    ],
    ids=["latin-1", "utf-16", "nul", "escape", "truncated", "random"],
)
def test_anything_but_clean_utf8_text_is_refused(data: bytes) -> None:
    assert refused(data, "notes.txt") == "type"


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("a\x00b\r\n.txt", "ab.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("\u2066x\u2069\u200b\u200d\ufeff.png", "x.png"),
        ("cafe\u0301.txt", "café.txt"),
        ("\udcff.bashrc", "bashrc"),
        (".htaccess", "htaccess"),
        ("  spaced out  .txt", "spaced out.txt"),
        ("trailing. . .", "trailing"),
        ("", "file"),
        ("..", "file"),
        ("/", "file"),
        ("\u202e", "file"),
        ("a" * 300 + ".pdf", "a" * 146 + ".pdf"),
        ("é" * 300, "é" * 150),
        ("x." + "a" * 200, "x." + "a" * 148),
        ("photo.jpg.AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "photo.jpg.AAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ],
)
def test_clean_name(name: str, expected: str) -> None:
    assert clean_name(name) == expected
    expected.encode("utf-8")


def test_user_names_never_reach_the_storage(_files_dir: Path) -> None:
    stored = store(b"hello\n", "../../../../tmp/evil\u202etxt.sh\x00.txt")
    assert stored.name == "evil\u202etxt.sh.txt".replace("\u202e", "")
    assert files._KEY.fullmatch(stored.key)
    on_disk = [p for p in _files_dir.rglob("*") if p.is_file()]
    assert [p.relative_to(_files_dir).as_posix() for p in on_disk] == [stored.key]


def test_keys_are_random_and_dated() -> None:
    first, second = store(b"same\n", "a.txt"), store(b"same\n", "a.txt")
    assert first.key != second.key and first.sha256 == second.sha256
    assert first.key.startswith("files/20") and len(first.key.split("/")) == 4


# --- size limits --------------------------------------------------------------------------


def test_the_size_limit_is_exact(settings: Settings) -> None:
    settings.FILE_MAX_BYTES = 1000
    assert store(b"a" * 1000, "a.txt").size == 1000
    with pytest.raises(FileRefused) as caught:
        store(b"a" * 1001, "a.txt")
    assert caught.value.code == "too_large"


class Endless(io.RawIOBase):
    def __init__(self) -> None:
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        buffer[:] = b"a" * len(buffer)
        self.given += len(buffer)
        return len(buffer)


def test_an_endless_upload_is_read_only_to_the_limit(settings: Settings) -> None:
    settings.FILE_MAX_BYTES = 3 * 1024 * KIB
    source = Endless()
    with pytest.raises(FileRefused) as caught:
        store_upload(source, "endless.txt")  # type: ignore[arg-type]
    assert caught.value.code == "too_large"
    assert source.given <= 3 * 1024 * KIB + 1


def test_an_uploaded_file_announcing_too_much_is_not_read(settings: Settings) -> None:
    settings.FILE_MAX_BYTES = 1000
    source = Endless()
    upload = UploadedFile(source, "big.txt", "text/plain", size=1001)  # type: ignore[arg-type]
    with pytest.raises(FileRefused):
        store_upload(upload, "big.txt")
    assert source.given == 0


# --- serving ------------------------------------------------------------------------------


def body(response: FileResponse) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[arg-type]


PDF_DATA = b"%PDF-1.4\n%%EOF\n"


@pytest.mark.parametrize(
    ("data", "name", "inline", "disposition", "content_type"),
    [
        (PDF_DATA, "report.pdf", True, "attachment", "application/pdf"),
        (b"plain\n", "notes.txt", True, "attachment", "text/plain; charset=utf-8"),
        (b"", "picture.png", True, "inline", "image/png"),
        (b"", "picture.png", False, "attachment", "image/png"),
    ],
)
def test_downloads_are_attachments_unless_an_image_is_asked_inline(
    data: bytes, name: str, inline: bool, disposition: str, content_type: str
) -> None:
    data = data or encode(Image.new("RGB", (8, 8), RED), "PNG")
    stored = store(data, name)
    response = file_response(stored.key, stored.name, stored.mime, inline=inline)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'{disposition}; filename="{name}"'
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == "private, no-store"
    stored_bytes = read(stored.key)
    assert response["Content-Length"] == str(len(stored_bytes))
    assert body(response) == stored_bytes


@pytest.mark.django_db  # closing a response closes old database connections
def test_a_forged_mime_is_never_shown_inline() -> None:
    stored = store(b"plain\n", "x.txt")
    for mime in ("text/html", "image/svg+xml", "application/pdf"):
        response = file_response(stored.key, "x.html", mime, inline=True)
        assert response["Content-Disposition"].startswith("attachment;")
        response.close()


@pytest.mark.django_db  # closing a response closes old database connections
def test_non_ascii_names_follow_rfc_6266() -> None:
    stored = store(PDF_DATA, 'Résumé "final".pdf')
    response = file_response(stored.key, stored.name, stored.mime, inline=False)
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''R%C3%A9sum%C3%A9%20%22final%22.pdf"
    )
    response.close()


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "files/2025/01/" + "0" * 32 + ".pdf", "files/2025/01/x/../../a.pdf"],
)
def test_forged_or_missing_keys_are_not_found(key: str) -> None:
    with pytest.raises(Http404):
        file_response(key, "a.pdf", "application/pdf", inline=False)


@pytest.mark.django_db  # closing a response closes old database connections
def test_a_download_streams_in_blocks_under_asgi() -> None:
    data = b"line of text\n" * 80_000  # about 1 MB
    stored = store(data, "big.txt")
    response = file_response(stored.key, stored.name, stored.mime, inline=False)

    async def receive() -> list[bytes]:
        return [block async for block in response]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it reads a file whole
        blocks = asyncio.run(receive())
    response.close()
    assert len(blocks) > 3 and b"".join(blocks) == data


def test_delete_stored_removes_the_file_and_its_preview(_files_dir: Path) -> None:
    image = store(encode(Image.new("RGB", (8, 8), RED), "PNG"), "a.png")
    text = store(b"text\n", "a.txt")
    delete_stored(image.key, image.thumb_key, text.key, text.thumb_key)
    assert not [p for p in _files_dir.rglob("*") if p.is_file()]
    delete_stored(image.key)  # already gone: fine
    with pytest.raises(ValueError, match="not a stored file key"):
        delete_stored("../secret_key")


def test_the_folder_is_never_a_served_one(settings: Settings) -> None:
    settings.FILES_DIR = Path(settings.MEDIA_ROOT) / "files"
    with pytest.raises(ImproperlyConfigured):
        attachments()
    settings.FILES_DIR = Path(settings.STATIC_ROOT)
    with pytest.raises(ImproperlyConfigured):
        attachments()


def test_the_storage_gives_no_url() -> None:
    with pytest.raises(NotImplementedError):
        attachments().url("files/2025/01/" + "0" * 32 + ".pdf")
