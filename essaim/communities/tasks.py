"""Background tasks of communities, run by the worker (essaim/worker.py)."""

from __future__ import annotations

import logging
import smtplib
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from essaim.accounts.models import User
from essaim.worker import next_night, retry_later

from . import services
from .models import Community, Membership, Role

logger = logging.getLogger("essaim.communities")


@task()
def community_lifecycle() -> dict[str, int]:
    """Once a day: archive the communities whose end date has passed, remind the owners
    of those ending soon, and queue tomorrow's run."""
    with transaction.atomic():
        archived, reminders = services.lifecycle_run(timezone.localdate())
        for community_id, user_id in reminders:
            remind = partial(send_end_reminder.enqueue, community_id=community_id, user_id=user_id)
            transaction.on_commit(remind)
        community_lifecycle.using(run_after=next_night()).enqueue()
    return {"archived": len(archived), "reminders": len(reminders)}


@task()
def send_end_reminder(*, community_id: int, user_id: int, attempt: int = 0) -> str:
    """E-mail an owner that their community ends soon. A confidential community's name
    stays out of the mail: the link says which one to those who may open it."""
    owner = User.objects.filter(pk=user_id, is_active=True).first()
    community = Community.objects.filter(pk=community_id, archived_at__isnull=True).first()
    if owner is None or community is None or community.end_date is None:
        return "nothing to remind"
    if not Membership.objects.filter(community=community, user=owner, role=Role.OWNER).exists():
        return "no longer an owner"
    # By id: a slug is made from the name, which a confidential community keeps out.
    path = reverse("community-settings-by-id", kwargs={"community_id": community.pk})
    context = {
        "owner": owner,
        "community": community,
        "url": settings.SITE_URL.rstrip("/") + path,
    }
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        subject = render_to_string("communities/end_reminder_subject.txt", context)
        body = render_to_string("communities/end_reminder_email.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [owner.email], fail_silently=False)
    except smtplib.SMTPRecipientsRefused:
        logger.warning("The mail server refused the address of user %s", user_id)
        return "address refused"
    except (smtplib.SMTPException, OSError):
        kwargs = {"community_id": community_id, "user_id": user_id}
        if not retry_later(send_end_reminder, attempt=attempt, **kwargs):
            raise
        logger.warning("Could not send an end reminder; trying again later", exc_info=True)
        return "retry queued"
    return "sent"
