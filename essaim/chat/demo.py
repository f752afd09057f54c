"""The demo organisation's conversations: direct messages of the sign-in personas, a few
group conversations, the chat channels of the busiest communities, threads, and one help
line with requests waiting, in progress and resolved (rated). Texts in each author's
language (French or English); dates over the last weeks, in order. Written in bulk, no
event emitted — but for a build server's webhook and a standup bot, made and heard
through the services as for real; the same seed gives the same conversations."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from essaim.accounts.models import User, UserKind
from essaim.communities.models import RUNNERS, WRITERS, Community, Membership
from essaim.content.markdown import render_with_refs
from essaim.http import CLI

from . import services
from .models import (
    Conversation,
    ConversationKind,
    HelpDesk,
    HelpRequest,
    HelpState,
    Message,
    Participant,
)

MESSAGES = 2400  # at scale 1
DAYS = 30
LINES = {
    "fr": [
        "Bonjour ! Tu as un moment cet après-midi ?",
        "Oui, vers 15 h si ça te va.",
        "Je t'envoie le compte rendu dans la journée.",
        "Merci, c'est **parfait**.",
        "Quelqu'un a la dernière version de la présentation ?",
        "Elle est dans les fichiers de la communauté.",
        "On décale la réunion à jeudi ?",
        "D'accord pour jeudi 10 h.",
        "Le client a validé le devis 🎉",
        "Bravo à toute l'équipe !",
        "Je regarde ça et je reviens vers toi.",
        "Petit rappel : point d'avancement demain matin.",
        "Qui peut relire la note avant envoi ?",
        "Je m'en occupe.",
        "Attention, le serveur de recette redémarre à 18 h.",
        "Bien noté, merci de l'info.",
        "Tu as pu avancer sur le planning ?",
        "Presque fini, il me manque les dates du lot 2.",
        "Déjeuner ensemble vendredi ?",
        "Avec plaisir !",
    ],
    "en": [
        "Hi! Do you have a minute this afternoon?",
        "Sure, around 3 pm if that works.",
        "I'll send the minutes later today.",
        "Thanks, that's **perfect**.",
        "Does anyone have the latest version of the deck?",
        "It's in the community's files.",
        "Shall we move the meeting to Thursday?",
        "Thursday 10 am works for me.",
        "The customer approved the quote 🎉",
        "Well done, everyone!",
        "Let me check and get back to you.",
        "Reminder: status update tomorrow morning.",
        "Who can review the note before it goes out?",
        "I'll take it.",
        "Heads-up: the staging server restarts at 6 pm.",
        "Noted, thanks for the heads-up.",
        "Any progress on the schedule?",
        "Almost done, I'm missing the dates for phase 2.",
        "Lunch together on Friday?",
        "With pleasure!",
    ],
}
HELP_QUESTIONS = {
    "fr": ["Mon badge ne fonctionne plus", "Le VPN se déconnecte sans cesse",
           "Je n'ai pas reçu mon nouvel ordinateur", "Impossible d'imprimer depuis ce matin"],
    "en": ["My badge stopped working", "The VPN keeps disconnecting",
           "I haven't received my new laptop", "Printing fails since this morning"],
}  # fmt: skip
HELP_ANSWERS = {
    "fr": ["Je regarde tout de suite.", "Peux-tu redémarrer et réessayer ?", "C'est réglé !"],
    "en": ["Looking into it now.", "Could you restart and try again?", "Fixed!"],
}


class _Writer:
    """Messages of a conversation, in time order, written at the end in one go."""

    def __init__(self, rng: random.Random, languages: dict[int, str]) -> None:
        self.rng, self.languages = rng, languages
        self.rows: list[Message] = []
        self.rendered: dict[str, str] = {}

    def html(self, text: str) -> str:
        if text not in self.rendered:
            self.rendered[text] = render_with_refs(text)[0]
        return self.rendered[text]

    def line(self, author: int) -> str:
        return self.rng.choice(LINES[self.languages.get(author, "fr")])

    def add(self, conversation: Conversation, author: int, at: datetime, text: str) -> Message:
        message = Message(
            conversation=conversation, author_id=author, body=text, html=self.html(text),
            created_at=at,
        )  # fmt: skip
        return message

    def talk(self, conversation: Conversation, people: list[int], count: int) -> None:
        """``count`` messages among ``people`` over the last DAYS days, a few threads."""
        now = timezone.now()
        start = now - timedelta(days=DAYS)
        step = (now - start) / (count + 1)
        for n in range(count):
            at = start + step * (n + 1) + timedelta(seconds=self.rng.randrange(60))
            author = self.rng.choice(people)
            self.rows.append(self.add(conversation, author, at, self.line(author)))


def build_chat(*, seed: int, scale: float = 1.0) -> dict[str, int]:
    """Create the demo's conversations and help line; nothing at scale 0."""
    total = round(MESSAGES * scale)
    if total <= 0:
        return {}
    rng = random.Random(f"{seed}:chat")  # noqa: S311  (demo data, reproducible)
    people = list(
        User.objects.filter(is_active=True, kind=UserKind.EMPLOYEE)
        .order_by("pk")
        .values_list("pk", "language")
    )
    if len(people) < 12:
        return {}
    languages = {pk: language for pk, language in people}
    ids = [pk for pk, _language in people]
    writer = _Writer(rng, languages)
    me = ids[0]  # the first persona, the demo's administrator
    conversations: list[tuple[Conversation, list[int], int]] = []
    for other in ids[1:7]:
        low, high = sorted((me, other))
        conversation = Conversation.objects.create(
            kind=ConversationKind.DIRECT, direct_key=f"{low}:{high}", created_by_id=me
        )
        conversations.append((conversation, [me, other], total // 24))
    for title, size in (("Projet CRM", 6), ("Launch team", 8), ("Séminaire Lyon", 5)):
        members = [me, *rng.sample(ids[1:], size - 1)]
        conversation = Conversation.objects.create(
            kind=ConversationKind.GROUP, title=title, created_by_id=me
        )
        conversations.append((conversation, members, total // 8))
    busiest = (
        Community.objects.filter(archived_at__isnull=True)
        .annotate(n=Count("memberships"))
        .order_by("-n", "pk")[:4]
    )
    for community in busiest:
        writers = list(
            Membership.objects.filter(community=community, role__in=WRITERS)
            .order_by("user_id")
            .values_list("user_id", flat=True)[:40]
        )
        if len(writers) < 2:
            continue
        conversation = Conversation.objects.create(
            kind=ConversationKind.CHANNEL, community=community, title=community.name,
            created_by_id=writers[0],
        )  # fmt: skip
        conversations.append((conversation, writers, total // 8))
    for conversation, members, count in conversations:
        if conversation.kind != ConversationKind.CHANNEL:
            Participant.objects.bulk_create(
                [Participant(conversation=conversation, user_id=pk) for pk in members]
            )
        writer.talk(conversation, members, count)
    Message.objects.bulk_create(writer.rows)
    members_of = {conversation.pk: members for conversation, members, _count in conversations}
    # Threads: replies to one message in twenty, by others of the conversation.
    replies = []
    parents = writer.rows[::20]
    for parent in parents:
        others = [pk for pk in members_of[parent.conversation_id] if pk != parent.author_id]
        for n in range(rng.randint(1, 4)):
            author = rng.choice(others)
            at = parent.created_at + timedelta(minutes=5 * (n + 1))
            reply = writer.add(parent.conversation, author, at, writer.line(author))
            reply.parent = parent
            replies.append(reply)
    Message.objects.bulk_create(replies)
    for parent in parents:
        count = sum(1 for r in replies if r.parent is parent)
        Message.objects.filter(pk=parent.pk).update(reply_count=count)
    for conversation, _members, _count in conversations:
        last = conversation.messages.filter(parent__isnull=True).order_by("-id").first()
        if last is not None:
            conversation.last_message_at = last.created_at
            conversation.save(update_fields=["last_message_at"])
            Participant.objects.filter(conversation=conversation).update(last_read=last.pk)
    requests = _help_line(rng, ids, languages)
    channels = [c for c, _members, _count in conversations if c.kind == ConversationKind.CHANNEL]
    groups = [c for c, _members, _count in conversations if c.kind == ConversationKind.GROUP]
    integrations = _integrations(channels[:1], groups[:1], me)
    return {
        "conversations": len(conversations) + requests,
        "messages": Message.objects.count(),
        "help_requests": requests,
        "integrations": integrations,
    }


BUILDS = [
    {"text": "Build *passed* on <https://ci.example.com/builds/812|main #812> (4 min 12 s)"},
    {
        "text": "Deployment to staging",
        "attachments": [{"title": "Release 3.4.0", "text": "12 changes, 0 migrations pending"}],
    },
    {"text": "Build *failed* on <https://ci.example.com/builds/815|main #815>: 2 tests failed"},
    {"text": "Build *passed* on <https://ci.example.com/builds/816|main #816> — fixed"},
]


def _integrations(channels: list[Conversation], groups: list[Conversation], admin: int) -> int:
    """A build server's incoming webhook posting into the first channel, as a tool made
    for Slack would, and a bot that a group added; through the services, as for real."""
    made = 0
    for channel in channels:
        runner = (
            Membership.objects.filter(community=channel.community, role__in=RUNNERS)
            .order_by("user_id")
            .first()
        )
        if runner is None:
            continue
        _webhook, secret = services.webhook_create(
            actor=runner.user, origin=CLI, conversation=channel, name="Build server"
        )
        for payload in BUILDS:
            services.webhook_post(secret=secret, payload=payload)
        made += 1
    for group in groups:
        actor = User.objects.get(pk=admin)
        bot, _token = services.bot_create(
            actor=actor, origin=CLI, name="Standup bot", description="Asks the daily questions"
        )
        services.group_add(actor=actor, conversation=group, people=[bot.pk])
        question = "Bonjour ! What did you finish yesterday, and what is next today? 🗓️"
        services.message_send(actor=bot, conversation=group, body=question)
        made += 1
    return made


def _help_line(rng: random.Random, ids: list[int], languages: dict[int, str]) -> int:
    desk = HelpDesk.objects.create(
        name="Support informatique / IT help",
        description="Badges, ordinateurs, VPN, impression — badges, laptops, VPN, printing.",
    )
    helpers = ids[8:11]
    desk.helpers.set(helpers)
    now = timezone.now()
    states = [HelpState.WAITING] * 3 + [HelpState.CLAIMED] * 3 + [HelpState.RESOLVED] * 6
    count = 0
    for n, state in enumerate(states):
        asker = ids[12 + n % max(1, len(ids) - 12)] if len(ids) > 12 else ids[1]
        language = languages.get(asker, "fr")
        asked = now - timedelta(hours=6 * (len(states) - n))
        body = rng.choice(HELP_QUESTIONS[language])
        conversation = Conversation.objects.create(
            kind=ConversationKind.HELP, title=body, created_by_id=asker, created_at=asked
        )
        helper = helpers[n % len(helpers)]
        request = HelpRequest(desk=desk, conversation=conversation, asker_id=asker, state=state,
                              created_at=asked)  # fmt: skip
        rows = [(asker, asked, body)]
        inside = [asker]
        claimed = asked + timedelta(minutes=rng.randint(2, 30))
        if state != HelpState.WAITING:
            request.claimed_by_id = helper
            request.claimed_at = claimed
            request.first_response_at = claimed + timedelta(minutes=1)
            rows.append((helper, claimed + timedelta(minutes=1), HELP_ANSWERS[language][0]))
            inside.append(helper)
        if state == HelpState.RESOLVED:
            resolved = claimed + timedelta(hours=rng.randint(1, 4))
            request.resolved_at = resolved
            request.rating = rng.choice([3, 4, 5, 5, 5])
            rows.append((helper, resolved, HELP_ANSWERS[language][2]))
        request.save()
        Participant.objects.bulk_create(
            [Participant(conversation=conversation, user_id=pk) for pk in inside]
        )
        made = Message.objects.bulk_create(
            Message(conversation=conversation, author_id=a, body=t,
                    html=render_with_refs(t)[0], created_at=at)
            for a, at, t in rows
        )  # fmt: skip
        conversation.last_message_at = made[-1].created_at
        conversation.save(update_fields=["last_message_at"])
        count += 1
    return count
