"""Questions reach the people who know: suggested experts (declared skills and areas,
accepted and well-voted answers as evidence), asking them for their answer, the
"for me" queue; and none of it reveals what the viewer may not read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from essaim.accounts.models import User
from essaim.accounts.services import user_deactivate
from essaim.communities.models import Community, Visibility
from essaim.directory import selectors as directory_selectors
from essaim.directory import services as directory_services
from essaim.directory.models import TopicKind
from essaim.http import CLI
from essaim.knowledge import selectors, services
from essaim.knowledge.models import Answer, ExpertRequest
from essaim.notifications import selectors as notification_selectors
from essaim.realtime import events
from tests.conftest import Personas, make_user
from tests.test_communities import build

pytestmark = pytest.mark.django_db
TokenClient = Callable[..., Client]
API = "/api/v1"


def knows(person: User, topic: str, level: int = 4, kind: TopicKind = TopicKind.SKILL) -> None:
    directory_services.topics_set(
        actor=person, person=person, origin=CLI, kind=kind,
        items=[(topic, level if kind == TopicKind.SKILL else None)],
    )  # fmt: skip


def accepted_answer(asker: User, answerer: User, community: Community | None, tag: str) -> None:
    question = services.question_ask(
        actor=asker, community=community, title=f"A question about {tag}?", tags=[tag]
    )
    answer = services.answer_create(actor=answerer, question=question, body="Like this.")
    services.question_accept(actor=asker, question=question, answer_id=answer.pk)


def names(experts: list[Any]) -> list[str]:
    return [e.person.display_name for e in experts]


def test_experts_by_declared_skill_and_by_accepted_answers(personas: Personas) -> None:
    python_dev = make_user("pythonista")
    knows(python_dev, "Python", 3)
    helper = make_user("helper")
    for _ in range(3):
        accepted_answer(personas.owner, helper, None, "python")
    found = selectors.suggested_experts(
        personas.member,
        title="Reading a CSV file in Python?",
        tags=[],
        exclude=[personas.member.pk],
    )
    # Three accepted answers (4.5 points) outrank a declared "advanced" level (3).
    assert names(found) == ["Helper", "Pythonista"]
    assert [(e.kind, e.label) for e in found[0].evidence] == [("accepted_answers", "3")]
    # The tag alone finds them too, and "who knows" in the directory shows the evidence.
    by_tag = selectors.suggested_experts(
        personas.member, title="Help?", tags=["Python"], exclude=[]
    )
    assert names(by_tag) == ["Helper", "Pythonista"]
    _topics, who = directory_selectors.experts(personas.member, "python")
    assert names(who) == ["Helper", "Pythonista"]
    # Someone who left is no longer suggested, whatever their evidence.
    user_deactivate(actor=personas.admin, origin=CLI, user=helper)
    gone = selectors.suggested_experts(personas.member, title="Python?", tags=[], exclude=[])
    assert names(gone) == ["Pythonista"]


def test_evidence_follows_the_accepted_answer_when_it_changes(personas: Personas) -> None:
    first, second = make_user("first"), make_user("second")
    knows(personas.hr, "Rust")  # the directory topic
    question = services.question_ask(
        actor=personas.owner, community=None, title="Rust or Go?", tags=["rust"]
    )
    one = services.answer_create(actor=first, question=question, body="Rust.")
    two = services.answer_create(actor=second, question=question, body="Go.")

    def evidence() -> dict[str, list[tuple[str, str]]]:
        found = selectors.suggested_experts(
            personas.member, title="", tags=["rust"], exclude=[personas.hr.pk]
        )
        return {e.person.display_name: [(i.kind, i.label) for i in e.evidence] for e in found}

    def flags() -> list[bool]:
        return [a.accepted for a in Answer.objects.order_by("pk")]

    assert evidence() == {} and flags() == [False, False]
    services.question_accept(actor=personas.owner, question=question, answer_id=one.pk)
    assert evidence() == {"First": [("accepted_answers", "1")]} and flags() == [True, False]
    services.question_accept(actor=personas.owner, question=question, answer_id=two.pk)
    assert evidence() == {"Second": [("accepted_answers", "1")]} and flags() == [False, True]
    for voter in (personas.member, personas.animator):  # well voted: evidence too
        services.answer_vote(actor=voter, answer=one, value=1)
    assert evidence()["First"] == [("voted_answers", "1")]
    services.answer_delete(actor=second, origin=CLI, answer=two)
    assert "Second" not in evidence() and flags() == [False, False]
    services.question_accept(actor=personas.owner, question=question, answer_id=one.pk)
    services.question_accept(actor=personas.owner, question=question, answer_id=None)
    assert flags() == [False, False] and evidence()["First"] == [("voted_answers", "1")]


def test_answers_in_a_community_the_viewer_does_not_read_are_no_evidence(
    personas: Personas,
) -> None:
    secret = build(personas, Visibility.SECRET)
    accepted_answer(personas.member, personas.animator, secret, "merger")
    knows(personas.owner, "Merger", kind=TopicKind.EXPERTISE)
    seen_by_member = selectors.suggested_experts(
        personas.member, title="Merger?", tags=[], exclude=[]
    )
    assert "Animator" in names(seen_by_member)
    # The outsider sees the declared expert, not the secret community's answerer.
    assert names(
        selectors.suggested_experts(personas.outsider, title="Merger?", tags=[], exclude=[])
    ) == ["Owner"]


def test_asking_an_expert_tells_them_alone(personas: Personas, token_client: TokenClient) -> None:
    knows(personas.owner, "Expenses")
    member = token_client(personas.member)
    made = member.post(
        f"{API}/questions", {"title": "Expenses in Euros?", "tags": ["expenses"]},
        content_type="application/json",
    ).json()  # fmt: skip
    suggested = member.get(f"{API}/questions/{made['id']}/experts").json()
    assert [(e["person"]["display_name"], e["asked"]) for e in suggested] == [("Owner", False)]
    events.publish()  # what on_commit does, outside the test's transaction
    start = events.head_now()
    asked = member.post(
        f"{API}/questions/{made['id']}/experts", {"expert": personas.owner.pk},
        content_type="application/json",
    )  # fmt: skip
    assert asked.status_code == 201 and asked.json()[0]["asked"] is True
    again = member.post(
        f"{API}/questions/{made['id']}/experts", {"expert": personas.owner.pk},
        content_type="application/json",
    )  # fmt: skip
    assert again.status_code == 409
    # Someone who cannot read the question (an external customer) is refused like nobody.
    for person_id in (personas.external.pk, 999_999):
        refused = member.post(
            f"{API}/questions/{made['id']}/experts", {"expert": person_id},
            content_type="application/json",
        )  # fmt: skip
        assert refused.status_code == 422 and "expert" in refused.json()["error"]["fields"]
    # Only the asker (and a community's runners) ask for answers.
    other = token_client(personas.animator).post(
        f"{API}/questions/{made['id']}/experts", {"expert": personas.hr.pk},
        content_type="application/json",
    )  # fmt: skip
    assert other.status_code == 403
    assert ExpertRequest.objects.count() == 1
    # The owner's queue has it; the events went to the owner only (once published), and
    # so did the notification.
    events.publish()
    assert [e.type for e in events.after(personas.owner, start).events] == [
        "question.expert_requested",
        "notification",
    ]
    assert [i.notification.kind for i in notification_selectors.page(personas.owner)] == ["expert"]
    assert events.after(personas.animator, start).events == []
    queue = token_client(personas.owner).get(f"{API}/questions?scope=for-me").json()
    assert [q["title"] for q in queue["results"]] == ["Expenses in Euros?"]


def test_the_queue_holds_unanswered_questions_in_my_areas(personas: Personas) -> None:
    knows(personas.owner, "SQL", kind=TopicKind.ASK_ME_ABOUT)
    tagged = services.question_ask(
        actor=personas.member, community=None, title="Slow query?", tags=["sql"]
    )
    services.question_ask(actor=personas.member, community=None, title="Lunch?", tags=["food"])
    services.question_ask(actor=personas.owner, community=None, title="Own SQL?", tags=["sql"])
    secret = build(personas, Visibility.SECRET)
    services.question_ask(
        actor=personas.member, community=secret, title="Secret SQL?", tags=["sql"]
    )

    def queue(person: User) -> set[str]:
        return {q.title for q in selectors.for_me(person)}

    # Not one's own question; a secret community's only for its members.
    assert queue(personas.owner) == {"Slow query?", "Secret SQL?"}
    knows(personas.outsider, "SQL")
    assert queue(personas.outsider) == {"Slow query?", "Own SQL?"}
    # Answered: no longer waiting.
    services.answer_create(actor=personas.hr, question=tagged, body="Add an index.")
    assert queue(personas.outsider) == {"Own SQL?"}


def test_articles_on_a_subject_are_evidence_for_those_who_read_them(personas: Personas) -> None:
    secret = build(personas, Visibility.SECRET)
    for community, author, title in (
        (None, personas.hr, "Payroll FAQ"),
        (secret, personas.animator, "Payroll audit"),
    ):
        services.article_create(
            actor=author, community=community, title=title, tags=["payroll"], publish=True
        )
    services.article_create(actor=personas.owner, community=None, title="Draft", tags=["payroll"])
    directory_services.topic_for("Payroll")  # the topic exists once someone names it
    found = selectors.suggested_experts(personas.member, title="Payroll?", tags=[], exclude=[])
    assert sorted(names(found)) == ["Animator", "Hr"]
    assert [(e.kind, e.label) for e in found[0].evidence] == [("articles", "1")]
    outsider = selectors.suggested_experts(personas.outsider, title="Payroll?", tags=[], exclude=[])
    assert names(outsider) == ["Hr"]  # a secret community's article is no evidence to them
