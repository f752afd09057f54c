"""The text of attached files is searched: PDF, Word, Excel, PowerPoint, OpenDocument and
plain text, read by the worker with every read bounded; a file is found by its words
only by those who may read where it was shared."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings

from essaim import access
from essaim.accounts.models import User
from essaim.communities.models import Visibility
from essaim.content import files
from essaim.search import extract
from essaim.search.engine import Request, engine
from essaim.search.indexer import index_pending
from essaim.search.query import parse
from essaim.worker import TaskWorker
from tests.conftest import Personas
from tests.test_communities import build
from tests.test_files import XML, zipped

W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx(*paragraphs: str) -> bytes:
    body = b"".join(b"<w:p><w:r><w:t>" + p.encode() + b"</w:t></w:r></w:p>" for p in paragraphs)
    document = XML + b"<w:document " + W + b"><w:body>" + body + b"</w:body></w:document>"
    return zipped({"[Content_Types].xml": XML + b"<Types/>", "word/document.xml": document})


def xlsx(*cells: str) -> bytes:
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    strings = b"".join(b"<si><t>" + c.encode() + b"</t></si>" for c in cells)
    return zipped(
        {
            "[Content_Types].xml": XML + b"<Types/>",
            "xl/workbook.xml": XML + b"<workbook " + ns + b"/>",
            "xl/sharedStrings.xml": XML + b"<sst " + ns + b">" + strings + b"</sst>",
        }
    )


def pptx(*slides: str) -> bytes:
    ns = b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
    entries = {
        "[Content_Types].xml": XML + b"<Types/>",
        "ppt/presentation.xml": XML + b"<presentation/>",
    }
    for n, text in enumerate(slides, start=1):
        entries[f"ppt/slides/slide{n}.xml"] = (
            XML + b"<sld " + ns + b"><a:p><a:r><a:t>" + text.encode() + b"</a:t></a:r></a:p></sld>"
        )
    return zipped(entries)


def odt(text: str) -> bytes:
    ns = (
        b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    body = b"<office:body><text:p>" + text.encode() + b"</text:p></office:body>"
    content = XML + b"<office:document-content " + ns + b">" + body + b"</office:document-content>"
    entries = {"mimetype": files.ODT.mime.encode(), "content.xml": content}
    return zipped(entries, stored=("mimetype",))


def pdf(text: str) -> bytes:
    """A one-page PDF with a line of text."""
    return pdf_pages([f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode()])


def pdf_pages(contents: list[bytes], *, flate: bool = False) -> bytes:
    """A PDF of one page per content stream (compressed with ``flate``), its
    cross-reference table exact."""
    pages = len(contents)
    font = 3 + 2 * pages
    kids = " ".join(f"{3 + n} 0 R" for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
    ]
    for n in range(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {3 + pages + n} 0 R"
            f" /Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
    for stream in contents:
        packed, filters = (
            (zlib.compress(stream), b" /Filter /FlateDecode") if flate else (stream, b"")
        )
        objects.append(
            b"<< /Length "
            + str(len(packed)).encode()
            + filters
            + b" >>\nstream\n"
            + packed
            + b"\nendstream"
        )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


@pytest.mark.parametrize(
    ("data", "mime", "expected"),
    [
        (
            docx("Rapport annuel", "Objectifs de réduction carbone"),
            files.DOCX.mime,
            "Rapport annuel Objectifs de réduction carbone",
        ),
        (xlsx("Budget", "Photovoltaïque"), files.XLSX.mime, "Budget Photovoltaïque"),
        (
            pptx("Plan stratégique", "Feuille de route"),
            files.PPTX.mime,
            "Plan stratégique Feuille de route",
        ),
        (odt("Compte rendu du comité"), files.ODT.mime, "Compte rendu du comité"),
        (pdf("Quarterly revenue forecast"), files.PDF.mime, "Quarterly revenue forecast"),
        ("Notes de réunion\nligne deux".encode(), files.TEXT.mime, "Notes de réunion ligne deux"),
    ],
)
def test_the_text_of_each_kind_of_document_is_read(data: bytes, mime: str, expected: str) -> None:
    assert extract.text_of(io.BytesIO(data), mime) == expected


def test_damaged_files_and_xml_bombs_give_no_text() -> None:
    laughs = (
        XML + b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<w:document "
        + W
        + b"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
    )
    bomb = zipped({"[Content_Types].xml": XML + b"<Types/>", "word/document.xml": laughs})
    assert extract.text_of(io.BytesIO(bomb), files.DOCX.mime) == ""
    assert extract.text_of(io.BytesIO(b"%PDF-1.4 broken"), files.PDF.mime) == ""
    assert extract.text_of(io.BytesIO(b"PK\x03\x04 nothing"), files.ODT.mime) == ""
    assert extract.text_of(io.BytesIO(b"\x89PNG"), "image/png") == ""


def test_pdf_bombs_are_cut_and_the_sane_pages_kept() -> None:
    # A 40 kB file may hold a page that inflates past the limit, or millions of text
    # operators: those pages are left out at once, the others read.
    line = b"BT /F1 12 Tf 72 712 Td (%s) Tj ET"
    inflating = b" " * (extract.PDF_STREAM_MAX + 1)
    operators = b"BT /F1 12 Tf 72 712 Td " + b"(w) Tj " * extract.PDF_TOKENS_MAX + b"ET"
    bomb = pdf_pages([inflating, operators, line % b"Quarterly forecast"], flate=True)
    assert len(bomb) < 100_000
    assert extract.text_of(io.BytesIO(bomb), files.PDF.mime) == "Quarterly forecast"
    # Pages past PDF_PAGES_MAX are not read.
    last = extract.PDF_PAGES_MAX
    long = pdf_pages([line % f"p{n}".encode() for n in range(1, last + 6)])
    words = extract.text_of(io.BytesIO(long), files.PDF.mime).split()
    assert words[0] == "p1" and words[-1] == f"p{last}"


@pytest.fixture
def files_dir(settings: Settings, tmp_path: Path) -> Path:
    settings.FILES_DIR = tmp_path / "files"
    return settings.FILES_DIR


@pytest.mark.django_db(transaction=True)
def test_an_attached_document_is_found_by_its_words_by_its_readers_only(
    personas: Personas, token_client: Callable[..., Client], files_dir: Path
) -> None:
    secret = build(personas, Visibility.SECRET)
    member = token_client(personas.member)
    study = docx("Étude de marché : éoliennes offshore")
    upload = member.post("/api/v1/files", {"file": SimpleUploadedFile("etude.docx", study)})
    file_id = upload.json()["id"]
    TaskWorker(batch=True, interval=0).run()  # the worker reads its text
    body = {"community": secret.pk, "body": "Voici l'étude", "attachments": [file_id]}
    post = member.post("/api/v1/posts", body, content_type="application/json").json()
    index_pending()

    def found(user: User) -> list[tuple[str, int]]:
        request = Request(parse("éoliennes", language="fr"), access.search_keys(user), limit=10)
        return [(h.kind, h.pk) for h in engine().search(request).hits]

    assert found(personas.member) == [("file", file_id)]
    assert found(personas.outsider) == []
    result = member.get("/api/v1/search", {"q": "eoliennes offshore"}).json()["results"][0]
    assert (result["title"], result["url"]) == ("etude.docx", f"/posts/{post['id']}/")
    assert "<mark>éoliennes</mark>" in result["snippet"]
