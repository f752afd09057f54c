"""The event log (outbox): every change others should see writes its event in the same
transaction as the change, so an event exists exactly when its change was committed.

Clients see ``seq``, not ``id``: two transactions may commit in the other order than
they took their ids, and a client that had read the later id would never see the earlier
one. realtime.events.publish gives committed events their ``seq`` one at a time, under a
lock, in the order it finds them committed; a client resumes from the last ``seq``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)  # None until published
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    # The audience: the readers of a community, or every employee (``everyone``), and/or
    # people named one by one (EventRecipient). access.EventRule checks it again at every
    # delivery.
    community = models.ForeignKey(
        "communities.Community", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    everyone = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(type=""), name="event_has_a_type"),
            models.CheckConstraint(
                condition=Q(community__isnull=True) | Q(everyone=False),
                name="event_community_or_everyone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.type}"


class EventRecipient(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="event_recipient_once")
        ]
        indexes = [models.Index(fields=["user", "event"])]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.user_id}"


class Stream(models.Model):
    """One row: the last ``seq`` given. Locked while publishing, so numbers never repeat."""

    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"stream at {self.last_seq}"
