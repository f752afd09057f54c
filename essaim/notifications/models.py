"""Notifications: what someone is told, grouped by object, and how they want to be told.

A notification names its target (a post, a question, a conversation…) by type and id;
who may still read it is decided when it is shown or sent (access.NotificationRule),
never copied here. Unread notifications of one kind about one target are one row:
"Alice and 4 others reacted to your post"."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ACTORS_KEPT = 3  # the newest actors named ("Alice, Bob and 3 others")


class Kind(models.TextChoices):
    MENTION = "mention", _("Mentions of me")
    MESSAGE = "message", _("Direct and group messages")
    REPLY = "reply", _("Replies to my posts and to what I follow")
    ANSWER = "answer", _("Answers to my questions")
    ACCEPTED = "accepted", _("My answers accepted")
    REACTION = "reaction", _("Reactions to what I wrote")
    INVITATION = "invitation", _("Invitations to communities")
    JOIN_REQUEST = "join_request", _("Requests to join the communities I run")
    ANNOUNCEMENT = "announcement", _("Announcements to read")
    POST = "post", _("New posts in communities I follow closely")
    WATCH = "watch", _("Keyword watch matches")
    EXPERT = "expert", _("Questions put to me as an expert")
    HELP = "help", _("Help line updates")


class Priority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")


PRIORITY: dict[str, Priority] = {
    Kind.MENTION: Priority.HIGH,
    Kind.MESSAGE: Priority.HIGH,
    Kind.ANNOUNCEMENT: Priority.HIGH,
    Kind.EXPERT: Priority.HIGH,
    Kind.REACTION: Priority.LOW,
    Kind.POST: Priority.LOW,
}


class Channel(models.TextChoices):
    APP = "app", _("In Essaim")
    EMAIL = "email", _("E-mail")
    PUSH = "push", _("Push")


# What reaches each channel unless the person chose otherwise: every kind in the app;
# by e-mail and push at once only what is addressed to the person and urgent. The rest
# waits for the digest.
DEFAULT_CHANNELS: dict[str, frozenset[str]] = {
    kind: frozenset({Channel.APP, Channel.EMAIL, Channel.PUSH})
    if PRIORITY.get(kind) == Priority.HIGH
    else frozenset({Channel.APP})
    for kind in Kind.values
}


class Target(models.TextChoices):
    POST = "post"
    QUESTION = "question"
    ARTICLE = "article"
    CONVERSATION = "conversation"
    COMMUNITY = "community"
    WATCH = "watch"
    HELP = "help"


# What a notification can be about, by target type: "app_label.Model".
TARGET_MODELS = {
    Target.POST: "content.Post",
    Target.QUESTION: "knowledge.Question",
    Target.ARTICLE: "knowledge.Article",
    Target.CONVERSATION: "chat.Conversation",
    Target.COMMUNITY: "communities.Community",
    Target.WATCH: "search.Watch",
    Target.HELP: "chat.HelpRequest",
}


def target_model(target_type: str) -> type[models.Model]:
    return apps.get_model(TARGET_MODELS[Target(target_type)])


def target_type_of(obj: models.Model) -> str:
    label = obj._meta.label
    for target_type, model in TARGET_MODELS.items():
        if model == label:
            return target_type
    raise ValueError(f"nothing notifies about a {label}")


class Notification(models.Model):
    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    target_type = models.CharField(max_length=16, choices=Target.choices)
    target_id = models.BigIntegerField()
    # Where it happened: the person's level for the community, and confidentiality.
    community = models.ForeignKey(
        "communities.Community", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actors = models.JSONField(default=list)  # ids, newest first, ACTORS_KEPT at most
    # Different people (one of them acting again after the newest three counts again).
    actor_count = models.PositiveIntegerField(default=1)
    detail = models.JSONField(default=dict)  # where in the target: {"comment": id}…
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    in_app = models.BooleanField(default=True)  # False: the person wants it by e-mail or push only
    # Delivered outside the app (at once or in a digest): never again.
    emailed_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "target_type", "target_id"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_group",
            )
        ]
        indexes = [models.Index(fields=["user", "-updated_at"], name="notification_list")]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_type}:{self.target_id} for {self.user_id}"


class Level(models.TextChoices):
    ALL = "all", _("Everything: new posts too")
    DEFAULT = "default", _("Mentions and what I follow")
    NOTHING = "nothing", _("Nothing")


class Digest(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    NEVER = "never", _("Never")


class Preferences(models.Model):
    """One person's choices; a person without a row has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    # {kind: [channels]} for the kinds the person changed; the others: DEFAULT_CHANNELS.
    channels = models.JSONField(default=dict)
    digest = models.CharField(max_length=8, choices=Digest.choices, default=Digest.DAILY)
    # Quiet hours, in the person's time zone: no e-mail or push between them.
    quiet_from = models.TimeField(null=True, blank=True)
    quiet_until = models.TimeField(null=True, blank=True)
    digest_sent_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every unsubscribe link used: older links then change nothing.
    link_version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"

    def wants(self, kind: str, channel: str) -> bool:
        chosen = self.channels.get(kind)
        return channel in (DEFAULT_CHANNELS[kind] if chosen is None else chosen)


class CommunityLevel(models.Model):
    """How much one community tells one person (Level.DEFAULT without a row)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="+"
    )
    level = models.CharField(max_length=8, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "community"], name="community_level_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.level} in {self.community_id}"


class PushSubscription(models.Model):
    """One browser's (one device's) web push subscription."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=100)  # the device's public key, base64url
    auth = models.CharField(max_length=40)  # its secret, base64url
    user_agent = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    failures = models.PositiveSmallIntegerField(default=0)  # in a row; removed at FAILURES_MAX

    FAILURES_MAX = 3

    def __str__(self) -> str:
        return f"push of {self.user_id}"
