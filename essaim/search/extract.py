"""The text of an attached file, for the search index: PDF (pypdf), Word, Excel and
PowerPoint (OOXML) and OpenDocument (their XML parts, read with defusedxml), plain text,
CSV and Markdown. Files were checked when uploaded (content.files); here every read is
bounded again — pages, bytes decompressed, characters kept — so that no file costs the
worker more than a bounded amount of work, and a damaged one gives no text, not an error."""

from __future__ import annotations

import logging
import re
import time
import zipfile
from typing import IO

from defusedxml.ElementTree import fromstring
from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError

from essaim.content import files

logger = logging.getLogger("essaim.search")

TEXT_MAX = 200_000  # characters kept: the start of a long file says what it is about
PDF_PAGES_MAX = 200
PDF_STREAM_MAX = 10 * 1024 * 1024  # bytes a page's content may inflate to (pypdf: 75 MB)
PDF_TOKENS_MAX = 200_000  # tokens of one content stream, a hundred dense pages (pypdf: 2 M)
PDF_SECONDS_MAX = 10.0  # then the pages read so far are the text
PART_MAX = 20 * 1024 * 1024  # bytes decompressed from one XML part

# Which XML parts hold the text of each kind of document, in reading order.
_PARTS: dict[str, re.Pattern[str]] = {
    files.DOCX.mime: re.compile(r"word/(document|footnotes|endnotes|header\d*|footer\d*)\.xml"),
    files.XLSX.mime: re.compile(r"xl/(sharedStrings|worksheets/sheet\d+)\.xml"),
    files.PPTX.mime: re.compile(r"ppt/(slides/slide\d+|notesSlides/notesSlide\d+)\.xml"),
    files.ODT.mime: re.compile(r"content\.xml"),
    files.ODS.mime: re.compile(r"content\.xml"),
    files.ODP.mime: re.compile(r"content\.xml"),
}
# Elements that end a paragraph, a cell or a line (local names, any namespace).
_BREAKS = frozenset({"p", "h", "tr", "br", "tab", "c", "si", "table-cell", "line-break"})


def _number(name: str) -> int:
    found = re.search(r"(\d+)\.xml$", name)
    return int(found[1]) if found else 0


def _xml_text(data: bytes) -> str:
    out: list[str] = []
    for element in fromstring(data).iter():
        if element.text:
            out.append(element.text)
        if element.tag.rsplit("}", 1)[-1] in _BREAKS:
            out.append("\n")
        if element.tail:
            out.append(element.tail)
    return "".join(out)


def _package_text(handle: IO[bytes], mime: str) -> str:
    wanted = _PARTS[mime]
    out: list[str] = []
    with zipfile.ZipFile(handle) as archive:
        names = sorted(
            (n for n in archive.namelist() if wanted.fullmatch(n)),
            key=lambda n: (n.rsplit("/", 1)[0], _number(n)),
        )
        for name in names:
            with archive.open(name) as part:
                data = part.read(PART_MAX + 1)
            if len(data) > PART_MAX:
                break
            out.append(_xml_text(data))
            if sum(map(len, out)) > TEXT_MAX:
                break
    return "\n".join(out)


def _pdf_text(handle: IO[bytes]) -> str:
    # pypdf's own limits let a 40 kB file of 20 MB of text operators take half a minute
    # and 270 MB: a page's work is capped lower, and the whole file's time.
    limits = apply_configuration(
        zlib_maximum_output_length=PDF_STREAM_MAX,
        stream_parsing_work_maximum_count=PDF_TOKENS_MAX,
        jbig2dec_binary=None,  # images give no text: no outside program
    )
    started = time.monotonic()
    out: list[str] = []
    with limits:
        reader = PdfReader(handle)
        for page in reader.pages[:PDF_PAGES_MAX]:
            try:
                out.append(page.extract_text() or "")
            except LimitReachedError:  # this page is left out, not the others
                logger.info("A PDF page over the limits: left out")
            if sum(map(len, out)) > TEXT_MAX or time.monotonic() - started > PDF_SECONDS_MAX:
                break
    return "\n".join(out)


def text_of(handle: IO[bytes], mime: str) -> str:
    """The text of a stored file of type ``mime`` (content.files' types); "" for images,
    archives and files it cannot read."""
    try:
        if mime == files.PDF.mime:
            text = _pdf_text(handle)
        elif mime in _PARTS:
            text = _package_text(handle, mime)
        elif mime.startswith("text/"):
            text = handle.read(TEXT_MAX * 4).decode("utf-8", "replace")
        else:
            return ""
    except Exception as exc:  # a damaged file: pypdf and zipfile raise many kinds
        logger.info("No text from a %s file: %s", mime, exc)
        return ""
    return " ".join(text.split())[:TEXT_MAX]
