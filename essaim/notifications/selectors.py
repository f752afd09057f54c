"""Every read of notifications, through access.NotificationRule: a person sees their
own, and only those about something they may still see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import unescape

from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from essaim import access
from essaim.accounts.models import User
from essaim.chat.models import HelpRequest
from essaim.communities.models import Community

from .models import (
    CommunityLevel,
    Digest,
    Kind,
    Level,
    Notification,
    Preferences,
    PushSubscription,
    Target,
    target_model,
    target_type_of,
)

PAGE = 30
TITLE_CHARS = 80

# "%(actors)s" are the people who did it, "%(target)s" what it is about.
SENTENCES = {
    Kind.MENTION: gettext_lazy("%(actors)s mentioned you in %(target)s"),
    Kind.MESSAGE: gettext_lazy("%(actors)s wrote to you in %(target)s"),
    Kind.REPLY: gettext_lazy("%(actors)s replied on %(target)s"),
    Kind.ANSWER: gettext_lazy("%(actors)s answered your question %(target)s"),
    Kind.ACCEPTED: gettext_lazy("%(actors)s accepted your answer to %(target)s"),
    Kind.REACTION: gettext_lazy("%(actors)s reacted to %(target)s"),
    Kind.INVITATION: gettext_lazy("%(actors)s invited you to join %(target)s"),
    Kind.JOIN_REQUEST: gettext_lazy("%(actors)s asked to join %(target)s"),
    Kind.ANNOUNCEMENT: gettext_lazy("%(actors)s asks you to read %(target)s"),
    Kind.POST: gettext_lazy("%(actors)s posted in %(target)s"),
    Kind.WATCH: gettext_lazy("New content matches your watch %(target)s"),
    Kind.EXPERT: gettext_lazy("%(actors)s asks for your expertise on %(target)s"),
    Kind.HELP: gettext_lazy("%(actors)s updated your help request %(target)s"),
}


@dataclass
class Item:
    notification: Notification
    names: list[str]  # of the newest actors
    title: str  # of the target
    url: str  # the target, at the place it happened

    @property
    def text(self) -> SafeString:
        """The sentence in the active language, names and title escaped, in <strong>."""
        row = self.notification
        text = str(SENTENCES[Kind(row.kind)]) % {
            "actors": _actors(self.names, row.actor_count),
            "target": f"<strong>{escape(self.title)}</strong>",
        }
        return mark_safe(text)  # noqa: S308 (escaped above)

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None

    @property
    def when(self) -> datetime:
        return self.notification.updated_at


def mine(viewer: access.Viewer) -> QuerySet[Notification]:
    """What the notification centre shows the viewer."""
    return access.visible(viewer, Notification.objects.filter(in_app=True))


def unread_count(viewer: access.Viewer) -> int:
    return mine(viewer).filter(read_at__isnull=True).count()


def page(viewer: access.Viewer, *, before: int | None = None, unread: bool = False) -> list[Item]:
    """The newest notifications (older than the one ``before``), as sentences."""
    found = mine(viewer).order_by("-updated_at", "-id")
    if unread:
        found = found.filter(read_at__isnull=True)
    if before is not None:
        anchor = found.filter(pk=before).values_list("updated_at", flat=True).first()
        if anchor is not None:
            found = found.filter(updated_at__lt=anchor)
    return items(list(found[:PAGE]))


def items(rows: list[Notification]) -> list[Item]:
    """Sentences for ``rows`` (already checked): a few queries, whatever their number."""
    targets: dict[str, dict[int, Model]] = {}
    for target_type in {row.target_type for row in rows}:
        ids = [row.target_id for row in rows if row.target_type == target_type]
        targets[target_type] = target_model(target_type)._default_manager.in_bulk(ids)
    people = User.objects.in_bulk([a for row in rows for a in row.actors])
    found = []
    for row in rows:
        target = targets[row.target_type].get(row.target_id)
        if target is None:
            continue
        names = [people[a].display_name for a in row.actors if a in people]
        found.append(Item(row, names, title(target), url(row, target)))
    return found


def _actors(names: list[str], count: int) -> str:
    shown = [f"<strong>{escape(n)}</strong>" for n in names[:2]]
    if not shown:
        return escape(_("Someone"))
    if count <= 1:
        return shown[0]
    if count == 2 and len(shown) == 2:
        return _("%(first)s and %(second)s") % {"first": shown[0], "second": shown[1]}
    return ngettext(
        "%(first)s and %(count)d other", "%(first)s and %(count)d others", count - 1
    ) % {"first": shown[0], "count": count - 1}


def title(target: Model) -> str:
    """What the target is called in a sentence: a post by its first words."""
    name = getattr(target, "title", "") or getattr(target, "name", "")
    if not name and hasattr(target, "html"):
        words = " ".join(unescape(strip_tags(target.html)).split())
        name = words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1] + "…"
    if not name and isinstance(target, HelpRequest):
        name = target.desk.name
    return name or _("a conversation")


def url(row: Notification, target: Model) -> str:
    """The target, opened where it happened (the comment, the answer, the message)."""
    detail = row.detail
    if row.target_type == Target.COMMUNITY:
        assert isinstance(target, Community)
        name = "community-members" if row.kind == Kind.JOIN_REQUEST else "community"
        return reverse(name, args=[target.slug])
    if row.target_type == Target.WATCH:
        return reverse("watch", args=[target.pk])
    if row.target_type == Target.CONVERSATION:
        if detail.get("thread"):
            return reverse("chat-thread", args=[detail["thread"]])
        anchor = f"#message-{detail['message']}" if detail.get("message") else ""
        return reverse("conversation", args=[target.pk]) + anchor
    if row.target_type == Target.HELP:
        return reverse("conversation", args=[target.conversation_id])  # type: ignore[attr-defined]
    anchor = ""
    if detail.get("comment"):
        anchor = f"#comment-{detail['comment']}"
    elif detail.get("answer"):
        anchor = f"#answer-{detail['answer']}"
    return target.get_absolute_url() + anchor  # type: ignore[attr-defined]


def community_levels(viewer: User) -> dict[int, str]:
    """The communities whose level the person changed: {id: level}."""
    return dict(CommunityLevel.objects.filter(user=viewer).values_list("community_id", "level"))


def community_level(viewer: User, community: Community) -> str:
    found = CommunityLevel.objects.filter(user=viewer, community=community).first()
    return found.level if found else Level.DEFAULT


def listening(community: Community) -> list[int]:
    """Who chose to hear of every new post of ``community``."""
    close = CommunityLevel.objects.filter(community=community, level=Level.ALL)
    return list(close.values_list("user_id", flat=True))


DIGEST_LINES = 50  # the newest; the centre has the rest


def undigested(people: list[User]) -> dict[int, list[Item]]:
    """For each person, what they have not read and was not e-mailed, that they still
    may see, newest first: a few queries for a whole batch of people."""
    pending = Notification.objects.filter(
        user__in=people, read_at__isnull=True, emailed_at__isnull=True
    ).select_related("community")
    by_user: dict[int, list[Notification]] = {}
    for row in pending.order_by("user_id", "-updated_at"):
        kept = by_user.setdefault(row.user_id, [])
        if len(kept) < DIGEST_LINES:
            kept.append(row)
    readable = [
        row
        for user in people
        for row in access.readable_notifications(user, by_user.get(user.pk, []))
    ]
    found: dict[int, list[Item]] = {}
    for item in items(readable):
        found.setdefault(item.notification.user_id, []).append(item)
    return found


def digest_recipients(rhythms: list[str]) -> list[int]:
    """The active people with something unread and not e-mailed whose digest rhythm is
    one of ``rhythms`` (daily without a choice of theirs)."""
    pending = Notification.objects.filter(
        read_at__isnull=True, emailed_at__isnull=True, user__is_active=True
    )
    people = set(pending.values_list("user_id", flat=True).distinct())
    chose = dict(Preferences.objects.filter(user_id__in=people).values_list("user_id", "digest"))
    return sorted(u for u in people if chose.get(u, Digest.DAILY) in rhythms)


def unread_about(kind: str, target: Model) -> set[int]:
    """Who has an unread notification of ``kind`` about ``target``."""
    unread = Notification.objects.filter(
        kind=kind, target_type=target_type_of(target), target_id=target.pk, read_at__isnull=True
    )
    return set(unread.values_list("user_id", flat=True))


def devices(viewer: access.Viewer) -> QuerySet[PushSubscription]:
    """The viewer's devices that receive push notifications, newest first."""
    return access.visible(viewer, PushSubscription.objects.order_by("-created_at"))
