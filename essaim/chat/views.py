"""Web pages of chat: the conversations with their unread counts, a conversation (its
latest messages, the composer, live updates), a thread, and the forms that write. Thin:
selectors read, services write, access.py decides; every form works without JavaScript
(a send carries a client id made when the page was drawn, so a resubmitted form never
writes twice)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.content.views import upload_files
from essaim.directory.models import Availability
from essaim.http import Origin
from essaim.realtime import events, presence

from . import selectors, services
from .api import webhook_url
from .models import (
    BODY_MAX,
    REACTIONS,
    TITLE_MAX,
    Conversation,
    ConversationKind,
    HelpRequest,
    HelpState,
    Participant,
)

NEWER_MAX = 100  # messages a live update fetches at once


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    request.section = "chat"  # type: ignore[attr-defined]
    return user


def _with_names(me: User, found: list[Conversation]) -> list[Conversation]:
    """Each conversation's ``name``: a direct one is named after the other person."""
    direct = [c.pk for c in found if c.kind == ConversationKind.DIRECT]
    names = dict(
        Participant.objects.filter(conversation_id__in=direct)
        .exclude(user=me)
        .values_list("conversation_id", "user__display_name")
    )
    for conversation in found:
        conversation.name = names.get(conversation.pk, conversation.title)  # type: ignore[attr-defined]
    return found


def _sidebar(me: User) -> dict[str, Any]:
    """The conversations, the count of followed threads with unread replies, and one's
    own availability (do not disturb, from the chat)."""
    return {
        "conversations": _with_names(me, list(selectors.conversations(me)[:200])),
        "threads_unread": selectors.unread_threads(me),
        "my_status": selectors.own_availability(me),
        "availabilities": Availability.choices,
    }


def _presence_of(me: User, conversation: Conversation) -> dict[str, Any] | None:
    """The other person's presence in a one-to-one conversation (if theirs shows to me)."""
    if conversation.kind != ConversationKind.DIRECT:
        return None
    other = conversation.participants.exclude(user=me).values_list("user_id", flat=True)
    states = presence.states_for(me, list(other))
    return states[0] if states else None


@login_required
def chat_home(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    position = events.head_now()  # before the list: the page's socket resumes from it
    context = {**_sidebar(me), "current": None, "events_from": position}
    return render(request, "chat/home.html", context)


def _help_of(me: User, conversation: Conversation) -> dict[str, Any] | None:
    """A help request's state and what the viewer may do with it."""
    if conversation.kind != ConversationKind.HELP:
        return None
    found = HelpRequest.objects.select_related("claimed_by", "desk").get(conversation=conversation)
    allowed = {a for a in ("claim", "resolve", "rate") if access.can(me, a, found)}
    return {"request": found, "allowed": allowed}


def _page_context(me: User, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    return {
        **_sidebar(me),
        "current": conversation,
        "allowed": {
            a for a in ("post", "manage", "leave", "webhooks") if access.can(me, a, conversation)
        },
        "can_post": access.can(me, "post", conversation),
        "state": selectors.own_state(me, conversation),
        "client_id": uuid.uuid4().hex,
        "limits": {"body": BODY_MAX, "title": TITLE_MAX},
        "page": selectors.PAGE,
        "reactions": REACTIONS,
        "help": _help_of(me, conversation),
        "presence": _presence_of(me, conversation),
        "presence_labels": {
            presence.ONLINE: _("Online"),
            presence.AWAY: _("Away"),
            presence.DND: _("Do not disturb"),
            presence.OFFLINE: _("Offline"),
        },
        **extra,
    }


def _draft(me: User, conversation: Conversation, quote: str) -> str:
    """The composer's text when answering ``?quote=<message id>``: that message, quoted
    and signed."""
    pk = _id(quote)
    if pk is None:
        return ""
    try:
        message = access.access_message(me, pk)
    except access.NotFound:
        return ""
    if message.conversation_id != conversation.pk or message.deleted_at is not None:
        return ""
    return f"{services.quoted(message)}\n> — {message.author.display_name}\n\n"


@login_required
def conversation_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    me = _me(request)
    position = events.head_now()  # before the state: the page's socket resumes from it
    conversation = access.access_conversation(me, conversation_id)
    around = request.GET.get("message", "")
    history = selectors.history(
        me,
        conversation,
        around=int(around) if around.isdigit() and len(around) < 19 else None,
        before=_id(request.GET.get("before", "")),
        query=request.GET.get("q", "")[:200],
    )
    if history and not request.GET:
        services.read_up_to(actor=me, conversation=conversation, message_id=history[-1].pk)
    selectors.seen_by(history, selectors.read_receipts(me, conversation))
    context = _page_context(
        me,
        conversation,
        history=history,
        events_from=position,
        query=request.GET.get("q", "")[:200],
        draft=_draft(me, conversation, request.GET.get("quote", "")),
    )
    _with_names(me, [conversation])
    return render(request, "chat/conversation.html", context)


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 19 else None


@login_required
def newer(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The messages after ``?after=`` as HTML (the conversation page's live updates)."""
    me = _me(request)
    conversation = access.access_conversation(me, conversation_id)
    found = selectors.history(
        me, conversation, after=_id(request.GET.get("after", "")) or 0, limit=NEWER_MAX
    )
    context = {
        "history": found,
        "me": me,
        "can_post": access.can(me, "post", conversation),
        "reactions": REACTIONS,
    }
    return render(request, "chat/messages.html", context)


@login_required
def thread_page(request: HttpRequest, message_id: int) -> HttpResponse:
    me = _me(request)
    position = events.head_now()  # before the state: the page's socket resumes from it
    message = access.access_message(me, message_id)
    conversation = message.conversation
    services.thread_read(actor=me, message=message)
    context = _page_context(
        me,
        conversation,
        root=message,
        following=selectors.follows(me, message),
        history=selectors.thread(me, message),
        events_from=position,
        draft=_draft(me, conversation, request.GET.get("quote", "")),
    )
    _with_names(me, [conversation])
    return render(request, "chat/thread.html", context)


@login_required
@require_POST
def start_direct(request: HttpRequest, user_id: int) -> HttpResponse:
    me = _me(request)
    person = access.access_user(me, user_id)
    try:
        conversation, _new = services.direct_open(actor=me, person=person)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("chat"))
    return HttpResponseRedirect(reverse("conversation", args=[conversation.pk]))


@login_required
@require_POST
def start_group(request: HttpRequest) -> HttpResponse:
    """A group of the people named by e-mail, comma or space separated."""
    me = _me(request)
    emails = [e for e in request.POST.get("people", "").replace(",", " ").split() if e][:100]
    found = list(
        access.visible(me, User.objects.filter(email__in=emails)).values_list("pk", flat=True)
    )
    try:
        if len(found) != len(set(emails)):
            raise ServiceError(_("There is no such person."), field="people")
        conversation = services.group_create(
            actor=me, title=request.POST.get("title", ""), people=found
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("chat"))
    return HttpResponseRedirect(reverse("conversation", args=[conversation.pk]))


@login_required
@require_POST
def open_channel(request: HttpRequest, community_id: int) -> HttpResponse:
    me = _me(request)
    community = access.access_community(me, community_id)
    conversation = services.channel_of(actor=me, community=community)
    return HttpResponseRedirect(reverse("conversation", args=[conversation.pk]))


@login_required
@require_POST
def conversation_act(request: HttpRequest, conversation_id: int, action: str) -> HttpResponse:
    """Send (or reply in a thread), mute, favourite, leave."""
    me = _me(request)
    conversation = access.access_conversation(me, conversation_id)
    target = reverse("conversation", args=[conversation.pk])
    try:
        if action == "send":
            parent = None
            if parent_id := _id(request.POST.get("parent", "")):
                parent = access.access_message(me, parent_id)
                target = reverse("chat-thread", args=[parent.pk])
            services.message_send(
                actor=me,
                conversation=conversation,
                body=request.POST.get("body", ""),
                client_id=request.POST.get("client_id") or None,
                parent=parent,
                attachments=upload_files(request, me),
            )
        elif action in ("mute", "unmute", "favourite", "unfavourite"):
            flag = not action.startswith("un")
            field = action.removeprefix("un")
            services.settings_set(
                actor=me,
                conversation=conversation,
                muted=flag if field == "mute" else None,
                favourite=flag if field == "favourite" else None,
            )
        elif action == "leave":
            services.group_leave(actor=me, conversation=conversation)
            target = reverse("chat")
        else:
            raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(target)


@login_required
@require_POST
def message_act(request: HttpRequest, message_id: int, action: str) -> HttpResponse:
    """Edit or delete one's message; react, pin or unpin."""
    me = _me(request)
    message = access.access_message(me, message_id)
    target = reverse("conversation", args=[message.conversation_id]) + f"#message-{message.pk}"
    try:
        if action in ("react", "unreact"):
            emoji = request.POST.get("emoji", "")
            services.message_react(actor=me, message=message, emoji=emoji, on=action == "react")
        elif action in ("pin", "unpin"):
            services.message_pin(actor=me, message=message, pinned=action == "pin")
        elif action == "edit":
            services.message_edit(actor=me, message=message, body=request.POST.get("body", ""))
        elif action == "delete":
            services.message_delete(actor=me, message=message)
        elif action in ("follow", "unfollow"):
            services.thread_follow(actor=me, message=message, following=action == "follow")
            target = reverse("chat-thread", args=[message.pk])
        else:
            raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(target)


@login_required
def threads_page(request: HttpRequest) -> HttpResponse:
    """The threads one follows, those with new replies first in line."""
    me = _me(request)
    position = events.head_now()  # before the list: the page's socket resumes from it
    found = list(selectors.followed_threads(me)[:100])
    _with_names(me, [t.conversation for t in found])
    context = {**_sidebar(me), "threads": found, "current": None, "events_from": position}
    return render(request, "chat/threads.html", context)


@login_required
def help_home(request: HttpRequest) -> HttpResponse:
    """The help lines: ask one; for its helpers, its queue."""
    me = _me(request)
    found = []
    for desk in selectors.desks(me).prefetch_related("helpers"):
        helping = any(h.pk == me.pk for h in desk.helpers.all())
        queue = list(selectors.help_queue(me, desk).exclude(state=HelpState.RESOLVED)[:100])
        found.append({"desk": desk, "helping": helping, "queue": queue})
    context = {
        "desks": found,
        **_sidebar(me),
        "current": None,
        "limits": {"body": BODY_MAX},
    }
    return render(request, "chat/help.html", context)


@login_required
@require_POST
def help_ask(request: HttpRequest, desk_id: int) -> HttpResponse:
    me = _me(request)
    desk = selectors.desks(me).filter(pk=desk_id).first()
    if desk is None:
        raise access.NotFound
    try:
        asked = services.help_ask(actor=me, desk=desk, body=request.POST.get("body", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("chat-help"))
    return HttpResponseRedirect(reverse("conversation", args=[asked.conversation_id]))


@login_required
@require_POST
def help_act(request: HttpRequest, request_id: int, action: str) -> HttpResponse:
    """Claim, resolve, rate."""
    me = _me(request)
    found = access.access_help_request(me, request_id)
    try:
        if action == "claim":
            services.help_claim(actor=me, request=found)
        elif action == "resolve":
            services.help_resolve(actor=me, request=found)
        elif action == "rate":
            rating = request.POST.get("rating", "")
            services.help_rate(
                actor=me, request=found, rating=int(rating) if rating.isdigit() else 0
            )
        else:
            raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("conversation", args=[found.conversation_id]))


@login_required
def webhooks_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A channel's incoming webhooks (its community's owners and animators): make one
    (its URL shown this once), revoke one."""
    me = _me(request)
    conversation = access.access_conversation(me, conversation_id, "webhooks")
    created, status = None, 200
    if request.method == "POST":
        try:
            if revoked := _id(request.POST.get("revoke", "")):
                found = selectors.managed_webhook(me, revoked)
                services.webhook_revoke(actor=me, origin=Origin.of(request), webhook=found)
                messages.success(
                    request, _("The webhook “%(name)s” is revoked.") % {"name": found.name}
                )
                return HttpResponseRedirect(reverse("chat-webhooks", args=[conversation.pk]))
            webhook, secret = services.webhook_create(
                actor=me,
                origin=Origin.of(request),
                conversation=conversation,
                name=request.POST.get("name", ""),
            )
            created = {"name": webhook.name, "url": webhook_url(request, secret)}
        except ServiceError as exc:
            messages.error(request, exc.message)
            status = 400
    context = {
        "current": _with_names(me, [conversation])[0],
        "webhooks": selectors.webhooks(me, conversation),
        "created": created,
        "limits": {"name": TITLE_MAX},
    }
    return render(request, "chat/webhooks.html", context, status=status)


@login_required
def bots_page(request: HttpRequest) -> HttpResponse:
    """The bots (administrators): make one, its token shown this once."""
    me = _me(request)
    if not access.is_admin(me):
        raise access.NotFound
    created, status = None, 200
    if request.method == "POST":
        try:
            bot, token = services.bot_create(
                actor=me,
                origin=Origin.of(request),
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
            )
            created = {"name": bot.display_name, "token": token}
        except ServiceError as exc:
            messages.error(request, exc.message)
            status = 400
    context = {
        "bots": selectors.bots(me),
        "created": created,
        "limits": {"name": TITLE_MAX, "description": services.BOT_DESCRIPTION_MAX},
    }
    return render(request, "chat/bots.html", context, status=status)


# What Slack answers, so that the tools built for it read the outcome they know.
WEBHOOK_ERRORS = {
    "invalid": (400, "invalid_payload"),
    "throttled": (429, "rate_limited"),
    "forbidden": (403, "action_prohibited"),
}


@csrf_exempt  # no cookie counts here: the secret in the URL is the credential
@require_POST
def webhook(request: HttpRequest, secret: str) -> HttpResponse:
    """An incoming webhook: Slack's JSON (``text``, ``blocks``, ``attachments``) as the
    body, or form-encoded in a ``payload`` field; "ok" once the message is written."""
    form = request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
    try:  # a form's body is read as the form: its JSON must be in "payload"
        payload = json.loads(request.POST.get("payload", "") if form else request.body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse("invalid_payload", status=400, content_type="text/plain")
    try:
        services.webhook_post(secret=secret, payload=payload)
    except access.NotFound:
        return HttpResponse("no_service", status=404, content_type="text/plain")
    except access.Forbidden:
        return HttpResponse("channel_is_archived", status=403, content_type="text/plain")
    except ServiceError as error:
        status, text = WEBHOOK_ERRORS.get(error.code, (400, "invalid_payload"))
        if error.field == "text":
            text = "no_text"
        response = HttpResponse(text, status=status, content_type="text/plain")
        if status == 429:
            response["Retry-After"] = str(settings.CHAT_FLOOD_WINDOW)
        return response
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("chat/", chat_home, name="chat"),
    path("hooks/<str:secret>", webhook, name="chat-webhook"),
    path("chat/group/", start_group, name="chat-group"),
    path("chat/threads/", threads_page, name="chat-threads"),
    path("chat/help/", help_home, name="chat-help"),
    path("manage/bots/", bots_page, name="chat-bots"),
    path("chat/help/<id:desk_id>/ask/", help_ask, name="chat-help-ask"),
    path("chat/help/requests/<id:request_id>/<slug:action>/", help_act, name="chat-help-act"),
    path("chat/with/<id:user_id>/", start_direct, name="chat-direct"),
    path("chat/community/<id:community_id>/", open_channel, name="chat-channel"),
    path("chat/<id:conversation_id>/", conversation_page, name="conversation"),
    path("chat/<id:conversation_id>/newer/", newer, name="chat-newer"),
    path("chat/<id:conversation_id>/webhooks/", webhooks_page, name="chat-webhooks"),
    path("chat/<id:conversation_id>/<slug:action>/", conversation_act, name="conversation-act"),
    path("chat/messages/<id:message_id>/", thread_page, name="chat-thread"),
    path("chat/messages/<id:message_id>/<slug:action>/", message_act, name="message-act"),
]
