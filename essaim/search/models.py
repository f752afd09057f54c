"""Search's data: the index's outbox, the log of searches, and keyword watches."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from essaim.content.models import COMMENT_MAX

from .query import QUERY_MAX

TITLE_MAX = 200


class Pending(models.Model):
    """The search outbox: a row per thing whose document may have changed, written by the
    service in the transaction of the change, so it exists exactly when the change was
    committed. The indexer (``indexer.py``) reads the thing again, writes or drops its
    document, then deletes the row: nothing committed is missed, and a row read twice
    after a crash only writes the same document again."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=16)  # documents.KINDS
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class SearchLog(models.Model):
    """A search someone made (not the suggestions while typing), for the analytics: what
    people look for and do not find, or find and do not open. Who searched is not kept."""

    id = models.BigAutoField(primary_key=True)
    text = models.CharField(max_length=256)  # folded, spaces collapsed
    results = models.PositiveIntegerField()
    corrected = models.BooleanField(default=False)  # shown the results of "did you mean"
    clicked_at = models.DateTimeField(null=True, blank=True)  # a result was opened
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.text


class WatchFrequency(models.TextChoices):
    INSTANT = "instant", _("As it comes")
    DAILY = "daily", _("Daily digest")
    WEEKLY = "weekly", _("Weekly digest")


class Watch(models.Model):
    """A keyword watch (veille): a saved search whose new matches reach its subscribers.
    Personal (its owner alone), or shared — by a person, for every employee, or hosted by
    a community, for the community's readers (access.WatchRule)."""

    title = models.CharField(max_length=TITLE_MAX)
    text = models.CharField(max_length=QUERY_MAX)  # the search (query.parse)
    language = models.CharField(max_length=2, default="en")  # the owner's, for stop words
    kinds = models.JSONField(default=list)  # documents.KINDS to watch; empty: all
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="watches",
    )
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(community__isnull=True) | models.Q(shared=True),
                name="watch_in_community_is_shared",
            )
        ]

    def __str__(self) -> str:
        return self.title


class WatchSubscription(models.Model):
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(
        max_length=8, choices=WatchFrequency.choices, default=WatchFrequency.INSTANT
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["watch", "user"], name="subscribed_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.frequency}"


class WatchMatch(models.Model):
    """A thing that matched a watch when it was indexed (each once). Who sees it is
    decided when it is read, by the thing's own rule."""

    id = models.BigAutoField(primary_key=True)
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="matches")
    kind = models.CharField(max_length=16)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["watch", "kind", "object_id"], name="matched_once")
        ]
        indexes = [models.Index(fields=["watch", "-id"], name="watch_feed")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class WatchComment(models.Model):
    """The watch's own discussion thread."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=COMMENT_MAX)
    html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.body[:50]


class FileText(models.Model):
    """The text of an attached file (extract.py, by the worker), for the index."""

    attachment = models.OneToOneField(
        "content.Attachment", primary_key=True, on_delete=models.CASCADE, related_name="text"
    )
    text = models.TextField(blank=True)
    extracted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.text[:50]
