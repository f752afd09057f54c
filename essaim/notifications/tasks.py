"""Background delivery of notifications, run by the worker (essaim/worker.py): e-mails
at once for what is urgent, and the daily and weekly digests of the rest.

Each notification is checked against its recipient's access when it is sent, not when
it was made. An e-mail is claimed (``emailed_at``) before it is sent and released if
sending fails, then retried: it is never sent twice, and a passing fault loses nothing."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.utils import timezone
from django_tasks import task

from essaim.accounts.models import User
from essaim.realtime import presence
from essaim.worker import retry_later

from . import mail, selectors, services
from .models import Channel, Digest, Notification, Preferences

logger = logging.getLogger("essaim.notifications")
DIGEST_HOUR = 7  # local time of the daily digests
DIGEST_BATCH = 200  # people per digest task


@task()
def send_now(*, notification_ids: list[int], attempt: int = 0) -> dict[str, int]:
    """E-mail each of these notifications whose recipient wants it by e-mail, still may
    see it, has not read it and has no page open; held by quiet hours or do-not-disturb
    until they end."""
    done = {"sent": 0, "skipped": 0, "held": 0}
    rows = list(
        Notification.objects.filter(
            pk__in=notification_ids, read_at__isnull=True, emailed_at__isnull=True
        ).select_related("user", "community")
    )
    away = {r.user_id for r in rows} - presence.connected({r.user_id for r in rows})
    prefs = {
        p.user_id: p for p in Preferences.objects.filter(user_id__in=[r.user_id for r in rows])
    }
    retry: list[int] = []
    connection = get_connection()
    try:
        for row in rows:
            user = row.user
            chosen = prefs.get(user.pk) or Preferences(user=user)
            if user.pk not in away or not chosen.wants(row.kind, Channel.EMAIL):
                done["skipped"] += 1
                continue
            held = mail.held_until(user, chosen)
            if held is not None:
                send_now.using(run_after=held).enqueue(notification_ids=[row.pk])
                done["held"] += 1
                continue
            if not selectors.visible_to_recipient(row) or not services.claim_email([row.pk]):
                done["skipped"] += 1
                continue
            message = mail.message(user, chosen, [row], digest=False)
            if message is None:
                continue
            try:
                connection.open()  # once: the next ones reuse it
                connection.send_messages([message])
                done["sent"] += 1
            except smtplib.SMTPRecipientsRefused:
                logger.warning("The mail server refused the address of user %s", user.pk)
            except (smtplib.SMTPException, OSError):
                services.release_email([row.pk])
                retry.append(row.pk)
    finally:
        connection.close()
    if retry and not retry_later(send_now, attempt=attempt, notification_ids=retry):
        raise RuntimeError(f"could not e-mail notifications {retry}")
    return done


def digest_due(now: datetime | None = None) -> list[str]:
    """The rhythms whose digest goes out today: daily, and weekly on Mondays."""
    today = timezone.localtime(now)
    return [Digest.DAILY, Digest.WEEKLY] if today.weekday() == 0 else [Digest.DAILY]


def next_digest_time(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now)
    at = now.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


@task()
def digests() -> int:
    """Once a day: a task per DIGEST_BATCH people with something unseen and not e-mailed
    whose digest is due; queues tomorrow's run. Returns how many people."""
    people = selectors.digest_recipients(digest_due())
    for start in range(0, len(people), DIGEST_BATCH):
        send_digests.enqueue(user_ids=people[start : start + DIGEST_BATCH])
    digests.using(run_after=next_digest_time()).enqueue()
    return len(people)


@task()
def send_digests(*, user_ids: list[int], attempt: int = 0) -> dict[str, int]:
    """Each person's digest: what they have not read and was not e-mailed, that they
    still may see; then marked e-mailed, so that no digest says it again."""
    done = {"sent": 0, "empty": 0}
    retry: list[int] = []
    people = User.objects.filter(pk__in=user_ids, is_active=True)
    prefs = {p.user_id: p for p in Preferences.objects.filter(user_id__in=user_ids)}
    connection = get_connection()
    try:
        for user in people:
            chosen = prefs.get(user.pk) or Preferences(user=user)
            rows = selectors.undigested(user)
            message = mail.message(user, chosen, rows, digest=True) if rows else None
            if message is None or not services.claim_email([r.pk for r in rows]):
                done["empty"] += 1
                continue
            try:
                connection.open()
                connection.send_messages([message])
                services.digest_sent(user)
                done["sent"] += 1
            except smtplib.SMTPRecipientsRefused:
                logger.warning("The mail server refused the address of user %s", user.pk)
            except (smtplib.SMTPException, OSError):
                services.release_email([r.pk for r in rows])
                retry.append(user.pk)
    finally:
        connection.close()
    if retry and not retry_later(send_digests, attempt=attempt, user_ids=retry):
        raise RuntimeError(f"could not send the digests of {retry}")
    return done


def schedule(notification_ids: list[int]) -> None:
    """Called by services.notify on commit for urgent notifications."""
    delay = timedelta(seconds=settings.NOTIFICATION_EMAIL_DELAY)
    send_now.using(run_after=timezone.now() + delay).enqueue(notification_ids=notification_ids)
