"""Background tasks of the directory, run by the worker (essaim/worker.py)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django_tasks import task

from essaim import access
from essaim.accounts.models import Role, User
from essaim.http import Origin

from . import importer

IMPORTS_DIR = "imports"
KEEP_UPLOADS = 24 * 3600  # seconds an import file waits to be applied before it goes
PROGRESS_TIMEOUT = 24 * 3600


def upload_path(token: str) -> Path:
    """Where an uploaded file waits between its dry run and its import. ``token`` is
    checked by the caller (32 hex digits): the uploaded name is never used."""
    return Path(settings.MEDIA_ROOT) / IMPORTS_DIR / f"{token}.csv"


def store_upload(chunks: Iterable[bytes]) -> str:
    """Keep an uploaded file under a random name; returns the name's token. Files older
    than a day (uploads never applied) are removed on the way."""
    folder = Path(settings.MEDIA_ROOT) / IMPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in folder.glob("*.csv"):
        if now - old.stat().st_mtime > KEEP_UPLOADS:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    with upload_path(token).open("xb") as out:
        for chunk in chunks:
            out.write(chunk)
    return token


def progress_key(token: str) -> str:
    return f"people-import:{token}"


@task()
def import_people(
    *, token: str, actor_id: int, ip: str | None, user_agent: str, language: str
) -> dict[str, Any]:
    """Apply an uploaded import file. The progress goes to the cache (read by the page
    every 2 s); the outcome is the task's result. The importer checks the actor again
    and plans again in its transaction: the file is applied whole or not at all."""
    path = upload_path(token)
    actor = User.objects.filter(pk=actor_id).first()
    if actor is None or not access.has_role(actor, Role.HR) or not path.exists():
        return {"state": "refused", "errors": [], "error_count": 0}
    throttle = importer.Throttle(per_second=1)

    def progress(done: int, total: int) -> None:
        if throttle.ready(done, total):
            cache.set(progress_key(token), [done, total], PROGRESS_TIMEOUT)

    with translation.override(language or settings.LANGUAGE_CODE):
        sheet = importer.parse(path.read_bytes())
        try:
            plan = importer.apply(
                sheet, actor=actor, origin=Origin(ip=ip, user_agent=user_agent), progress=progress
            )
        except importer.ImportRefused as exc:
            # The database changed since the dry run: the page shows the new report.
            errors = exc.plan.errors
            return {
                "state": "refused",
                "errors": [str(e) for e in errors[:100]],
                "error_count": len(errors),
            }
    path.unlink(missing_ok=True)
    return {"state": "done", **plan.summary()}
