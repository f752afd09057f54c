"""Background delivery of notifications, run by the worker (essaim/worker.py): e-mails
and pushes at once for what is urgent, and the daily and weekly digests of the rest.

Each notification is checked against its recipient's access when it is sent, not when
it was made. An e-mail is claimed (``emailed_at``) before it is sent and released if
sending fails, then retried: it is never sent twice, and a passing fault loses nothing."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from essaim import access
from essaim.accounts.models import User
from essaim.realtime import presence
from essaim.worker import retry_later

from . import mail, push, selectors, services
from .models import Channel, Digest, Notification, Preferences, PushSubscription

logger = logging.getLogger("essaim.notifications")
DIGEST_HOUR = 7  # local time of the daily digests
DIGEST_BATCH = 200  # people per digest task


@task()
def send_now(*, notification_ids: list[int], attempt: int = 0) -> dict[str, int]:
    """E-mail and push each of these notifications, by the channels its recipient wants,
    if they still may see it, have not read it and have no page open; held by quiet
    hours or do-not-disturb until they end."""
    done = {"emailed": 0, "pushed": 0, "skipped": 0, "held": 0}
    rows = list(
        Notification.objects.filter(pk__in=notification_ids, read_at__isnull=True)
        .filter(Q(emailed_at__isnull=True) | Q(pushed_at__isnull=True))
        .select_related("user", "community")
    )
    people = {r.user_id for r in rows}
    away = people - presence.connected(people)
    prefs = {p.user_id: p for p in Preferences.objects.filter(user_id__in=people)}
    devices: dict[int, list[PushSubscription]] = {}
    for device in PushSubscription.objects.filter(user_id__in=away):
        devices.setdefault(device.user_id, []).append(device)
    retry: list[int] = []
    connection = get_connection()
    try:
        for row in rows:
            user = row.user
            chosen = prefs.get(user.pk) or Preferences(user=user)
            by_mail = row.emailed_at is None and chosen.wants(row.kind, Channel.EMAIL)
            by_push = row.pushed_at is None and chosen.wants(row.kind, Channel.PUSH)
            by_push = by_push and user.pk in devices
            if user.pk not in away or not (by_mail or by_push):
                done["skipped"] += 1
                continue
            held = mail.held_until(user, chosen)
            if held is not None:
                send_now.using(run_after=held).enqueue(notification_ids=[row.pk])
                done["held"] += 1
                continue
            found = selectors.items(access.readable_notifications(user, [row]))
            if not found:
                done["skipped"] += 1
                continue
            if by_push and services.claim_push([row.pk]):
                payload = mail.push_payload(user, found[0])
                for device in devices[user.pk]:
                    status = push.send(device.endpoint, device.p256dh, device.auth, payload)
                    services.push_result(device, status)
                done["pushed"] += 1
            if not by_mail or not services.claim_email([row.pk]):
                continue
            message = mail.message(user, chosen, found, digest=False)
            try:
                connection.open()  # once: the next ones reuse it
                connection.send_messages([message])
                done["emailed"] += 1
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
    sent: list[int] = []
    people = list(User.objects.filter(pk__in=user_ids, is_active=True))
    prefs = {p.user_id: p for p in Preferences.objects.filter(user_id__in=user_ids)}
    pending = selectors.undigested(people)
    connection = get_connection()
    try:
        for user in people:
            found = pending.get(user.pk, [])
            rows = [item.notification.pk for item in found]
            if not found or not services.claim_email(rows):
                done["empty"] += 1
                continue
            chosen = prefs.get(user.pk) or Preferences(user=user)
            message = mail.message(user, chosen, found, digest=True)
            try:
                connection.open()
                connection.send_messages([message])
                sent.append(user.pk)
                done["sent"] += 1
            except smtplib.SMTPRecipientsRefused:
                logger.warning("The mail server refused the address of user %s", user.pk)
            except (smtplib.SMTPException, OSError):
                services.release_email(rows)
                retry.append(user.pk)
    finally:
        connection.close()
        services.digests_sent(sent)
    if retry and not retry_later(send_digests, attempt=attempt, user_ids=retry):
        raise RuntimeError(f"could not send the digests of {retry}")
    return done


def schedule(notification_ids: list[int]) -> None:
    """Called by services.notify on commit for urgent notifications."""
    delay = timedelta(seconds=settings.NOTIFICATION_EMAIL_DELAY)
    send_now.using(run_after=timezone.now() + delay).enqueue(notification_ids=notification_ids)
