"""Every read of conversations and messages, filtered by access.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from essaim import access
from essaim.communities.models import Membership
from essaim.content.models import Attachment
from essaim.directory.models import Profile

from .models import (
    Bot,
    Conversation,
    HelpDesk,
    HelpRequest,
    HelpState,
    IncomingWebhook,
    Message,
    MessageReaction,
    Participant,
    ThreadFollow,
)

PAGE = 50  # messages a history page holds
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def conversations(viewer: access.Viewer) -> QuerySet[Conversation]:
    """The conversations the viewer reads, the most recently active first, each with
    ``unread`` (messages of others after the viewer's read position; in a channel never
    opened, since they joined the community), ``muted`` and ``favourite``."""
    me = viewer.pk or 0
    mine = Participant.objects.filter(conversation=OuterRef("pk"), user_id=me)
    joined = Membership.objects.filter(community=OuterRef("community"), user_id=me)
    position = Coalesce(Subquery(mine.values("last_read")[:1]), Value(0))
    since = Coalesce(Subquery(joined.values("joined_at")[:1]), Value(EPOCH))
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            parent__isnull=True,
            deleted_at__isnull=True,
            id__gt=OuterRef("position"),
            created_at__gte=OuterRef("since"),
        )
        .exclude(author_id=me)
        .values("conversation")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        access.visible(viewer, Conversation.objects.all())
        .select_related("community")
        .annotate(position=position, since=since)
        .annotate(
            unread=Coalesce(Subquery(unread), Value(0)),
            muted=Coalesce(Subquery(mine.values("muted")[:1]), Value(False)),
            favourite=Coalesce(Subquery(mine.values("favourite")[:1]), Value(False)),
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
    )


def unread_total(viewer: access.Viewer) -> int:
    """Unread messages in every conversation the viewer has not muted."""
    return sum(c.unread for c in conversations(viewer) if not c.muted)  # type: ignore[attr-defined]


def people_of(viewer: access.Viewer, conversation: Conversation) -> list[int]:
    """Who is in the conversation (``conversation`` read through access)."""
    return list(access.audience(conversation).order_by("display_name").values_list("pk", flat=True))


def history(
    viewer: access.Viewer,
    conversation: Conversation,
    *,
    before: int | None = None,
    after: int | None = None,
    around: int | None = None,
    query: str = "",
    limit: int = PAGE,
) -> list[Message]:
    """Up to ``limit`` messages of the conversation (not thread replies), oldest first:
    the newest; or those ``before`` or ``after`` a message id (scrolling); or the
    context ``around`` one (a link to a message). ``query``: those whose text holds it."""
    found = (
        access.visible(viewer, Message.objects.filter(conversation=conversation))
        .filter(parent__isnull=True)
        .select_related("author")
    )
    if query:
        found = found.filter(body__icontains=query)
    if around is not None:
        older = list(found.filter(id__lte=around).order_by("-id")[: limit // 2 + 1])
        newer = list(found.filter(id__gt=around).order_by("id")[: limit // 2])
        return decorated(viewer, older[::-1] + newer)
    if after is not None:
        return decorated(viewer, list(found.filter(id__gt=after).order_by("id")[:limit]))
    if before is not None:
        found = found.filter(id__lt=before)
    return decorated(viewer, list(found.order_by("-id")[:limit])[::-1])


def thread(viewer: access.Viewer, message: Message) -> list[Message]:
    """The replies to a thread's first message (read through access), oldest first."""
    replies = access.visible(viewer, Message.objects.filter(parent=message))
    return decorated(viewer, list(replies.select_related("author").order_by("id")))


def followed_threads(viewer: access.Viewer) -> QuerySet[Message]:
    """The threads the viewer follows in conversations they read, the latest reply
    first, each with ``unread`` (others' replies after the last one they read)."""
    me = viewer.pk or 0
    follow = ThreadFollow.objects.filter(message=OuterRef("pk"), user_id=me, following=True)
    unread = (
        Message.objects.filter(
            parent=OuterRef("pk"), deleted_at__isnull=True, id__gt=OuterRef("read_up_to")
        )
        .exclude(author_id=me)
        .values("parent")
        .annotate(n=Count("*"))
        .values("n")
    )
    latest = Message.objects.filter(parent=OuterRef("pk")).order_by("-id").values("created_at")
    return (
        access.visible(viewer, Message.objects.filter(Exists(follow)))
        .select_related("author", "conversation__community")
        .annotate(read_up_to=Subquery(follow.values("last_read")[:1]))
        .annotate(unread=Coalesce(Subquery(unread), Value(0)), latest_reply=Subquery(latest[:1]))
        .order_by(F("latest_reply").desc(nulls_last=True), "-id")
    )


def unread_threads(viewer: access.Viewer) -> int:
    """Followed threads with replies the viewer has not read."""
    return followed_threads(viewer).filter(Q(unread__gt=0)).count()


def follows(viewer: access.Viewer, message: Message) -> bool:
    found = ThreadFollow.objects.filter(message=message, user_id=viewer.pk or 0, following=True)
    return found.exists()


def pins(viewer: access.Viewer, conversation: Conversation) -> list[Message]:
    """The pinned messages of a conversation (read through access), latest pin first."""
    found = access.visible(viewer, Message.objects.filter(conversation=conversation))
    found = found.filter(pinned_at__isnull=False).select_related("author")
    return decorated(viewer, list(found.order_by("-pinned_at")[:PAGE]))


@dataclass
class ReactionCount:
    emoji: str
    count: int
    mine: bool


def decorated(viewer: access.Viewer, messages: list[Message]) -> list[Message]:
    """Each message with its ``reaction_list`` (per emoji: count, whether the viewer is
    among them) and ``files``, in two queries for the page."""
    ids = [m.pk for m in messages]
    counts: dict[int, dict[str, ReactionCount]] = defaultdict(dict)
    rows = MessageReaction.objects.filter(message_id__in=ids).values_list(
        "message_id", "emoji", "user_id"
    )
    for message_id, emoji, user_id in rows.order_by("id"):
        found = counts[message_id].setdefault(emoji, ReactionCount(emoji, 0, False))
        found.count += 1
        found.mine = found.mine or user_id == viewer.pk
    files: dict[int, list[Attachment]] = defaultdict(list)
    for file in Attachment.objects.filter(message_id__in=ids).order_by("pk"):
        files[file.message_id or 0].append(file)
    for message in messages:
        message.reaction_list = list(counts[message.pk].values())  # type: ignore[attr-defined]
        message.files = files.get(message.pk, [])  # type: ignore[attr-defined]
    return messages


def read_receipts(viewer: access.Viewer, conversation: Conversation) -> list[Participant]:
    """The others' read positions (``last_read``, with ``user``) that the viewer sees:
    none unless receipts show to them here, and only of those who share theirs."""
    if not access.shows_read_receipts(viewer, conversation):
        return []
    found = Participant.objects.filter(
        conversation=conversation,
        left_at__isnull=True,
        last_read__gt=0,
        user__is_active=True,
        user__read_receipts=True,
    )
    return list(found.exclude(user_id=viewer.pk or 0).select_related("user").order_by("user_id"))


def seen_by(messages: list[Message], receipts: list[Participant]) -> list[Message]:
    """Each message's ``seen_by``: the people whose read position stops at it (the latest
    of these messages they read, their own aside)."""
    for message in messages:
        message.seen_by = []  # type: ignore[attr-defined]
    for receipt in receipts:
        read = [m for m in messages if m.pk <= receipt.last_read and m.author_id != receipt.user_id]
        if read:
            read[-1].seen_by.append(receipt.user)  # type: ignore[attr-defined]
    return messages


def own_availability(viewer: access.Viewer) -> Profile | None:
    """The viewer's own profile, for their availability and status message."""
    return Profile.objects.filter(user_id=viewer.pk or 0).first()


def own_state(viewer: access.Viewer, conversation: Conversation) -> Participant | None:
    return Participant.objects.filter(conversation=conversation, user_id=viewer.pk or 0).first()


# --- Help line ------------------------------------------------------------------------------


def desks(viewer: access.Viewer) -> QuerySet[HelpDesk]:
    """The help lines: every employee may ask any of them."""
    if not access.sees_everyone(viewer):
        return HelpDesk.objects.none()
    return HelpDesk.objects.order_by("name", "id")


def help_queue(
    viewer: access.Viewer, desk: HelpDesk, *, state: str | None = None
) -> QuerySet[HelpRequest]:
    """A desk's requests the viewer sees (its helpers: all; an asker: theirs), waiting
    ones first, oldest first."""
    found = access.visible(viewer, HelpRequest.objects.filter(desk=desk))
    if state:
        found = found.filter(state=state)
    order = Case(
        When(state=HelpState.WAITING, then=Value(0)),
        When(state=HelpState.CLAIMED, then=Value(1)),
        default=Value(2),
    )
    return found.select_related("asker", "claimed_by", "conversation").order_by(
        order, "created_at", "id"
    )


# --- Bots and incoming webhooks -------------------------------------------------------------


def webhooks(viewer: access.Viewer, conversation: Conversation) -> QuerySet[IncomingWebhook]:
    """A channel's incoming webhooks, live ones first (its owners and animators)."""
    if not access.can(viewer, "webhooks", conversation):
        return IncomingWebhook.objects.none()
    found = IncomingWebhook.objects.filter(conversation=conversation)
    return found.select_related("created_by").order_by(
        F("revoked_at").desc(nulls_first=True), "-id"
    )


def managed_webhook(viewer: access.Viewer, webhook_id: int) -> IncomingWebhook:
    """A webhook the viewer manages; NotFound otherwise, as for one that does not exist."""
    found = IncomingWebhook.objects.select_related("conversation__community")
    webhook = found.filter(pk=webhook_id).first()
    if webhook is None or not access.can(viewer, "webhooks", webhook.conversation):
        raise access.NotFound
    return webhook


def bots(viewer: access.Viewer) -> QuerySet[Bot]:
    """The bots with API tokens (not the webhooks' own), for administrators."""
    if not access.is_admin(viewer):
        return Bot.objects.none()
    found = Bot.objects.exclude(user__in=IncomingWebhook.objects.values("bot"))
    return found.select_related("user", "created_by").order_by("user__display_name", "pk")
