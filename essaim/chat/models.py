"""Conversations and their messages: one-to-one, groups, and a channel per community.

Who is in a direct or group conversation is its ``Participant`` rows (those not left);
a community's channel is read by the community's members (access.ConversationRule), and
a participant row there holds only a member's read position and settings. A message's
``client_id`` makes a retried send idempotent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from essaim.content.models import CLIENT_ID_MAX

BODY_MAX = 10_000
TITLE_MAX = 100


class ConversationKind(models.TextChoices):
    DIRECT = "direct", _("Direct message")
    GROUP = "group", _("Group conversation")
    CHANNEL = "channel", _("Community channel")
    HELP = "help", _("Help request")


class Conversation(models.Model):
    kind = models.CharField(max_length=10, choices=ConversationKind.choices)
    title = models.CharField(max_length=TITLE_MAX, blank=True, default="")
    community = models.OneToOneField(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="channel",
    )
    # "<smaller user id>:<larger user id>" for a direct conversation: one per pair.
    direct_key = models.CharField(max_length=40, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="channel", community__isnull=False)
                | (~Q(kind="channel") & Q(community__isnull=True)),
                name="conversation_channel_has_community",
            ),
            models.CheckConstraint(
                condition=(Q(kind="direct") & ~Q(direct_key=""))
                | (~Q(kind="direct") & Q(direct_key="")),
                name="conversation_direct_has_key",
            ),
            models.UniqueConstraint(
                fields=["direct_key"], condition=~Q(direct_key=""), name="conversation_direct_once"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.kind} {self.pk}"


class Participant(models.Model):
    """Someone in a conversation (a direct or group one: while ``left_at`` is empty), with
    their read position (the last message id read) and settings."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    last_read = models.BigIntegerField(default=0)
    muted = models.BooleanField(default=False)
    favourite = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="participant_once")
        ]
        indexes = [models.Index(fields=["user", "conversation"], name="participant_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.conversation_id}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=BODY_MAX)
    html = models.TextField()
    # Chosen by the sending client, once per message: a retry with the same id returns
    # the message already written instead of writing it twice.
    client_id = models.CharField(max_length=CLIENT_ID_MAX, blank=True, default="")
    # A reply in a thread: the thread's first message (a reply to a reply joins it).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    reply_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    pinned_at = models.DateTimeField(null=True, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=~Q(client_id=""),
                name="message_client_id_once",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_history"),
            models.Index(fields=["parent", "id"], name="message_thread"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.conversation_id}"


class ThreadFollow(models.Model):
    """Someone following a thread (its first message): they started it, replied in it or
    chose to. ``last_read``: the last reply they read. ``following`` False: they stopped
    (kept, so that the next reply does not make its author follow again; replying does)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    following = models.BooleanField(default=True)
    last_read = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="thread_follow_once")
        ]
        indexes = [models.Index(fields=["user", "following"], name="thread_follow_user")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.message_id}"


# The reactions a message may get: a short, shared set (as Teams and Viva Engage), so that
# they read the same everywhere and count together.
REACTIONS = ("👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "✅", "🚀")


class MessageReaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="message_reaction_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on {self.message_id}"


class MessageEdit(models.Model):
    """A message's earlier text, kept when it is edited (its history)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    body = models.TextField()
    edited_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"edit of {self.message_id}"


class HelpDesk(models.Model):
    """A help line (*hot-line*): any employee asks, its rota of ``helpers`` answers."""

    name = models.CharField(max_length=TITLE_MAX)
    description = models.TextField(blank=True, default="")
    helpers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class HelpState(models.TextChoices):
    WAITING = "waiting", _("Waiting")  # in the queue
    CLAIMED = "claimed", _("In progress")  # a helper took it
    RESOLVED = "resolved", _("Resolved")


class HelpRequest(models.Model):
    """A question to a help desk: its conversation, where it stands, and the times the
    analytics measure (first response, resolution) and the asker's rating."""

    desk = models.ForeignKey(HelpDesk, on_delete=models.CASCADE, related_name="requests")
    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="help_request"
    )
    asker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=HelpState.choices, default=HelpState.WAITING)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)  # 1 to 5

    class Meta:
        indexes = [models.Index(fields=["desk", "state", "created_at"], name="help_queue")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="help_rating_range",
            )
        ]

    def __str__(self) -> str:
        return f"help request {self.pk} to {self.desk_id}"


class Bot(models.Model):
    """The bot side of a user of kind bot: who made it and manages it. A bot signs in
    with API tokens only; an incoming webhook's bot has no token and only posts through
    its webhook."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="bot"
    )
    description = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"bot {self.user_id}"


class IncomingWebhook(models.Model):
    """A secret URL that posts into a community's channel (Slack's JSON shape), as its own
    bot. Only the secret's SHA-256 is kept: the URL is shown once."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="webhooks"
    )
    bot = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=TITLE_MAX)
    prefix = models.CharField(max_length=16)  # shown in lists so people recognise a URL
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
