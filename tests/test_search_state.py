"""A Hypothesis state machine over search (SECURITY.md #1, 2, 14): it asks, answers and
deletes questions, writes, publishes and deletes articles, sends messages in community
channels and direct conversations, turns communities public, private, secret or external,
moves people in and out of them, and deactivates and reactivates them — through the
services, as the app does. After every step, once the indexer has run, what the search
index answers each persona for questions, answers, articles and messages (count
included, before any reading again through the policy) is exactly what access.visible
lets them see (but drafts, which only their authors see, are not indexed); and a shared
keyword watch that every persona follows has told each subscriber only of what they may
see. The seed is printed (ESSAIM_SEARCH_SEED=<seed>
replays a run)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.db.models import Model
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from essaim import access
from essaim.accounts import services as account_services
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.chat import services as chat
from essaim.chat.models import Message
from essaim.communities import services as community_services
from essaim.communities.models import Community, Visibility
from essaim.http import CLI
from essaim.knowledge import services as knowledge
from essaim.knowledge.models import Answer, Article, Question
from essaim.realtime.models import Event
from essaim.search import services as search
from essaim.search.documents import indexable
from essaim.search.engine import Filters, Request, engine
from essaim.search.indexer import LOADERS, index_pending
from essaim.search.query import parse
from tests.conftest import Personas
from tests.machines import run_machine
from tests.test_communities import build

MIN_STEPS = 60
WORD = "hydrogène"  # in everything written here
KINDS: dict[str, type[Model]] = {
    "question": Question,
    "answer": Answer,
    "article": Article,
    "message": Message,
}
NAMES = ("owner", "member", "outsider", "external", "animator", "moderator", "compliance",
         "hr", "admin")  # the personas but the deactivated one  # fmt: skip


class Searches(RuleBasedStateMachine):
    personas: Personas
    steps = 0

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        engine().clear()  # the embedded index is files: what earlier runs rolled back stays
        self.places = [build(self.personas, v).pk for v in Visibility]
        self.watch = search.watch_create(
            actor=self.personas.animator, title="H2", text=WORD, shared=True, language="fr"
        )
        for name in NAMES:
            self.attempt(search.watch_subscribe, actor=self.user(name), watch=self.watch)
        self.last_event = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def user(self, name: str) -> User:
        return User.objects.get(pk=getattr(self.personas, name).pk)  # fresh, as a request

    def attempt(self, service: Any, **kwargs: Any) -> Any:
        """A write through its service; refused ones change nothing (the policy's other
        tests say who may do what)."""
        try:
            return service(**kwargs)
        except (access.Forbidden, access.NotFound, ServiceError):
            return None

    def pick(self, data: st.DataObject, model: type[Model]) -> Any:
        pks = sorted(model._default_manager.values_list("pk", flat=True))
        pk = data.draw(st.sampled_from(pks), label=model.__name__) if pks else None
        return model._default_manager.get(pk=pk) if pk is not None else None

    def community(self, data: st.DataObject, none: bool = False) -> Community | None:
        choices: list[int | None] = [*self.places, *([None] if none else [])]
        pk = data.draw(st.sampled_from(choices), label="community")
        return Community.objects.get(pk=pk) if pk is not None else None

    name = st.sampled_from(NAMES)

    # --- places and people ---------------------------------------------------------------

    @rule(data=st.data(), visibility=st.sampled_from(list(Visibility)))
    def configure(self, data: st.DataObject, visibility: str) -> None:
        self.attempt(
            community_services.community_update, actor=self.user("owner"), origin=CLI,
            community=self.community(data), changes={"visibility": visibility},
        )  # fmt: skip

    @rule(data=st.data(), person=name, op=st.sampled_from(("join", "leave", "remove")))
    def membership(self, data: st.DataObject, person: str, op: str) -> None:
        community = self.community(data)
        if op == "join":
            self.attempt(community_services.join, actor=self.user(person), community=community)
        elif op == "leave":
            self.attempt(community_services.leave, actor=self.user(person), community=community)
        else:
            self.attempt(
                community_services.member_remove, actor=self.user("owner"), origin=CLI,
                community=community, person=self.user(person),
            )  # fmt: skip

    @rule(person=st.sampled_from(("member", "outsider", "external", "hr")), on=st.booleans())
    def activity(self, person: str, on: bool) -> None:
        change = account_services.user_reactivate if on else account_services.user_deactivate
        self.attempt(change, actor=self.user("admin"), origin=CLI, user=self.user(person))

    # --- what is written -----------------------------------------------------------------

    @rule(data=st.data(), person=name)
    def ask(self, data: st.DataObject, person: str) -> None:
        self.attempt(
            knowledge.question_ask, actor=self.user(person), community=self.community(data, True),
            title=f"Le bus à {WORD} ?",
        )  # fmt: skip

    @rule(data=st.data(), person=name)
    def answer(self, data: st.DataObject, person: str) -> None:
        question = self.pick(data, Question)
        if question is not None:
            self.attempt(
                knowledge.answer_create, actor=self.user(person), question=question,
                body=f"Du {WORD} vert",
            )  # fmt: skip

    @rule(data=st.data(), person=name, publish=st.booleans())
    def write(self, data: st.DataObject, person: str, publish: bool) -> None:
        article = self.pick(data, Article) if data.draw(st.booleans(), label="again") else None
        if article is not None:
            self.attempt(knowledge.article_publish, actor=self.user(person), article=article)
            return
        self.attempt(
            knowledge.article_create, actor=self.user(person),
            community=self.community(data, True), title=f"Guide du {WORD}", publish=publish,
        )  # fmt: skip

    @rule(data=st.data(), person=name, other=name, channel=st.booleans())
    def send(self, data: st.DataObject, person: str, other: str, channel: bool) -> None:
        actor = self.user(person)
        if channel:
            talk = self.attempt(chat.channel_of, actor=actor, community=self.community(data))
        else:
            opened = self.attempt(chat.direct_open, actor=actor, person=self.user(other))
            talk = opened[0] if opened else None
        if talk is not None:
            self.attempt(chat.message_send, actor=actor, conversation=talk, body=f"{WORD} !")

    @rule(data=st.data(), kind=st.sampled_from(("question", "answer", "article")))
    def delete(self, data: st.DataObject, kind: str) -> None:
        found = self.pick(data, KINDS[kind])
        if found is None:
            return
        service = {"question": knowledge.question_delete, "answer": knowledge.answer_delete,
                   "article": knowledge.article_delete}[kind]  # fmt: skip
        self.attempt(service, actor=self.user("admin"), origin=CLI, **{kind: found})

    # --- the check -----------------------------------------------------------------------

    @invariant()
    def the_index_answers_what_the_policy_allows(self) -> None:
        Searches.steps += 1
        index_pending()
        for name in NAMES:
            user = self.user(name)
            for kind in KINDS:
                seen = access.visible(user, LOADERS[kind]())
                wanted = {found.pk for found in seen if indexable(found)}  # not drafts
                assert searched(user, kind) == wanted, (name, kind)
        told = Event.objects.filter(type="watch.matched", id__gt=self.last_event)
        for event in told.prefetch_related("recipients"):
            model = KINDS[event.data["kind"]]
            found = model._default_manager.filter(pk=event.data["id"]).first()
            for recipient in event.recipients.all():
                reader = User.objects.get(pk=recipient.user_id)
                assert found is not None and access.can(reader, access.VIEW, found), event.data
            self.last_event = max(self.last_event, event.id)


def searched(user: User, kind: str) -> set[int]:
    """What the index answers ``user`` for WORD among things of ``kind``, with the count
    of every match, before any reading again through the policy."""
    keys = access.search_keys(user, kinds=[kind])
    result = engine().search(Request(parse(WORD), keys, Filters(kinds=[kind]), limit=500))
    assert result.total == len(result.hits), (kind, result.total)
    return {hit.pk for hit in result.hits}


@pytest.mark.django_db
def test_search_state_machine(personas: Personas) -> None:
    Searches.personas, Searches.steps = personas, 0
    run_machine(
        Searches, replay="ESSAIM_SEARCH_SEED", enough=lambda: Searches.steps >= MIN_STEPS,
        examples=4, steps=20,
    )  # fmt: skip
    print(f"search: {Searches.steps} steps checked")
