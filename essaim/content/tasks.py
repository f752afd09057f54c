"""Background tasks of posts, run by the worker (essaim/worker.py)."""

from __future__ import annotations

import logging

from django.utils import timezone
from django_tasks import task

from essaim.worker import next_night

from . import previews, services
from .models import LinkPreview, PreviewState

logger = logging.getLogger("essaim.content")


@task()
def fetch_link_preview(*, preview_id: int) -> str:
    """Fetch a link's card once, through the SSRF guard of content.previews; only its
    plain-text fields are stored. A refused or failed link keeps no card."""
    preview = LinkPreview.objects.filter(pk=preview_id, state=PreviewState.PENDING).first()
    if preview is None:
        return "nothing to fetch"
    try:
        found = previews.fetch_preview(preview.url)
    except previews.PreviewRefused as exc:
        logger.info("No preview for link %s: %s", preview_id, exc)
        LinkPreview.objects.filter(pk=preview_id).update(
            state=PreviewState.FAILED, fetched_at=timezone.now()
        )
        return "refused"
    LinkPreview.objects.filter(pk=preview_id).update(
        state=PreviewState.READY,
        final_url=found.final_url,
        title=found.title,
        description=found.description,
        site_name=found.site_name,
        image_url=found.image_url,
        fetched_at=timezone.now(),
    )
    return "ready"


@task()
def purge_unattached_files() -> int:
    """Once a day: remove the files uploaded and never posted, and queue tomorrow's run."""
    removed = services.purge_unattached()
    purge_unattached_files.using(run_after=next_night()).enqueue()
    return removed
