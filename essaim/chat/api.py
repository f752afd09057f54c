"""The chat API: conversations (one-to-one, groups, community channels) and their
messages. Thin: selectors read, services write, access.py decides."""

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from essaim import access
from essaim.accounts.models import User, UserKind
from essaim.accounts.services import ServiceError
from essaim.api_base import Id, InSchema, viewer
from essaim.content.api import FileOut, file_out
from essaim.content.models import ATTACHMENTS_MAX, CLIENT_ID_MAX
from essaim.http import Origin

from . import selectors, services
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
)

router = Router(tags=["chat"])
CONVERSATIONS_SHOWN = 200


class PersonOut(Schema):
    id: int
    display_name: str
    bot: bool


def person_out(person: User) -> dict[str, Any]:
    return {
        "id": person.pk,
        "display_name": person.display_name,
        "bot": person.kind == UserKind.BOT,
    }


class ConversationOut(Schema):
    id: int
    kind: ConversationKind
    title: str
    community: int | None
    last_message_at: datetime.datetime | None
    unread: int
    muted: bool
    favourite: bool
    allowed: list[str]


class ReactionOut(Schema):
    emoji: str
    count: int
    mine: bool


class MessageOut(Schema):
    id: int
    conversation: int
    author: PersonOut
    body: str
    html: str
    client_id: str
    parent: int | None
    reply_count: int
    reactions: list[ReactionOut]
    files: list[FileOut]
    pinned_at: datetime.datetime | None
    created_at: datetime.datetime
    edited_at: datetime.datetime | None


def _title(me: User, conversation: Conversation) -> str:
    """A direct conversation is named after the other person."""
    if conversation.kind != ConversationKind.DIRECT:
        return conversation.title
    other = conversation.participants.exclude(user=me).select_related("user").first()
    return other.user.display_name if other else conversation.title


def conversation_out(me: User, conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "title": _title(me, conversation),
        "community": conversation.community_id,
        "last_message_at": conversation.last_message_at,
        "unread": getattr(conversation, "unread", 0),
        "muted": getattr(conversation, "muted", False),
        "favourite": getattr(conversation, "favourite", False),
        "allowed": sorted(
            a for a in ("post", "manage", "leave") if access.can(me, a, conversation)
        ),
    }


def message_out(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "author": person_out(message.author),
        "body": message.body,
        "html": message.html,
        "client_id": message.client_id,
        "parent": message.parent_id,
        "reply_count": message.reply_count,
        "reactions": getattr(message, "reaction_list", []),
        "files": [file_out(f) for f in getattr(message, "files", [])],
        "pinned_at": message.pinned_at,
        "created_at": message.created_at,
        "edited_at": message.edited_at,
    }


def _one(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    me = viewer(request)
    found = selectors.conversations(me).filter(pk=conversation_id).first()
    if found is None:
        raise access.NotFound
    return conversation_out(me, found)


@router.get("/conversations", response=list[ConversationOut], summary="My conversations")
def conversation_list(request: HttpRequest) -> list[dict[str, Any]]:
    me = viewer(request)
    shown = selectors.conversations(me)[:CONVERSATIONS_SHOWN]
    return [conversation_out(me, c) for c in shown]


class ConversationIn(InSchema):
    kind: Literal["direct", "group"]
    person: Id | None = Field(None, description="direct: the other person")
    people: list[Id] = Field(default_factory=list, max_length=500, description="group")
    title: str = Field("", max_length=TITLE_MAX)


@router.post(
    "/conversations",
    response={200: ConversationOut, 201: ConversationOut},
    summary="Open a direct conversation or start a group",
)
def conversation_start(request: HttpRequest, payload: ConversationIn) -> Status[Any]:
    me = viewer(request)
    if payload.kind == "direct":
        if payload.person is None:
            raise ServiceError(_("Say whom to write to."), field="person")
        person = User.objects.filter(pk=payload.person).first()
        if person is None:
            raise ServiceError(_("There is no such person."), field="person")
        conversation, new = services.direct_open(actor=me, person=person)
    else:
        conversation = services.group_create(actor=me, title=payload.title, people=payload.people)
        new = True
    return Status(201 if new else 200, _one(request, conversation.pk))


@router.post(
    "/communities/{community_id}/channel",
    response=ConversationOut,
    summary="A community's chat channel (members)",
)
def channel(request: HttpRequest, community_id: Id) -> dict[str, Any]:
    me = viewer(request)
    community = access.access_community(me, community_id)
    conversation = services.channel_of(actor=me, community=community)
    return _one(request, conversation.pk)


@router.get("/conversations/{conversation_id}", response=ConversationOut, summary="One")
def conversation_get(request: HttpRequest, conversation_id: Id) -> dict[str, Any]:
    return _one(request, conversation_id)


class ConversationPatch(InSchema):
    title: str | None = Field(None, max_length=TITLE_MAX)
    muted: bool | None = None
    favourite: bool | None = None


@router.patch(
    "/conversations/{conversation_id}",
    response=ConversationOut,
    summary="Rename a group; mute or favourite for oneself",
)
def conversation_patch(
    request: HttpRequest, conversation_id: Id, payload: ConversationPatch
) -> dict[str, Any]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id)
    if payload.title is not None:
        services.group_rename(actor=me, conversation=conversation, title=payload.title)
    if payload.muted is not None or payload.favourite is not None:
        services.settings_set(
            actor=me, conversation=conversation, muted=payload.muted, favourite=payload.favourite
        )
    return _one(request, conversation.pk)


class PeopleIn(InSchema):
    people: list[Id] = Field(max_length=500)


@router.get("/conversations/{conversation_id}/people", response=list[PersonOut], summary="Who")
def people(request: HttpRequest, conversation_id: Id) -> list[dict[str, Any]]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id)
    return [person_out(p) for p in access.audience(conversation).order_by("display_name")]


@router.post("/conversations/{conversation_id}/people", response={204: None}, summary="Add")
def people_add(request: HttpRequest, conversation_id: Id, payload: PeopleIn) -> Status[None]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id)
    services.group_add(actor=me, conversation=conversation, people=payload.people)
    return Status(204, None)


@router.delete("/conversations/{conversation_id}/people/me", response={204: None}, summary="Leave")
def leave(request: HttpRequest, conversation_id: Id) -> Status[None]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id)
    services.group_leave(actor=me, conversation=conversation)
    return Status(204, None)


class HistoryQuery(Schema):
    before: Id | None = None
    after: Id | None = None
    around: Id | None = Field(None, description="a message and its context (a link to it)")
    q: str = Field("", max_length=200, description="only the messages holding these words")
    limit: int = Field(selectors.PAGE, ge=1, le=100)


@router.get(
    "/conversations/{conversation_id}/messages",
    response=list[MessageOut],
    summary="Messages, oldest first: the newest page, or before / after / around one",
)
def messages(
    request: HttpRequest, conversation_id: Id, params: Query[HistoryQuery]
) -> list[dict[str, Any]]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id)
    found = selectors.history(
        me,
        conversation,
        before=params.before,
        after=params.after,
        around=params.around,
        query=params.q,
        limit=params.limit,
    )
    return [message_out(m) for m in found]


class MessageIn(InSchema):
    body: str = Field("", max_length=BODY_MAX)
    client_id: str | None = Field(
        None,
        max_length=CLIENT_ID_MAX,
        description="chosen by the client once per message: a retry never writes it twice",
    )
    parent: Id | None = Field(None, description="a reply in this message's thread")
    attachments: list[Id] = Field(
        default_factory=list,
        max_length=ATTACHMENTS_MAX,
        description="ids of files uploaded with POST /files (a file alone is a message)",
    )


@router.post(
    "/conversations/{conversation_id}/messages",
    response={200: MessageOut, 201: MessageOut},
    summary="Send a message (200: the same client_id was sent before)",
)
def send(request: HttpRequest, conversation_id: Id, payload: MessageIn) -> Status[Any]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id)
    parent = None
    if payload.parent is not None:
        parent = access.visible(me, Message.objects.filter(pk=payload.parent)).first()
        if parent is None:
            raise ServiceError(_("This message is not in this conversation."), field="parent")
    message, new = services.message_send(
        actor=me,
        conversation=conversation,
        body=payload.body,
        client_id=payload.client_id,
        parent=parent,
        attachments=payload.attachments,
    )
    if new and not payload.attachments:  # just written: no reaction, no file to read back
        message.reaction_list, message.files = [], []  # type: ignore[attr-defined]
        return Status(201, message_out(message))
    return Status(201 if new else 200, _message(request, message.pk))


def _message(request: HttpRequest, message_id: int) -> dict[str, Any]:
    me = viewer(request)
    found = access.access_message(me, message_id)
    return message_out(selectors.decorated(me, [found])[0])


@router.get("/messages/{message_id}", response=MessageOut, summary="One message")
def message_get(request: HttpRequest, message_id: Id) -> dict[str, Any]:
    return _message(request, message_id)


class ReactionIn(InSchema):
    emoji: str = Field(max_length=8, description=f"one of {' '.join(REACTIONS)}")


@router.put("/messages/{message_id}/reactions", response=MessageOut, summary="React")
def react(request: HttpRequest, message_id: Id, payload: ReactionIn) -> dict[str, Any]:
    me = viewer(request)
    message = access.access_message(me, message_id)
    services.message_react(actor=me, message=message, emoji=payload.emoji)
    return _message(request, message_id)


class EmojiQuery(Schema):
    emoji: str = Field(max_length=8)


@router.delete(
    "/messages/{message_id}/reactions", response=MessageOut, summary="Take a reaction back"
)
def unreact(request: HttpRequest, message_id: Id, params: Query[EmojiQuery]) -> dict[str, Any]:
    me = viewer(request)
    message = access.access_message(me, message_id)
    services.message_react(actor=me, message=message, emoji=params.emoji, on=False)
    return _message(request, message_id)


class PinIn(InSchema):
    pinned: bool


@router.put("/messages/{message_id}/pin", response=MessageOut, summary="Pin or unpin")
def pin(request: HttpRequest, message_id: Id, payload: PinIn) -> dict[str, Any]:
    me = viewer(request)
    message = access.access_message(me, message_id)
    services.message_pin(actor=me, message=message, pinned=payload.pinned)
    return _message(request, message_id)


class ReceiptOut(Schema):
    person: PersonOut
    message: int = Field(description="the last message they read")


@router.get(
    "/conversations/{conversation_id}/receipts",
    response=list[ReceiptOut],
    summary="Up to where the others read (one-to-one and small groups, between people who "
    "share read receipts)",
)
def receipts(request: HttpRequest, conversation_id: Id) -> list[dict[str, Any]]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id)
    return [
        {"person": person_out(p.user), "message": p.last_read}
        for p in selectors.read_receipts(me, conversation)
    ]


class FollowIn(InSchema):
    following: bool


class ThreadOut(Schema):
    message: MessageOut
    unread: int


@router.put("/messages/{message_id}/follow", response={204: None}, summary="Follow a thread")
def follow(request: HttpRequest, message_id: Id, payload: FollowIn) -> Status[None]:
    me = viewer(request)
    message = access.access_message(me, message_id)
    services.thread_follow(actor=me, message=message, following=payload.following)
    return Status(204, None)


@router.put("/messages/{message_id}/read", response={204: None}, summary="Read a thread")
def thread_read(request: HttpRequest, message_id: Id) -> Status[None]:
    me = viewer(request)
    services.thread_read(actor=me, message=access.access_message(me, message_id))
    return Status(204, None)


@router.get(
    "/threads",
    response=list[ThreadOut],
    summary="The threads I follow, the latest reply first, with their unread replies",
)
def threads(request: HttpRequest) -> list[dict[str, Any]]:
    me = viewer(request)
    found = selectors.decorated(me, list(selectors.followed_threads(me)[:CONVERSATIONS_SHOWN]))
    return [{"message": message_out(m), "unread": m.unread} for m in found]  # type: ignore[attr-defined]


@router.get("/conversations/{conversation_id}/pins", response=list[MessageOut], summary="Pinned")
def pinned(request: HttpRequest, conversation_id: Id) -> list[dict[str, Any]]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id)
    return [message_out(m) for m in selectors.pins(me, conversation)]


class ForwardIn(InSchema):
    conversation: Id


@router.post(
    "/messages/{message_id}/forward",
    response={201: MessageOut},
    summary="Forward to a conversation you may write in",
)
def forward(request: HttpRequest, message_id: Id, payload: ForwardIn) -> Status[Any]:
    me = viewer(request)
    message = access.access_message(me, message_id)
    target = access.access_conversation(me, payload.conversation, "post")
    copy = services.message_forward(actor=me, message=message, to=target)
    return Status(201, _message(request, copy.pk))


@router.get("/messages/{message_id}/replies", response=list[MessageOut], summary="Its thread")
def replies(request: HttpRequest, message_id: Id) -> list[dict[str, Any]]:
    me = viewer(request)
    message = access.access_message(me, message_id)
    return [message_out(m) for m in selectors.thread(me, message)]


class MessagePatch(InSchema):
    body: str = Field(max_length=BODY_MAX)


@router.patch("/messages/{message_id}", response=MessageOut, summary="Edit one's message")
def message_edit(request: HttpRequest, message_id: Id, payload: MessagePatch) -> dict[str, Any]:
    me = viewer(request)
    message = access.access_message(me, message_id)
    services.message_edit(actor=me, message=message, body=payload.body)
    return _message(request, message_id)


@router.delete("/messages/{message_id}", response={204: None}, summary="Delete a message")
def message_delete(request: HttpRequest, message_id: Id) -> Status[None]:
    me = viewer(request)
    services.message_delete(actor=me, message=access.access_message(me, message_id))
    return Status(204, None)


class ReadIn(InSchema):
    message: Id


@router.put(
    "/conversations/{conversation_id}/read",
    response=ConversationOut,
    summary="Read up to a message",
)
def read(request: HttpRequest, conversation_id: Id, payload: ReadIn) -> dict[str, Any]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id)
    services.read_up_to(actor=me, conversation=conversation, message_id=payload.message)
    return _one(request, conversation.pk)


# --- Help line ------------------------------------------------------------------------------


class DeskOut(Schema):
    id: int
    name: str
    description: str
    helping: bool  # the viewer is one of its helpers


class DeskIn(InSchema):
    name: str = Field(max_length=TITLE_MAX)
    description: str = Field("", max_length=BODY_MAX)
    helpers: list[Id] = Field(default_factory=list, max_length=500)


class HelpRequestOut(Schema):
    id: int
    desk: int
    conversation: int
    asker: PersonOut
    title: str
    state: HelpState
    claimed_by: PersonOut | None
    created_at: datetime.datetime
    claimed_at: datetime.datetime | None
    first_response_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    rating: int | None


def desk_out(me: User, desk: HelpDesk) -> dict[str, Any]:
    return {
        "id": desk.pk,
        "name": desk.name,
        "description": desk.description,
        "helping": desk.helpers.filter(pk=me.pk).exists(),
    }


def help_out(request: HelpRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "desk": request.desk_id,
        "conversation": request.conversation_id,
        "asker": person_out(request.asker),
        "title": request.conversation.title,
        "state": request.state,
        "claimed_by": request.claimed_by and person_out(request.claimed_by),
        "created_at": request.created_at,
        "claimed_at": request.claimed_at,
        "first_response_at": request.first_response_at,
        "resolved_at": request.resolved_at,
        "rating": request.rating,
    }


@router.get("/helpdesks", response=list[DeskOut], summary="Help lines")
def desks(request: HttpRequest) -> list[dict[str, Any]]:
    me = viewer(request)
    return [desk_out(me, d) for d in selectors.desks(me)]


@router.post("/helpdesks", response={201: DeskOut}, summary="Open a help line (administrators)")
def desk_create(request: HttpRequest, payload: DeskIn) -> Status[Any]:
    me = viewer(request)
    desk = services.desk_save(
        actor=me, name=payload.name, description=payload.description, helpers=payload.helpers
    )
    return Status(201, desk_out(me, desk))


class AskIn(InSchema):
    body: str = Field(max_length=BODY_MAX)


@router.post(
    "/helpdesks/{desk_id}/requests", response={201: HelpRequestOut}, summary="Ask the help line"
)
def help_ask(request: HttpRequest, desk_id: Id, payload: AskIn) -> Status[Any]:
    me = viewer(request)
    desk = selectors.desks(me).filter(pk=desk_id).first()
    if desk is None:
        raise access.NotFound
    return Status(201, help_out(services.help_ask(actor=me, desk=desk, body=payload.body)))


class QueueQuery(Schema):
    state: HelpState | None = None


@router.get(
    "/helpdesks/{desk_id}/requests",
    response=list[HelpRequestOut],
    summary="A help line's requests (its helpers), oldest waiting first",
)
def help_queue(request: HttpRequest, desk_id: Id, params: Query[QueueQuery]) -> list[Any]:
    me = viewer(request)
    desk = selectors.desks(me).filter(pk=desk_id).first()
    if desk is None:
        raise access.NotFound
    return [help_out(r) for r in selectors.help_queue(me, desk, state=params.state)[:200]]


@router.get("/help-requests/{request_id}", response=HelpRequestOut, summary="One request")
def help_get(request: HttpRequest, request_id: Id) -> dict[str, Any]:
    return help_out(access.access_help_request(viewer(request), request_id))


@router.post("/help-requests/{request_id}/claim", response=HelpRequestOut, summary="Take it")
def help_claim(request: HttpRequest, request_id: Id) -> dict[str, Any]:
    me = viewer(request)
    found = access.access_help_request(me, request_id)
    return help_out(services.help_claim(actor=me, request=found))


@router.post("/help-requests/{request_id}/resolve", response=HelpRequestOut, summary="Resolved")
def help_resolve(request: HttpRequest, request_id: Id) -> dict[str, Any]:
    me = viewer(request)
    found = access.access_help_request(me, request_id)
    return help_out(services.help_resolve(actor=me, request=found))


class RatingIn(InSchema):
    rating: int = Field(ge=1, le=5)


@router.put("/help-requests/{request_id}/rating", response=HelpRequestOut, summary="Rate it")
def help_rate(request: HttpRequest, request_id: Id, payload: RatingIn) -> dict[str, Any]:
    me = viewer(request)
    found = access.access_help_request(me, request_id)
    return help_out(services.help_rate(actor=me, request=found, rating=payload.rating))


# --- Bots and incoming webhooks -------------------------------------------------------------


class WebhookOut(Schema):
    id: int
    name: str
    prefix: str
    bot: int
    created_by: PersonOut | None
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class WebhookCreatedOut(WebhookOut):
    url: str = Field(description="where to POST Slack-shaped JSON; shown this once")


def webhook_out(webhook: IncomingWebhook) -> dict[str, Any]:
    creator = webhook.created_by
    return {
        "id": webhook.pk,
        "name": webhook.name,
        "prefix": webhook.prefix,
        "bot": webhook.bot_id,
        "created_by": creator and person_out(creator),
        "created_at": webhook.created_at,
        "last_used_at": webhook.last_used_at,
        "revoked_at": webhook.revoked_at,
    }


def webhook_url(request: HttpRequest, secret: str) -> str:
    return request.build_absolute_uri(reverse("chat-webhook", args=[secret]))


@router.get(
    "/conversations/{conversation_id}/webhooks",
    response=list[WebhookOut],
    summary="A channel's incoming webhooks (its community's owners and animators)",
)
def webhooks(request: HttpRequest, conversation_id: Id) -> list[dict[str, Any]]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id, "webhooks")
    return [webhook_out(w) for w in selectors.webhooks(me, conversation)]


class WebhookIn(InSchema):
    name: str = Field(max_length=TITLE_MAX)


@router.post(
    "/conversations/{conversation_id}/webhooks",
    response={201: WebhookCreatedOut},
    summary="A new incoming webhook; its URL is shown once",
)
def webhook_create(request: HttpRequest, conversation_id: Id, payload: WebhookIn) -> Status[Any]:
    me = viewer(request)
    conversation = access.access_conversation(me, conversation_id, "webhooks")
    webhook, secret = services.webhook_create(
        actor=me, origin=Origin.of(request), conversation=conversation, name=payload.name
    )
    return Status(201, {**webhook_out(webhook), "url": webhook_url(request, secret)})


@router.delete("/webhooks/{webhook_id}", response={204: None}, summary="Revoke a webhook")
def webhook_revoke(request: HttpRequest, webhook_id: Id) -> Status[None]:
    me = viewer(request)
    found = selectors.managed_webhook(me, webhook_id)
    services.webhook_revoke(actor=me, origin=Origin.of(request), webhook=found)
    return Status(204, None)


class BotOut(Schema):
    id: int
    display_name: str
    description: str
    is_active: bool
    created_by: PersonOut | None
    created_at: datetime.datetime


class BotCreatedOut(BotOut):
    token: str = Field(description="its API token (read and write); shown this once")


def bot_out(bot: Bot) -> dict[str, Any]:
    return {
        "id": bot.user.pk,
        "display_name": bot.user.display_name,
        "description": bot.description,
        "is_active": bot.user.is_active,
        "created_by": bot.created_by and person_out(bot.created_by),
        "created_at": bot.created_at,
    }


@router.get("/bots", response=list[BotOut], summary="The bots (administrators)")
def bots(request: HttpRequest) -> list[dict[str, Any]]:
    me = viewer(request)
    if not access.is_admin(me):
        raise access.Forbidden
    return [bot_out(b) for b in selectors.bots(me)]


class BotIn(InSchema):
    name: str = Field(max_length=TITLE_MAX)
    description: str = Field("", max_length=services.BOT_DESCRIPTION_MAX)


@router.post(
    "/bots",
    response={201: BotCreatedOut},
    summary="A new bot and its token (administrators); it joins conversations it is added to",
)
def bot_create(request: HttpRequest, payload: BotIn) -> Status[Any]:
    me = viewer(request)
    user, token = services.bot_create(
        actor=me, origin=Origin.of(request), name=payload.name, description=payload.description
    )
    return Status(201, {**bot_out(user.bot), "token": token})
