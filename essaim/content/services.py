"""Every write to posts, comments, reactions, polls, files and people's post states. Each
checks the actor's right through access.py, refuses bad input with a ServiceError before
writing anything, writes in one transaction and emits its real-time event in it. Events
carry ids and counts, never text: a client fetches what changed through the API or a
page, where access.py decides again."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError, clean_text
from essaim.communities.models import Community
from essaim.directory.models import OrgUnit, Site
from essaim.governance.services import audit_record
from essaim.http import Origin
from essaim.notifications import selectors as notification_selectors
from essaim.notifications import services as notifications
from essaim.notifications.models import Kind as Told
from essaim.notifications.models import Priority
from essaim.realtime import events
from essaim.search import services as search

from . import files
from .markdown import MentionKey, Person, Refs, render_with_refs
from .models import (
    ATTACHMENTS_MAX,
    BODY_MAX,
    CLIENT_ID_MAX,
    COMMENT_MAX,
    POLL_OPTION_MAX,
    POLL_OPTIONS_MAX,
    Attachment,
    Comment,
    Hashtag,
    LinkPreview,
    Mention,
    Poll,
    PollOption,
    PollVote,
    Post,
    PostKind,
    PostState,
    Reaction,
    ReactionKind,
    Revision,
)

MENTIONS_MAX = 50  # people one text may name
UNATTACHED_MAX = 50  # files one person may hold before posting them
EVERYONE_MENTION_SECONDS = 3600  # one "@all" per community and hour
REMINDER_SECONDS = 24 * 3600  # one must-read reminder a day
_LINK = re.compile(r"https?://[^\s<>()\"'\]]+", re.IGNORECASE)


def _require(allowed: bool) -> None:
    if not allowed:
        raise access.Forbidden


# --- Text -------------------------------------------------------------------------------


def _resolver(author: User) -> Any:
    """Who a mention may name: people the author sees, by id, or by a name only one of
    them has."""

    def resolve(keys: list[MentionKey]) -> dict[MentionKey, Person]:
        keys = keys[:MENTIONS_MAX]
        people = access.visible(author, access.active_users())
        by_id = {u.pk: u for u in people.filter(pk__in=[i for _n, i in keys if i is not None])}
        names = [n for n, i in keys if i is None]
        by_name: dict[str, list[User]] = {}
        for user in people.filter(display_name__in=names):
            by_name.setdefault(user.display_name, []).append(user)
        found = {}
        for name, person_id in keys:
            same = by_name.get(name, [])
            named = by_id.get(person_id) if person_id is not None else None
            named = named or (same[0] if person_id is None and len(same) == 1 else None)
            if named is not None:
                found[(name, person_id)] = Person(named.pk, named.display_name)
        return found

    return resolve


def render_text(author: User, body: str) -> tuple[str, Refs]:
    """A text's safe HTML, its mentions naming only people ``author`` sees (for every
    app that shows Markdown written by people: posts, comments, questions, answers)."""
    return render_with_refs(body, _resolver(author))


def _first_external_link(body: str) -> str | None:
    """The first link of the text that leaves this site: it gets a preview card."""
    own = urlsplit(settings.SITE_URL).netloc.lower()
    for found in _LINK.finditer(body):
        url = found.group(0).rstrip(".,;:!?")
        host = urlsplit(url).netloc.lower()
        if host and host != own and len(url) <= 2000:
            return url
    return None


def _link_preview(body: str) -> LinkPreview | None:
    url = _first_external_link(body)
    if url is None:
        return None
    digest = hashlib.sha256(url.encode()).hexdigest()
    preview, created = LinkPreview.objects.get_or_create(url_hash=digest, defaults={"url": url})
    if created:
        from .tasks import fetch_link_preview

        transaction.on_commit(lambda: fetch_link_preview.enqueue(preview_id=preview.pk))
    return preview


def _check_everyone(author: User, post: Post, refs: Refs) -> bool:
    """ "@all" reaches a community's members only from its owners and animators, once an
    hour per community; from anyone else it stays plain text."""
    if not refs.everyone or post.community is None:
        return False
    if not access.can(author, "manage", post.community):
        return False
    if not cache.add(f"mention-all:{post.community_id}", 1, EVERYONE_MENTION_SECONDS):
        raise ServiceError(
            _("This community was mentioned as a whole within the hour: name people instead."),
            code="throttled",
            field="body",
        )
    return True


def _record_refs(
    post: Post, comment: Comment | None, refs: Refs, everyone: bool, *, edited: bool
) -> list[int]:
    """Hashtags and mentions of a new or ``edited`` text; returns who is newly mentioned.
    A person who may not read the post is not recorded: not told, and shown nothing."""
    if comment is None:
        if edited:
            Hashtag.objects.filter(post=post).delete()
        Hashtag.objects.bulk_create(
            [Hashtag(post=post, name=name, created_at=post.created_at) for name in refs.hashtags]
        )
    already: set[int] = set()
    if edited:
        earlier = Mention.objects.filter(post=post, comment=comment, user__isnull=False)
        already = set(earlier.values_list("user_id", flat=True))
    people = User.objects.in_bulk([p.id for p in refs.people if p.id not in already])
    new = [pk for pk, person in people.items() if access.can(person, access.VIEW, post)]
    Mention.objects.bulk_create([Mention(post=post, comment=comment, user_id=pk) for pk in new])
    if everyone:
        Mention.objects.create(post=post, comment=comment, everyone=True)
    return new


def _post_event(
    type: str, post: Post, data: dict[str, Any], users: Iterable[int] | None = None
) -> None:
    """An event about ``post`` to those who read it (narrowed to ``users``)."""
    data = {"post": post.pk, "community": post.community_id, **data}
    if post.community is not None:
        events.emit(type, data, community=post.community, users=users)
    elif post.kind == PostKind.ANNOUNCEMENT and (post.org_unit_id or post.site_id):
        readers = set(access.audience(post).values_list("pk", flat=True))
        events.emit(type, data, users=readers & set(users) if users is not None else readers)
    else:
        events.emit(type, data, everyone=True, users=users)


def _tell_post_created(post: Post, actor: User, mentioned: list[int], everyone: bool) -> None:
    """The named, the whole community for "@all", those who follow the community closely,
    and, for a must-read announcement, everyone it reaches."""
    place = post.community
    named = set(mentioned)
    notifications.notify(Told.MENTION, named, target=post, actor=actor, community=place)
    if everyone and place is not None:
        # Each of a whole community is told, but not urgently: no e-mail at once to all.
        members = set(place.memberships.values_list("user_id", flat=True)) - named
        notifications.notify(
            Told.MENTION,
            members,
            target=post,
            actor=actor,
            community=place,
            priority=Priority.NORMAL,
        )
        named |= members
    if post.must_read:
        readers = set(access.audience(post).values_list("pk", flat=True)) - named
        notifications.notify(Told.ANNOUNCEMENT, readers, target=post, actor=actor)
    elif place is not None:
        close = set(notification_selectors.listening(place)) - named
        notifications.notify(Told.POST, close, target=post, actor=actor, community=place)


def _tell_commented(post: Post, comment: Comment, mentioned: list[int]) -> None:
    """The named; the post's author, the parent comment's and the post's followers."""
    actor, place, where = comment.author, post.community, {"comment": comment.pk}
    notifications.notify(
        Told.MENTION, mentioned, target=post, actor=actor, community=place, detail=where
    )
    followers = PostState.objects.filter(post=post, following=True)
    replied = {post.author_id, *followers.values_list("user_id", flat=True)}
    if comment.parent is not None:
        replied.add(comment.parent.author_id)
    notifications.notify(
        Told.REPLY,
        replied - set(mentioned),
        target=post,
        actor=actor,
        community=place,
        detail=where,
    )


# --- Posts ------------------------------------------------------------------------------


def claim_attachments(actor: User, ids: Sequence[int]) -> list[Attachment]:
    """The actor's unattached uploads ``ids``, in that order, for a post, comment, question
    or answer to take; any other id is refused."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    if len(ids) > ATTACHMENTS_MAX:
        raise ServiceError(
            _("At most %(count)d files.") % {"count": ATTACHMENTS_MAX}, field="attachments"
        )
    found = list(Attachment.objects.filter(Attachment.UNATTACHED, pk__in=ids, uploader=actor))
    if len(found) != len(ids):
        raise ServiceError(_("One of these files is not yours to attach."), field="attachments")
    return sorted(found, key=lambda a: ids.index(a.pk))


def _clean_poll(poll: dict[str, Any]) -> dict[str, Any]:
    options = poll.get("options")
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise ServiceError(_("A poll needs a list of choices."), field="poll.options")
    options = [o.strip() for o in options if o.strip()]
    if not 2 <= len(options) <= POLL_OPTIONS_MAX or len(set(options)) != len(options):
        raise ServiceError(
            _("A poll has from 2 to %(count)d different choices.") % {"count": POLL_OPTIONS_MAX},
            field="poll.options",
        )
    if any(len(o) > POLL_OPTION_MAX for o in options):
        raise ServiceError(
            _("At most %(limit)d characters.") % {"limit": POLL_OPTION_MAX}, field="poll.options"
        )
    closes_at = poll.get("closes_at")
    if isinstance(closes_at, datetime) and timezone.is_naive(closes_at):
        raise ServiceError(_("Give the closing time with its time zone."), field="poll.closes_at")
    if closes_at is not None and (
        not isinstance(closes_at, datetime) or closes_at <= timezone.now()
    ):
        raise ServiceError(_("A poll closes in the future."), field="poll.closes_at")
    return {
        "options": options,
        "multiple": bool(poll.get("multiple", False)),
        "anonymous": bool(poll.get("anonymous", False)),
        "closes_at": closes_at,
    }


def post_create(
    *,
    actor: User,
    community: Community | None,
    body: str,
    kind: str = PostKind.POST,
    attachments: Sequence[int] = (),
    poll: dict[str, Any] | None = None,
    must_read: bool = False,
    org_unit: OrgUnit | None = None,
    site: Site | None = None,
    client_id: str = "",
) -> Post:
    """A post in ``community``, or (without one) on the actor's profile, or a company
    announcement (``kind`` announcement, for everyone or one org unit or site). A request
    retried with the same ``client_id`` returns the post the first one wrote."""
    if kind not in PostKind.values:
        raise ServiceError(_("Unknown type of post."), field="kind")
    if poll is not None:
        kind = PostKind.POLL if kind == PostKind.POST else kind
    if kind == PostKind.POLL and poll is None:
        raise ServiceError(_("A poll needs a list of choices."), field="poll.options")
    _require(access.may_publish(actor, community, kind))
    client_id = clean_text(client_id, "client_id", CLIENT_ID_MAX)
    if (sent := _posted_before(actor, community, client_id)) is not None:
        return sent
    if must_read and kind != PostKind.ANNOUNCEMENT:
        raise ServiceError(_("Only an announcement can be a must-read."), field="must_read")
    if (org_unit or site) and not (kind == PostKind.ANNOUNCEMENT and community is None):
        raise ServiceError(
            _("Only a company announcement is sent to an org unit or a site."), field="org_unit"
        )
    body = clean_text(body, "body", BODY_MAX, required=not attachments and poll is None)
    poll_data = _clean_poll(poll) if poll is not None else None
    try:
        with transaction.atomic():
            files_ = claim_attachments(actor, attachments)
            html, refs = render_text(actor, body)
            post = Post.objects.create(
                author=actor,
                community=community,
                kind=kind,
                body=body,
                html=html,
                must_read=must_read,
                org_unit=org_unit,
                site=site,
                link=_link_preview(body),
                client_id=client_id,
            )
            everyone = _check_everyone(actor, post, refs)
            mentioned = _record_refs(post, None, refs, everyone, edited=False)
            Attachment.objects.filter(pk__in=[a.pk for a in files_]).update(post=post)
            search.changed(Post, post.pk)
            if poll_data is not None:
                options = poll_data.pop("options")
                created = Poll.objects.create(post=post, **poll_data)
                PollOption.objects.bulk_create(
                    [PollOption(poll=created, label=o, position=i) for i, o in enumerate(options)]
                )
            data = {"author": actor.pk, "kind": kind, "must_read": must_read}
            if community is None and kind != PostKind.ANNOUNCEMENT:
                # On a profile: to the author's followers, whose feeds show it.
                followers = set(
                    actor.followers.filter(follower__is_active=True).values_list(
                        "follower_id", flat=True
                    )
                )
                _post_event("post.created", post, data, users=followers | {actor.pk})
            else:
                _post_event("post.created", post, data)
            if mentioned:
                _post_event("post.mentioned", post, {"author": actor.pk}, users=mentioned)
            _tell_post_created(post, actor, mentioned, everyone)
    except IntegrityError:  # the same client id, written meanwhile by a concurrent retry
        if (sent := _posted_before(actor, community, client_id)) is None:
            raise
        return sent
    return post


def _posted_before(actor: User, community: Community | None, client_id: str) -> Post | None:
    """The post ``client_id`` already wrote (a retried request), if any; one elsewhere is
    refused."""
    if not client_id:
        return None
    sent = Post.objects.filter(author=actor, client_id=client_id).first()
    if sent is not None and sent.community_id != (community.pk if community else None):
        raise ServiceError(_("This client id was used for another post."), field="client_id")
    return sent


def post_edit(*, actor: User, post: Post, body: str) -> Post:
    """A new text; the old one is kept as a revision. Newly mentioned people are told."""
    _require(access.can(actor, "edit", post))
    body = clean_text(body, "body", BODY_MAX, required=not post.attachments.exists())
    if body == post.body:
        return post
    with transaction.atomic():
        Revision.objects.create(post=post, body=post.body, editor=actor)
        post.html, refs = render_text(actor, body)
        post.body = body
        post.edited_at = timezone.now()
        post.link = _link_preview(body)
        post.save(update_fields=["body", "html", "edited_at", "link"])
        search.changed(Post, post.pk)
        mentioned = _record_refs(post, None, refs, everyone=False, edited=True)
        _post_event("post.updated", post, {"author": post.author_id})
        if mentioned:
            _post_event("post.mentioned", post, {"author": actor.pk}, users=mentioned)
            notifications.notify(
                Told.MENTION, mentioned, target=post, actor=actor, community=post.community
            )
    return post


def post_delete(*, actor: User, origin: Origin, post: Post) -> None:
    """Soft: the post and its files disappear from every page; moderation and retention
    decide when they really go. A deletion by someone else than the author is audited."""
    _require(access.can(actor, "delete", post))
    with transaction.atomic():
        # Read before the deletion: a deleted post has no audience.
        readers = None
        if post.is_company_announcement and (post.org_unit_id or post.site_id):
            readers = set(access.audience(post).values_list("pk", flat=True))
        post.deleted_at = timezone.now()
        post.deleted_by = actor
        post.save(update_fields=["deleted_at", "deleted_by"])
        search.changed(Post, post.pk)
        if actor.pk != post.author_id:
            audit_record(actor=actor, action="post.delete", target=post, origin=origin)
        data = {"post": post.pk, "community": post.community_id}
        # Everyone who read it may drop it from their page (it is unreadable now).
        if post.community is not None:
            events.emit("post.deleted", data, community=post.community)
        elif readers is not None:
            events.emit("post.deleted", data, users=readers)
        else:
            events.emit("post.deleted", data, everyone=True)


def post_pin(*, actor: User, post: Post, pinned: bool) -> Post:
    _require(access.can(actor, "pin", post))
    with transaction.atomic():
        post.pinned_at = timezone.now() if pinned else None
        post.save(update_fields=["pinned_at"])
        _post_event("post.updated", post, {"author": post.author_id, "pinned": pinned})
    return post


# --- Comments ---------------------------------------------------------------------------


def comment_create(
    *,
    actor: User,
    post: Post,
    body: str,
    parent: Comment | None = None,
    attachments: Sequence[int] = (),
) -> Comment:
    """A comment on ``post``, or a reply to one of its comments (a reply to a reply joins
    the same thread: one level)."""
    _require(access.can(actor, "comment", post))
    if parent is not None:
        if parent.post_id != post.pk or parent.deleted_at is not None:
            raise ServiceError(_("This comment is not on this post."), field="parent")
        parent = parent.parent or parent
    body = clean_text(body, "body", COMMENT_MAX, required=not attachments)
    with transaction.atomic():
        files_ = claim_attachments(actor, attachments)
        html, refs = render_text(actor, body)
        comment = Comment.objects.create(
            post=post, parent=parent, author=actor, body=body, html=html
        )
        mentioned = _record_refs(post, comment, refs, everyone=False, edited=False)
        Attachment.objects.filter(pk__in=[a.pk for a in files_]).update(post=post, comment=comment)
        search.changed(Comment, comment.pk)
        Post.objects.filter(pk=post.pk).update(
            comment_count=F("comment_count") + 1, activity_at=comment.created_at
        )
        post.refresh_from_db(fields=["comment_count", "activity_at"])
        data = {
            "comment": comment.pk,
            "parent": parent.pk if parent else None,
            "author": actor.pk,
            "comments": post.comment_count,
        }
        _post_event("comment.created", post, data)
        if mentioned:
            data = {"author": actor.pk, "comment": comment.pk}
            _post_event("post.mentioned", post, data, users=mentioned)
        _tell_commented(post, comment, mentioned)
        # Taking part follows the post (told of the next comments), unless it was muted.
        state = _state(actor, post)
        if not state.following and not state.muted:
            state.following = True
            state.save(update_fields=["following"])
    return comment


def comment_edit(*, actor: User, comment: Comment, body: str) -> Comment:
    _require(access.can(actor, "edit", comment))
    body = clean_text(body, "body", COMMENT_MAX, required=not comment.attachments.exists())
    if body == comment.body:
        return comment
    with transaction.atomic():
        Revision.objects.create(comment=comment, body=comment.body, editor=actor)
        comment.html, refs = render_text(actor, body)
        comment.body = body
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "html", "edited_at"])
        search.changed(Comment, comment.pk)
        mentioned = _record_refs(comment.post, comment, refs, everyone=False, edited=True)
        data = {"comment": comment.pk, "author": comment.author_id}
        _post_event("comment.updated", comment.post, data)
        if mentioned:
            data = {"author": actor.pk, "comment": comment.pk}
            _post_event("post.mentioned", comment.post, data, users=mentioned)
            notifications.notify(
                Told.MENTION,
                mentioned,
                target=comment.post,
                actor=actor,
                community=comment.post.community,
                detail={"comment": comment.pk},
            )
    return comment


def comment_delete(*, actor: User, origin: Origin, comment: Comment) -> None:
    _require(access.can(actor, "delete", comment))
    post = comment.post
    with transaction.atomic():
        replies = comment.replies.filter(deleted_at__isnull=True).values_list("pk", flat=True)
        gone = [comment.pk, *replies]
        now = timezone.now()
        Comment.objects.filter(pk__in=gone).update(deleted_at=now)
        search.changed(Comment, *gone)
        Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") - len(gone))
        post.refresh_from_db(fields=["comment_count"])
        if actor.pk != comment.author_id:
            audit_record(actor=actor, action="comment.delete", target=comment, origin=origin)
        data = {"comment": comment.pk, "comments": post.comment_count}
        _post_event("comment.deleted", post, data)


# --- Reactions, polls -------------------------------------------------------------------


def _reaction_counts(target: Q) -> dict[str, int]:
    rows = Reaction.objects.filter(target).values("kind").annotate(n=Count("pk"))
    return {row["kind"]: row["n"] for row in rows}


def react(
    *, actor: User, post: Post, kind: str | None, comment: Comment | None = None
) -> dict[str, int]:
    """Sets (or, with ``kind`` None, removes) the actor's reaction to a post or comment;
    returns the counts by kind."""
    target = comment if comment is not None else post
    _require(access.can(actor, "react", target))
    if kind is not None and kind not in ReactionKind.values:
        raise ServiceError(_("Unknown reaction."), field="kind")
    on = Q(comment=comment) if comment is not None else Q(post=post, comment__isnull=True)
    model = Comment if comment is not None else Post
    with transaction.atomic():
        removed, _kinds = Reaction.objects.filter(on, user=actor).delete()
        if kind is not None:
            Reaction.objects.create(
                user=actor,
                kind=kind,
                post=None if comment is not None else post,
                comment=comment,
            )
        delta = (kind is not None) - removed
        if delta:
            model.objects.filter(pk=target.pk).update(reaction_count=F("reaction_count") + delta)
        if kind is not None and comment is None:
            Post.objects.filter(pk=post.pk).update(activity_at=timezone.now())
        counts = _reaction_counts(on)
        data = {"comment": comment.pk if comment else None, "reactions": counts}
        _post_event("reaction.changed", post, data)
        if kind is not None and not removed:  # a new reaction, not a changed one
            notifications.notify(
                Told.REACTION,
                [target.author_id],
                target=post,
                actor=actor,
                community=post.community,
                detail={"comment": comment.pk} if comment else {},
            )
    return counts


def poll_vote(*, actor: User, post: Post, options: Sequence[int]) -> dict[int, int]:
    """The actor's choice (replacing any earlier one); returns the counts by option."""
    _require(access.can(actor, "vote", post))
    poll = Poll.objects.filter(post=post).first()
    if poll is None:
        raise ServiceError(_("This post has no poll."), field="options")
    if poll.closed:
        raise ServiceError(_("This poll is closed."), code="conflict", field="options")
    chosen = list(dict.fromkeys(options))
    valid = set(poll.options.filter(pk__in=chosen).values_list("pk", flat=True))
    if len(valid) != len(chosen) or not chosen:
        raise ServiceError(_("Choose among this poll's choices."), field="options")
    if len(chosen) > 1 and not poll.multiple:
        raise ServiceError(_("This poll takes one choice."), field="options")
    with transaction.atomic():
        Poll.objects.select_for_update().filter(pk=poll.pk).get()  # one vote at a time
        mine = PollVote.objects.filter(poll=poll, user=actor)
        before = list(mine.values_list("option_id", flat=True))
        mine.delete()
        PollOption.objects.filter(pk__in=before).update(vote_count=F("vote_count") - 1)
        PollVote.objects.bulk_create([PollVote(poll=poll, option_id=o, user=actor) for o in chosen])
        PollOption.objects.filter(pk__in=chosen).update(vote_count=F("vote_count") + 1)
        counts = dict(poll.options.values_list("pk", "vote_count"))
        data = {"votes": {str(k): v for k, v in counts.items()}}
        _post_event("poll.voted", post, data)
    return counts


# --- One person's state of a post -------------------------------------------------------


def _state(actor: User, post: Post) -> PostState:
    state, _ = PostState.objects.get_or_create(post=post, user=actor)
    return state


def post_state_set(
    *,
    actor: User,
    post: Post,
    saved: bool | None = None,
    following: bool | None = None,
    muted: bool | None = None,
    read: bool | None = None,
    acknowledged: bool | None = None,
) -> PostState:
    """Save (bookmark), follow, mute, mark read, acknowledge a must-read: what the actor
    does with a post they read. Acknowledging reads it too; it cannot be taken back."""
    _require(access.can(actor, access.VIEW, post))
    if acknowledged is not None and not post.must_read:
        raise ServiceError(_("This post asks for no acknowledgement."), field="acknowledged")
    if acknowledged is False:
        raise ServiceError(_("An acknowledgement cannot be taken back."), field="acknowledged")
    now = timezone.now()
    with transaction.atomic():
        state = _state(actor, post)
        if saved is not None:
            state.saved_at = now if saved else None
        if following is not None:
            state.following = following
            state.muted = state.muted and not following
        if muted is not None:
            state.muted = muted
            state.following = False if muted else state.following
        if read is not None:
            state.read_at = (state.read_at or now) if read else None
        if acknowledged:
            state.acknowledged_at = state.acknowledged_at or now
            state.read_at = state.read_at or now
        state.save()
    return state


def posts_read(*, actor: User, posts: Iterable[Post]) -> int:
    """Marks posts the actor was shown as read (the feed sends what scrolled past);
    returns how many were new."""
    ids = {p.pk for p in posts}
    shown = access.visible(actor, Post.objects.filter(pk__in=ids))
    readable = set(shown.values_list("pk", flat=True))
    now = timezone.now()
    with transaction.atomic():
        states = PostState.objects.filter(user=actor, post_id__in=readable)
        known = set(states.values_list("post_id", flat=True))
        PostState.objects.bulk_create(
            [PostState(post_id=pk, user=actor, read_at=now) for pk in readable - known],
            ignore_conflicts=True,
        )
        marked = states.filter(post_id__in=known, read_at__isnull=True).update(read_at=now)
    return len(readable - known) + marked


def remind_unacknowledged(*, actor: User, post: Post) -> int:
    """Reminds those who have not yet acknowledged a must-read (once a day at most);
    returns how many."""
    _require(access.can(actor, "track", post))
    if not post.must_read:
        raise ServiceError(_("This post asks for no acknowledgement."), field="post")
    if not cache.add(f"must-read-reminder:{post.pk}", 1, REMINDER_SECONDS):
        raise ServiceError(
            _("A reminder went out less than a day ago."), code="throttled", field="post"
        )
    done = PostState.objects.filter(post=post, acknowledged_at__isnull=False).values("user")
    waiting = list(access.audience(post).exclude(pk__in=done).values_list("pk", flat=True))
    with transaction.atomic():
        now = timezone.now()
        PostState.objects.bulk_create(
            [PostState(post=post, user_id=pk) for pk in waiting], ignore_conflicts=True
        )
        PostState.objects.filter(post=post, user_id__in=waiting).update(reminded_at=now)
        if waiting:
            _post_event("post.must_read_reminder", post, {"author": post.author_id}, users=waiting)
    return len(waiting)


# --- Files ------------------------------------------------------------------------------


def attachment_upload(*, actor: User, upload: UploadedFile | BinaryIO, name: str) -> Attachment:
    """A file checked and cleaned by content.files, stored and held for the actor until a
    post, comment, question or answer takes it."""
    _require(access.is_active(actor))
    waiting = Attachment.objects.filter(
        Attachment.UNATTACHED,
        uploader=actor,
        created_at__gte=timezone.now() - timedelta(days=1),
    ).count()
    if waiting >= UNATTACHED_MAX:
        raise ServiceError(
            _("Post or remove the files you uploaded before adding more."),
            code="throttled",
            field="file",
        )
    try:
        stored = files.store_upload(upload, name)
    except files.FileRefused as exc:
        raise ServiceError(str(exc), field="file") from None
    try:
        attachment = Attachment.objects.create(
            uploader=actor,
            key=stored.key,
            thumb_key=stored.thumb_key,
            name=stored.name,
            mime=stored.mime,
            kind=stored.kind,
            size=stored.size,
            width=stored.width,
            height=stored.height,
            sha256=stored.sha256,
        )
    except Exception:
        files.delete_stored(stored.key, stored.thumb_key)
        raise
    search.file_text_wanted(attachment)
    return attachment


def purge_unattached(older_than: timedelta = timedelta(days=1)) -> int:
    """Removes files uploaded and never posted (the worker, daily)."""
    old = Attachment.objects.filter(
        Attachment.UNATTACHED, created_at__lt=timezone.now() - older_than
    )
    count = 0
    for attachment in old:
        files.delete_stored(attachment.key, attachment.thumb_key)
        attachment.delete()
        count += 1
    return count
