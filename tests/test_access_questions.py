"""The one policy, for questions, answers, votes and comments on answers: its three forms
agree for every persona and object (as tests/test_access.py checks for the other types),
the page forms (question_permissions, answer_permissions) say what ``can`` says, and each
persona may do what the rule's docstring says.

The objects: a question in a community of each visibility and in an archived one, a
company-wide question, a deleted one; answers to them (a deleted one), comments on the
answers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model

from essaim import access
from essaim.accounts.models import User
from essaim.communities import services as community_services
from essaim.communities.models import Community, Membership, Role, Visibility
from essaim.http import CLI
from essaim.knowledge import services
from essaim.knowledge.models import Answer, AnswerComment, ExpertRequest, Question
from tests.conftest import Personas
from tests.test_communities import build

pytestmark = pytest.mark.django_db

Viewer = User | AnonymousUser


@dataclass
class World:
    communities: dict[str, Community]
    questions: dict[str, Question]
    answers: list[Answer]
    comments: list[AnswerComment]
    requests: list[ExpertRequest]
    viewers: list[tuple[str, Viewer]]


@pytest.fixture
def world(personas: Personas) -> World:
    communities: dict[str, Community] = {v: build(personas, v) for v in Visibility}
    archived = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Old project", visibility=Visibility.PRIVATE
    )
    Membership.objects.create(community=archived, user=personas.member, role=Role.MEMBER)
    questions = {
        v: services.question_ask(actor=personas.member, community=c, title=f"How in {v}?")
        for v, c in communities.items()
    }
    questions["archived"] = services.question_ask(
        actor=personas.member, community=archived, title="Old question?"
    )
    community_services.community_archive(actor=personas.owner, origin=CLI, community=archived)
    archived.refresh_from_db()
    communities["archived"] = archived
    questions["company"] = services.question_ask(
        actor=personas.member, community=None, title="Who knows the expense tool?"
    )
    gone = services.question_ask(actor=personas.member, community=None, title="Deleted?")
    questions["deleted"] = gone
    answers: list[Answer] = []
    comments: list[AnswerComment] = []
    for key, question in questions.items():
        if key in ("archived", "deleted"):
            continue
        answer = services.answer_create(actor=personas.animator, question=question, body="Yes.")
        answers.append(answer)
        comments.append(
            services.answer_comment_create(actor=personas.member, answer=answer, body="Thanks")
        )
    dropped = services.answer_create(
        actor=personas.owner, question=questions["company"], body="Wrong."
    )
    services.answer_delete(actor=personas.owner, origin=CLI, answer=dropped)
    answers.append(dropped)
    requests = [
        services.expert_request(actor=personas.member, question=q, expert=personas.owner)
        for q in (questions["private"], questions["company"])
    ]
    services.question_delete(actor=personas.member, origin=CLI, question=gone)
    for obj in (*questions.values(), *answers):
        obj.refresh_from_db()
    viewers: list[tuple[str, Viewer]] = [*personas.items(), ("anonymous", AnonymousUser())]
    return World(communities, questions, answers, comments, requests, viewers)


def test_the_three_forms_agree_for_every_persona_and_object(world: World) -> None:
    objects: list[Model] = [
        *world.questions.values(),
        *world.answers,
        *world.comments,
        *world.requests,
    ]
    for name, viewer in world.viewers:
        for obj in objects:
            model = type(obj)
            allowed = access.can(viewer, access.VIEW, obj)
            listed = access.visible(viewer, model._default_manager.filter(pk=obj.pk)).exists()
            receives = (
                isinstance(viewer, User) and access.audience(obj).filter(pk=viewer.pk).exists()
            )
            assert allowed == listed == receives, (name, obj, allowed, listed, receives)


def test_the_page_forms_say_what_can_says(world: World) -> None:
    for name, viewer in world.viewers:
        for question in world.questions.values():
            asked = access.question_permissions(viewer, question)
            rule = access.RULES[Question]
            assert asked == {a for a in rule.actions if access.can(viewer, a, question)}, name
            answers = [
                a for a in world.answers if a.question_id == question.pk and not a.deleted_at
            ]
            given = access.answer_permissions(viewer, answers, asked)
            for answer in answers:
                expected = {
                    a for a in access.RULES[Answer].actions if access.can(viewer, a, answer)
                }
                assert given[answer.pk] == expected, (name, answer)


def readers(world: World, key: str) -> set[str]:
    return {n for n, v in world.viewers if access.can(v, access.VIEW, world.questions[key])}


def test_who_reads_which_question(world: World) -> None:
    employees = {"owner", "member", "outsider", "animator", "moderator", "compliance", "hr"}
    employees.add("admin")
    assert readers(world, "public") == employees
    assert readers(world, "external") == employees | {"external"}
    # Private and secret: their members (the reader "hr" included), not the invitee.
    assert readers(world, "private") == {"owner", "member", "animator", "hr"}
    assert readers(world, "secret") == {"owner", "member", "animator", "hr"}
    # Company-wide: every employee, never an external customer.
    assert readers(world, "company") == employees
    assert readers(world, "deleted") == set()


def allowed(world: World, key: str, action: str) -> set[str]:
    question = world.questions[key]
    return {n for n, v in world.viewers if access.can(v, action, question)}


def test_who_answers_accepts_and_closes(world: World) -> None:
    # Public: any employee answers (they may join); private: its writers, not its reader.
    assert "outsider" in allowed(world, "public", "answer")
    assert "external" not in allowed(world, "public", "answer")
    assert allowed(world, "private", "answer") == {"owner", "member", "animator"}
    # A customer answers in the external community they are in.
    assert "external" in allowed(world, "external", "answer")
    # The asker and the community's runners accept and close; company-wide, the asker.
    assert allowed(world, "private", "accept") == {"member", "owner", "animator"}
    assert allowed(world, "company", "accept") == {"member"}
    assert allowed(world, "company", "close") == {"member"}
    # Moderators and administrators delete what they read, but do not accept for others.
    assert {"moderator", "admin", "member"} <= allowed(world, "company", "delete")
    assert "moderator" not in allowed(world, "public", "accept")
    # An archived community's question is read, never answered, accepted or edited.
    assert allowed(world, "archived", "answer") == set()
    assert allowed(world, "archived", "accept") == set()
    assert allowed(world, "archived", "edit") == set()
    assert "member" in allowed(world, "archived", access.VIEW)


def test_who_sees_a_request_for_an_answer(world: World) -> None:
    private, company = world.requests
    for request in world.requests:
        seen = {n for n, v in world.viewers if access.can(v, access.VIEW, request)}
        assert seen == {"member", "owner"}, request
    # The owner leaves the private community: they no longer see its request.
    Membership.objects.filter(
        community=private.question.community, user__display_name="Owner"
    ).delete()
    seen = {n for n, v in world.viewers if access.can(v, access.VIEW, private)}
    assert seen == {"member"}
    assert {n for n, v in world.viewers if access.can(v, access.VIEW, company)} == {
        "member",
        "owner",
    }


def test_who_votes_on_an_answer(world: World) -> None:
    answer = next(a for a in world.answers if a.question_id == world.questions["public"].pk)
    voters = {n for n, v in world.viewers if access.can(v, "vote", answer)}
    assert "animator" not in voters  # its author
    assert {"member", "outsider", "hr"} <= voters
    assert "external" not in voters and "anonymous" not in voters
