"""Background tasks of search, run by the worker (essaim/worker.py)."""

from __future__ import annotations

from django_tasks import task

from essaim.content.models import Attachment
from essaim.content.storage import attachments

from . import extract, services


@task()
def extract_file_text(*, attachment_id: int) -> str:
    """Read an uploaded document's text for the index (bounded: extract.py)."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        return "gone"
    try:
        with attachments().open(attachment.key, "rb") as handle:
            text = extract.text_of(handle, attachment.mime)
    except FileNotFoundError:
        return "no file"
    services.file_text_set(attachment=attachment, text=text)
    return f"{len(text)} characters"
