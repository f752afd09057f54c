"""Every write to conversations and messages. Each checks the actor's right through
access.py, refuses bad input with a ServiceError before writing anything, writes in one
transaction and emits its real-time event in it (ids, never text: a client reads what
changed through the API, where access.py decides again)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from essaim import access
from essaim.accounts.models import TokenScope, User, UserKind
from essaim.accounts.services import ServiceError, clean_text, hash_token, token_issue
from essaim.accounts.throttle import Throttle
from essaim.communities.models import Community
from essaim.content.models import CLIENT_ID_MAX, Attachment
from essaim.content.services import claim_attachments, render_text
from essaim.directory.models import Profile
from essaim.governance.services import audit_record
from essaim.http import Origin
from essaim.notifications import selectors as notification_selectors
from essaim.notifications import services as notifications
from essaim.notifications.models import Kind as Told
from essaim.realtime import events
from essaim.search import services as search

from . import slack
from .models import (
    BODY_MAX,
    REACTIONS,
    TITLE_MAX,
    Bot,
    Conversation,
    ConversationKind,
    HelpDesk,
    HelpRequest,
    HelpState,
    IncomingWebhook,
    Message,
    MessageEdit,
    MessageReaction,
    Participant,
    ThreadFollow,
)

# Conversations whose every message tells the others in it.
PRIVATE = (ConversationKind.DIRECT, ConversationKind.GROUP, ConversationKind.HELP)


def _require(allowed: bool) -> None:
    if not allowed:
        raise access.Forbidden


def _event(type: str, conversation: Conversation, data: dict[str, Any]) -> None:
    """An event to those who read the conversation (read by the event's own statement),
    checked again at delivery."""
    data = {"conversation": conversation.pk, **data}
    users = access.audience(conversation)
    if conversation.kind == ConversationKind.CHANNEL:
        events.emit(type, data, community=conversation.community, users=users)
    else:
        events.emit(type, data, users=users)


def _people(actor: User, ids: Sequence[int]) -> list[User]:
    """Active people the actor sees, by id; any other id is refused."""
    ids = list(dict.fromkeys(ids))
    found = list(access.visible(actor, access.active_users().filter(pk__in=ids)))
    if len(found) != len(ids):
        raise ServiceError(_("There is no such person."), field="people")
    return found


# --- Conversations --------------------------------------------------------------------------


def direct_open(*, actor: User, person: User) -> tuple[Conversation, bool]:
    """The one-to-one conversation of the actor and ``person`` (someone they see), made on
    first use (then True); the same one every time after."""
    _require(access.is_active(actor))
    if person.pk == actor.pk or not person.is_active or not access.can(actor, "view", person):
        raise ServiceError(_("There is no such person."), field="person")
    low, high = sorted((actor.pk, person.pk))
    key = f"{low}:{high}"
    found = Conversation.objects.filter(direct_key=key).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=ConversationKind.DIRECT, direct_key=key, created_by=actor
            )
            Participant.objects.bulk_create(
                [Participant(conversation=conversation, user_id=pk) for pk in (low, high)]
            )
            _event("chat.conversation", conversation, {})
    except IntegrityError:  # the other person opened it at the same moment
        return Conversation.objects.get(direct_key=key), False
    return conversation, True


def group_create(*, actor: User, title: str, people: Sequence[int]) -> Conversation:
    """A group conversation of the actor and ``people`` (whom they see), up to
    CHAT_GROUP_MAX in all."""
    _require(access.is_active(actor))
    title = clean_text(title, "title", TITLE_MAX)
    members = [p for p in _people(actor, people) if p.pk != actor.pk]
    if not members:
        raise ServiceError(_("Add at least one person."), field="people")
    if len(members) + 1 > settings.CHAT_GROUP_MAX:
        raise ServiceError(
            _("A group holds at most %(count)d people.") % {"count": settings.CHAT_GROUP_MAX},
            field="people",
        )
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=ConversationKind.GROUP, title=title, created_by=actor
        )
        Participant.objects.bulk_create(
            [Participant(conversation=conversation, user=u) for u in [actor, *members]]
        )
        _event("chat.conversation", conversation, {})
    return conversation


def channel_of(*, actor: User, community: Community) -> Conversation:
    """The chat channel of a community the actor is a member of, made on first use."""
    if access.community_role(actor, community) is None:
        raise access.NotFound
    found = Conversation.objects.filter(community=community).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                kind=ConversationKind.CHANNEL,
                community=community,
                title=community.name,
                created_by=actor,
            )
    except IntegrityError:
        return Conversation.objects.get(community=community)


def group_add(*, actor: User, conversation: Conversation, people: Sequence[int]) -> None:
    """More people in a group (back, for those who had left)."""
    _require(access.can(actor, "manage", conversation))
    added = _people(actor, people)
    inside = set(
        conversation.participants.filter(left_at__isnull=True).values_list("user_id", flat=True)
    )
    new = [u for u in added if u.pk not in inside]
    if len(inside) + len(new) > settings.CHAT_GROUP_MAX:
        raise ServiceError(
            _("A group holds at most %(count)d people.") % {"count": settings.CHAT_GROUP_MAX},
            field="people",
        )
    with transaction.atomic():
        for person in new:
            Participant.objects.update_or_create(
                conversation=conversation,
                user=person,
                defaults={"left_at": None, "joined_at": timezone.now()},
            )
        if new:
            _event("chat.participants", conversation, {"added": [u.pk for u in new]})


def group_rename(*, actor: User, conversation: Conversation, title: str) -> Conversation:
    _require(access.can(actor, "manage", conversation))
    conversation.title = clean_text(title, "title", TITLE_MAX)
    with transaction.atomic():
        conversation.save(update_fields=["title"])
        _event("chat.conversation", conversation, {})
    return conversation


def group_leave(*, actor: User, conversation: Conversation) -> None:
    _require(access.can(actor, "leave", conversation))
    with transaction.atomic():
        _event("chat.participants", conversation, {"left": [actor.pk]})  # they hear it too
        conversation.participants.filter(user=actor).update(left_at=timezone.now())


def _own_state(actor: User, conversation: Conversation) -> Participant:
    """The actor's read position and settings (a channel member's row made on first use)."""
    _require(access.can(actor, "view", conversation))
    state, _created = Participant.objects.get_or_create(conversation=conversation, user=actor)
    return state


def read_up_to(*, actor: User, conversation: Conversation, message_id: int) -> Participant:
    """The actor has read the conversation up to ``message_id`` (never backwards)."""
    state = _own_state(actor, conversation)
    if message_id > state.last_read:
        last = conversation.messages.order_by("-id").values_list("id", flat=True).first() or 0
        state.last_read = min(message_id, last)
        state.save(update_fields=["last_read"])
        if state.last_read == last:  # everything seen: its messages and mentions are no news
            notifications.read_about(
                actor=actor, target=conversation, kinds=[Told.MESSAGE, Told.MENTION],
                in_threads=False,
            )  # fmt: skip
        # The actor's other devices clear their badge; where receipts show, the others
        # see up to where they read.
        data = {"conversation": conversation.pk, "message": state.last_read}
        events.emit("chat.read", data, users=[actor])
        if access.shows_read_receipts(actor, conversation):
            others = access.audience(conversation).exclude(pk=actor.pk)
            events.emit("chat.seen", {**data, "user": actor.pk}, users=others)
    return state


def settings_set(
    *, actor: User, conversation: Conversation, muted: bool | None, favourite: bool | None
) -> Participant:
    state = _own_state(actor, conversation)
    if muted is not None:
        state.muted = muted
    if favourite is not None:
        state.favourite = favourite
    state.save(update_fields=["muted", "favourite"])
    return state


# --- Messages -------------------------------------------------------------------------------


def _throttle(actor: User, conversation: Conversation) -> None:
    wait = Throttle("chat", settings.CHAT_FLOOD_WINDOW).over(
        f"{actor.pk}:{conversation.pk}", settings.CHAT_MESSAGES_PER_WINDOW
    )
    if wait:
        raise ServiceError(
            _("You are sending messages too fast: wait %(seconds)d seconds.") % {"seconds": wait},
            code="throttled",
        )


def message_send(
    *,
    actor: User,
    conversation: Conversation,
    body: str,
    client_id: str | None = None,
    parent: Message | None = None,
    attachments: Sequence[int] = (),
) -> tuple[Message, bool]:
    """A message (or a reply in ``parent``'s thread), with files the actor uploaded
    (content's POST /files), and whether it is new: a send retried with the same
    ``client_id`` returns the message written the first time."""
    _require(access.can(actor, "post", conversation))
    client_id = clean_text(client_id or "", "client_id", CLIENT_ID_MAX)
    sent = _sent_before(actor, conversation, client_id)
    if sent is not None:
        return sent, False
    body = clean_text(body, "body", BODY_MAX, required=not attachments)
    if parent is not None:
        if parent.conversation_id != conversation.pk or parent.deleted_at is not None:
            raise ServiceError(_("This message is not in this conversation."), field="parent")
        parent = parent.parent or parent
    _throttle(actor, conversation)
    # Whatever can be read or computed before the lock below is: the lock orders every
    # send into the conversation, and its shortest hold is the conversation's pace.
    html, refs = render_text(actor, body)
    files = claim_attachments(actor, attachments)
    plain = not files and parent is None and conversation.kind != ConversationKind.HELP
    plain = plain and not refs.people  # a mention is told in the message's transaction
    if plain and connection.vendor == "postgresql":
        message = _send_in_one_statement(actor, conversation, body, html, client_id)
        if message is not None:
            # After the statement, not in it: the conversation's pace is its lock's hold.
            # Lost only if the process dies right here; its next message tells again.
            _tell_sent(conversation, message, [])
            return message, True
        # The same client id sent twice at the same moment, or the conversation deleted.
        sent = _sent_before(actor, conversation, client_id)
        if sent is None:
            raise access.NotFound
        return sent, False
    try:
        with transaction.atomic():
            # The conversation's row first: its messages then get their ids and commit in
            # one order, so that live delivery (commit order) and history (id order) agree.
            now = timezone.now()
            Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
            message = Message.objects.create(
                conversation=conversation,
                author=actor,
                body=body,
                html=html,
                client_id=client_id,
                parent=parent,
                created_at=now,
            )
            if files:
                Attachment.objects.filter(pk__in=[f.pk for f in files]).update(message=message)
            if parent is not None:
                Message.objects.filter(pk=parent.pk).update(reply_count=F("reply_count") + 1)
                _follow_on_reply(actor, parent, message)
            if conversation.kind == ConversationKind.HELP:
                HelpRequest.objects.filter(
                    conversation=conversation, claimed_by=actor, first_response_at__isnull=True
                ).update(first_response_at=message.created_at)
            search.changed(Message, message.pk)
            data = {"message": message.pk, "author": actor.pk, "parent": parent and parent.pk}
            _event("chat.message", conversation, data)
            _tell_sent(conversation, message, [p.id for p in refs.people])
    except IntegrityError:  # the same client id sent twice at the same moment
        sent = _sent_before(actor, conversation, client_id)
        if sent is None:
            raise
        return sent, False
    # One's own message is read (outside the lock; never backwards).
    Participant.objects.filter(
        conversation=conversation, user=actor, last_read__lt=message.pk
    ).update(last_read=message.pk)
    return message, True


def _tell_sent(conversation: Conversation, message: Message, named: list[int]) -> None:
    """The people the message names; in a private conversation everyone else in it; in a
    thread, those who follow it."""
    actor, parent = message.author, message.parent
    if not named and parent is None and conversation.kind not in PRIVATE:
        return  # a channel's message tells nobody in particular
    where = {"thread": parent.pk} if parent else {"message": message.pk}
    place = conversation.community
    readers: set[int] = set()
    if named:
        readers = set(
            access.audience(conversation).filter(pk__in=named).values_list("pk", flat=True)
        )
        notifications.notify(
            Told.MENTION, readers, target=conversation, actor=actor, community=place, detail=where
        )
    if conversation.kind in PRIVATE:
        # Who has an unread notification of this conversation already needs no other:
        # in a busy conversation each message costs one read, not a notification each.
        told = notification_selectors.unread_about(Told.MESSAGE, conversation)
        others = set(access.audience(conversation).values_list("pk", flat=True))
        others -= readers | told
        notifications.notify(
            Told.MESSAGE, others, target=conversation, actor=actor, community=place, detail=where
        )
    elif parent is not None:
        following = ThreadFollow.objects.filter(message=parent, following=True)
        others = set(following.values_list("user_id", flat=True)) - readers
        notifications.notify(
            Told.REPLY, others, target=conversation, actor=actor, community=place, detail=where
        )


def _sent_before(actor: User, conversation: Conversation, client_id: str) -> Message | None:
    """The message ``client_id`` already wrote (a retried send), if any; one of another
    conversation is refused."""
    if not client_id:
        return None
    sent = Message.objects.filter(author=actor, client_id=client_id).first()
    if sent is not None and sent.conversation_id != conversation.pk:
        raise ServiceError(_("This client id was used for another message."), field="client_id")
    return sent


# A message on PostgreSQL, in one statement run on its own (autocommit): the
# conversation's row lock first (the message's id and time are drawn after it, so that
# commit order, which is delivery order, and id order agree), the message, its search
# outbox row, its event for the conversation's readers (access.audience), and the
# author's read position. The lock that paces the conversation is held for that statement
# alone; the ORM's path (message_send) takes eight round trips with Python between them:
# 8 senders into one conversation, 138 → 200 messages/s (bench/README.md).
_SEND = """
WITH c AS (
    UPDATE chat_conversation SET last_message_at = clock_timestamp() WHERE id = %s
    RETURNING id, last_message_at
), m AS (
    INSERT INTO chat_message (conversation_id, author_id, body, html, client_id, reply_count,
                              created_at)
    SELECT c.id, %s, %s, %s, %s, 0, c.last_message_at FROM c
    ON CONFLICT (author_id, client_id) WHERE client_id <> '' DO NOTHING
    RETURNING id, conversation_id, author_id, created_at
), s AS (
    INSERT INTO search_pending (kind, object_id, created_at) SELECT %s, m.id, m.created_at FROM m
), u(id) AS ({readers}), {event}, p AS (
    UPDATE chat_participant SET last_read = m.id FROM m
    WHERE chat_participant.conversation_id = m.conversation_id
      AND chat_participant.user_id = m.author_id AND chat_participant.last_read < m.id
)
SELECT id, created_at FROM m"""
_MESSAGE_EVENT = events.event_ctes(
    "m", data="%s::jsonb || jsonb_build_object('message', m.id)", created="m.created_at"
)


def _send_in_one_statement(
    actor: User, conversation: Conversation, body: str, html: str, client_id: str
) -> Message | None:
    """A message without thread, files or help request (message_send's checks done), or
    None when its client id was taken meanwhile or its conversation is gone."""
    readers, readers_params = (
        access.audience(conversation).values_list("pk", flat=True).query.sql_with_params()
    )
    data = json.dumps({"conversation": conversation.pk, "author": actor.pk, "parent": None})
    params = [
        conversation.pk,
        *(actor.pk, body, html, client_id),
        search.outbox_kind(Message),
        *readers_params,
        *("chat.message", data, conversation.community_id, False),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_SEND.format(readers=readers, event=_MESSAGE_EVENT), params)
        row = cursor.fetchone()
    if row is None:
        return None
    events.publish_on_commit()
    search.wake_indexer_on_commit()
    message = Message(
        pk=row[0],
        conversation=conversation,
        author=actor,
        body=body,
        html=html,
        client_id=client_id,
        created_at=row[1],
    )
    message._state.adding = False
    return message


def _follow_on_reply(actor: User, root: Message, reply: Message) -> None:
    """Whoever replies follows the thread (again), having read it; its author follows it
    from its first reply unless they stopped."""
    ThreadFollow.objects.update_or_create(
        message=root, user=actor, defaults={"following": True, "last_read": reply.pk}
    )
    if root.author_id != actor.pk:
        ThreadFollow.objects.get_or_create(message=root, user_id=root.author_id)


def _last_reply(message: Message) -> int:
    return message.replies.order_by("-id").values_list("id", flat=True).first() or 0


def thread_follow(*, actor: User, message: Message, following: bool) -> ThreadFollow:
    """Follow a thread (a conversation's message, not a reply) or stop. Who starts
    following from the thread has read what is there."""
    _require(access.can(actor, "view", message))
    if message.parent_id is not None or message.deleted_at is not None:
        raise ServiceError(_("Only a conversation's message starts a thread."), field="message")
    last = _last_reply(message)
    follow, _created = ThreadFollow.objects.update_or_create(
        message=message,
        user=actor,
        defaults={"following": following},
        create_defaults={"following": following, "last_read": last},
    )
    return follow


def thread_read(*, actor: User, message: Message) -> None:
    """The actor has read a thread they follow up to its last reply."""
    _require(access.can(actor, "view", message))
    last = _last_reply(message)
    ThreadFollow.objects.filter(message=message, user=actor, last_read__lt=last).update(
        last_read=last
    )
    notifications.read_about(actor=actor, target=message.conversation, thread=message.pk)


def message_react(*, actor: User, message: Message, emoji: str, on: bool = True) -> None:
    """Add (or, with ``on`` False, take back) one of REACTIONS."""
    _require(access.can(actor, "react", message))
    if emoji not in REACTIONS:
        raise ServiceError(_("Choose one of the proposed reactions."), field="emoji")
    with transaction.atomic():
        mine = MessageReaction.objects.filter(message=message, user=actor, emoji=emoji)
        if on:
            MessageReaction.objects.get_or_create(message=message, user=actor, emoji=emoji)
        else:
            mine.delete()
        _event("chat.reaction", message.conversation, {"message": message.pk})


def message_pin(*, actor: User, message: Message, pinned: bool = True) -> Message:
    """Pin a message to its conversation (or unpin it)."""
    _require(access.can(actor, "pin", message))
    with transaction.atomic():
        message.pinned_at = timezone.now() if pinned else None
        message.pinned_by = actor if pinned else None
        message.save(update_fields=["pinned_at", "pinned_by"])
        _event("chat.pinned", message.conversation, {"message": message.pk, "pinned": pinned})
    return message


def quoted(message: Message) -> str:
    """A message's text as a Markdown quote (to forward it, or to answer it)."""
    return "\n".join(f"> {line}" for line in message.body.splitlines() or [""])


def message_forward(*, actor: User, message: Message, to: Conversation) -> Message:
    """A copy of ``message`` sent to another conversation the actor may post in, quoted
    and signed with its author's name."""
    _require(access.can(actor, "forward", message))
    credit = _("Forwarded from %(name)s") % {"name": message.author.display_name}
    body = f"{quoted(message)}\n\n*{credit}*"[:BODY_MAX]
    forwarded, _new = message_send(actor=actor, conversation=to, body=body)
    return forwarded


def message_edit(*, actor: User, message: Message, body: str) -> Message:
    """A new text; the old one is kept in the message's history."""
    _require(access.can(actor, "edit", message))
    body = clean_text(body, "body", BODY_MAX, required=True)
    if body == message.body:
        return message
    with transaction.atomic():
        MessageEdit.objects.create(message=message, body=message.body)
        message.body = body
        message.html = render_text(actor, body)[0]
        message.edited_at = timezone.now()
        message.save(update_fields=["body", "html", "edited_at"])
        search.changed(Message, message.pk)
        _event("chat.message_edited", message.conversation, {"message": message.pk})
    return message


def message_delete(*, actor: User, message: Message) -> None:
    """Soft: it leaves the conversation for everyone (kept for moderation and retention
    until they decide)."""
    _require(access.can(actor, "delete", message))
    with transaction.atomic():
        _event("chat.message_deleted", message.conversation, {"message": message.pk})
        message.deleted_at = timezone.now()
        message.save(update_fields=["deleted_at"])
        search.changed(Message, message.pk)
        if message.parent_id is not None:
            Message.objects.filter(pk=message.parent_id).update(reply_count=F("reply_count") - 1)


# --- Help line ------------------------------------------------------------------------------


def desk_save(
    *,
    actor: User,
    name: str,
    description: str = "",
    helpers: Sequence[int] = (),
    desk: HelpDesk | None = None,
) -> HelpDesk:
    """A help desk and its rota of helpers (employees); administrators."""
    _require(access.is_admin(actor))
    name = clean_text(name, "name", TITLE_MAX, required=True)
    description = clean_text(description, "description", BODY_MAX)
    rota = [p for p in _people(actor, helpers) if access.sees_everyone(p)]
    if len(rota) != len(set(helpers)):
        raise ServiceError(_("Helpers are employees."), field="helpers")
    with transaction.atomic():
        desk = desk or HelpDesk()
        desk.name, desk.description = name, description
        desk.save()
        desk.helpers.set(rota)
    return desk


def help_ask(*, actor: User, desk: HelpDesk, body: str) -> HelpRequest:
    """A question to the help line: it waits in the desk's queue, seen by its helpers."""
    _require(access.sees_everyone(actor))  # any employee
    body = clean_text(body, "body", BODY_MAX, required=True)
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=ConversationKind.HELP, title=body.splitlines()[0][:TITLE_MAX], created_by=actor
        )
        Participant.objects.create(conversation=conversation, user=actor)
        request = HelpRequest.objects.create(desk=desk, conversation=conversation, asker=actor)
        message = Message.objects.create(
            conversation=conversation, author=actor, body=body, html=render_text(actor, body)[0]
        )
        conversation.last_message_at = message.created_at
        conversation.save(update_fields=["last_message_at"])
        _help_event("help.requested", request)
        notifications.notify(Told.HELP, desk.helpers.all(), target=request, actor=actor)
    return request


def _help_event(type: str, request: HelpRequest) -> None:
    data = {"request": request.pk, "desk": request.desk_id, "state": request.state}
    _event(type, request.conversation, data)


def help_claim(*, actor: User, request: HelpRequest) -> HelpRequest:
    """A helper takes a waiting request: from now on, they and the asker talk."""
    with transaction.atomic():
        locked = HelpRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state != HelpState.WAITING and access.is_helper(actor, locked):
            raise ServiceError(_("Another helper took this request."), code="conflict")
        _require(access.can(actor, "claim", locked))
        locked.state, locked.claimed_by = HelpState.CLAIMED, actor
        locked.claimed_at = timezone.now()
        locked.save(update_fields=["state", "claimed_by", "claimed_at"])
        Participant.objects.get_or_create(conversation=locked.conversation, user=actor)
        _help_event("help.claimed", locked)
        notifications.notify(Told.HELP, [locked.asker_id], target=locked, actor=actor)
    return locked


def help_resolve(*, actor: User, request: HelpRequest) -> HelpRequest:
    _require(access.can(actor, "resolve", request))
    with transaction.atomic():
        request.state, request.resolved_at = HelpState.RESOLVED, timezone.now()
        request.save(update_fields=["state", "resolved_at"])
        _help_event("help.resolved", request)
        notifications.notify(Told.HELP, [request.asker_id], target=request, actor=actor)
    return request


def help_rate(*, actor: User, request: HelpRequest, rating: int) -> HelpRequest:
    """The asker's rating of a resolved request, 1 to 5 (changeable)."""
    _require(access.can(actor, "rate", request))
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ServiceError(_("A rating is a number from 1 to 5."), field="rating")
    request.rating = rating
    request.save(update_fields=["rating"])
    return request


# --- Bots and incoming webhooks -------------------------------------------------------------

BOT_DESCRIPTION_MAX = 300


def _bot_user(*, name: str, description: str, created_by: User) -> User:
    """A user of kind bot: no password, an address that receives nothing, no place in the
    directory's index."""
    # Numbered, so that the same demo makes the same addresses.
    address = f"bot-{Bot.objects.count() + 1}-{slugify(name)[:40] or 'bot'}@bots.invalid"
    try:
        with transaction.atomic():
            user = User.objects.create_user(address, None, display_name=name, kind=UserKind.BOT)
    except IntegrityError:  # another bot took that number at the same moment
        address = f"bot-{secrets.token_hex(8)}@bots.invalid"
        user = User.objects.create_user(address, None, display_name=name, kind=UserKind.BOT)
    Profile.objects.create(user=user, manager_path=f"/{user.pk}/")
    Bot.objects.create(user=user, description=description, created_by=created_by)
    return user


def bot_create(
    *, actor: User, origin: Origin, name: str, description: str = ""
) -> tuple[User, str]:
    """A bot and its token (read and write; the secret is shown once): administrators.
    It reads and posts in the conversations and channels it is invited to."""
    _require(access.is_admin(actor))
    name = clean_text(name, "name", TITLE_MAX, required=True)
    description = clean_text(description, "description", BOT_DESCRIPTION_MAX)
    with transaction.atomic():
        bot = _bot_user(name=name, description=description, created_by=actor)
        _token, secret = token_issue(user=bot, name=name, scope=TokenScope.WRITE)
        audit_record(actor=actor, action="bot.create", target=bot, origin=origin)
    return bot, secret


def webhook_create(
    *, actor: User, origin: Origin, conversation: Conversation, name: str
) -> tuple[IncomingWebhook, str]:
    """An incoming webhook posting into a community's channel as its own bot, and its
    secret (the URL's last part, shown once): the community's owners and animators."""
    _require(access.can(actor, "webhooks", conversation))
    name = clean_text(name, "name", TITLE_MAX, required=True)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        bot = _bot_user(name=name, description="", created_by=actor)
        webhook = IncomingWebhook.objects.create(
            conversation=conversation,
            bot=bot,
            name=name,
            prefix=secret[:6],
            key_hash=hash_token(secret),
            created_by=actor,
        )
        audit_record(actor=actor, action="webhook.create", target=webhook, origin=origin)
    return webhook, secret


def webhook_revoke(*, actor: User, origin: Origin, webhook: IncomingWebhook) -> IncomingWebhook:
    """Its URL stops working at once; what it posted stays."""
    _require(access.can(actor, "webhooks", webhook.conversation))
    if webhook.revoked_at is None:
        with transaction.atomic():
            webhook.revoked_at = timezone.now()
            webhook.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="webhook.revoke", target=webhook, origin=origin)
    return webhook


def webhook_post(*, secret: str, payload: Any) -> Message:
    """A message from a webhook's Slack-shaped JSON (``text``, ``blocks``, ``attachments``)
    into its channel, as its bot. An unknown or revoked secret is NotFound."""
    webhook = (
        IncomingWebhook.objects.select_related("bot", "conversation__community")
        .filter(key_hash=hash_token(secret), revoked_at__isnull=True)
        .first()
    )
    if webhook is None:
        raise access.NotFound
    text = slack.message_text(payload)
    if not text:
        raise ServiceError(_("The message has no text."), field="text")
    message, _new = message_send(actor=webhook.bot, conversation=webhook.conversation, body=text)
    IncomingWebhook.objects.filter(pk=webhook.pk).update(last_used_at=message.created_at)
    return message
