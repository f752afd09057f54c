"""The questions API (/api/v1/questions, /answers): asking, answering, voting, accepting,
closing as a duplicate; a question the viewer may not read answering like a missing one;
bad input refused with a 4xx that changes nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from pytest_django import Settings

from essaim.accounts.models import User
from essaim.communities.models import Community, Visibility
from essaim.content.models import Attachment
from essaim.content.services import purge_unattached
from essaim.governance.models import AuditEntry
from essaim.knowledge.models import (
    BODY_MAX,
    TAGS_MAX,
    Answer,
    AnswerComment,
    AnswerVote,
    Question,
    QuestionTag,
)
from essaim.realtime import events
from tests.conftest import Personas
from tests.test_communities import build

pytestmark = pytest.mark.django_db

TokenClient = Callable[..., Client]
API = "/api/v1"
MISSING = 999_999


@pytest.fixture
def spaces(personas: Personas) -> dict[str, Community]:
    return {v: build(personas, v) for v in Visibility}


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    call = getattr(client, method)
    if body is None:
        return call(f"{API}{path}")
    return call(f"{API}{path}", body, content_type="application/json")


def ask(client: Client, **body: Any) -> dict[str, Any]:
    response = send(client, "post", "/questions", {"title": "How do I book a room?", **body})
    assert response.status_code == 201, response.content
    made: dict[str, Any] = response.json()
    return made


def answer(client: Client, question: int, body: str = "Use the app.") -> dict[str, Any]:
    response = send(client, "post", f"/questions/{question}/answers", {"body": body})
    assert response.status_code == 201, response.content
    made: dict[str, Any] = response.json()
    return made


def uploaded(client: Client, name: str = "notes.txt") -> int:
    if name.endswith(".png"):
        out = io.BytesIO()
        Image.new("RGB", (40, 30), (20, 90, 200)).save(out, "PNG")
        data, mime = out.getvalue(), "image/png"
    else:
        data, mime = b"line one\nline two\n", "text/plain"
    response = client.post(f"{API}/files", {"file": SimpleUploadedFile(name, data, mime)})
    assert response.status_code == 201, response.content
    made: int = response.json()["id"]
    return made


def error_of(response: Any) -> dict[str, Any]:
    found: dict[str, Any] = response.json()["error"]
    return found


def test_ask_answer_vote_accept(
    personas: Personas, spaces: dict[str, Community], token_client: TokenClient
) -> None:
    member, animator, owner = (
        token_client(p) for p in (personas.member, personas.animator, personas.owner)
    )
    community = spaces[Visibility.PRIVATE]
    question = ask(member, community=community.pk, body="In **Lyon**", tags=["#Rooms", "lyon"])
    assert question["state"] == "open" and question["tags"] == ["rooms", "lyon"]
    assert "<strong>Lyon</strong>" in question["html"]
    assert set(question["allowed"]) >= {"edit", "accept", "close", "answer"}
    assert QuestionTag.objects.filter(question_id=question["id"]).count() == 2

    first = answer(animator, question["id"], "Book it in Outlook.")
    second = answer(owner, question["id"], "Ask reception.")
    got = send(member, "get", f"/questions/{question['id']}").json()
    assert got["state"] == "answered" and got["answer_count"] == 2

    # Votes: one per person, changeable; never on one's own answer; no double vote.
    assert send(member, "post", f"/answers/{second['id']}/vote", {"value": 1}).json()["score"] == 1
    again = send(member, "post", f"/answers/{second['id']}/vote", {"value": 1})
    assert again.status_code == 409 and "already" in error_of(again)["message"]
    changed = send(member, "post", f"/answers/{second['id']}/vote", {"value": -1}).json()
    assert (changed["score"], changed["my_vote"]) == (-1, -1)
    own = send(owner, "post", f"/answers/{second['id']}/vote", {"value": 1})
    assert own.status_code == 403 and "own answer" in error_of(own)["message"]
    assert send(member, "delete", f"/answers/{second['id']}/vote").json()["score"] == 0
    assert send(animator, "post", f"/answers/{second['id']}/vote", {"value": 1}).status_code == 200
    assert AnswerVote.objects.filter(answer_id=second["id"]).count() == 1

    # The asker accepts; the accepted answer comes first, whatever its score.
    accepted = send(member, "put", f"/questions/{question['id']}/accepted", {"answer": first["id"]})
    assert accepted.status_code == 200
    body = accepted.json()
    assert body["state"] == "accepted" and body["accepted_answer"] == first["id"]
    assert [a["id"] for a in body["answers"]] == [first["id"], second["id"]]
    assert body["answers"][0]["accepted"] is True
    # Someone else may not accept for the asker (the community's member who did not ask).
    other = send(
        token_client(personas.hr),
        "put",
        f"/questions/{question['id']}/accepted",
        {"answer": second["id"]},
    )
    assert other.status_code == 403
    # Deleting the accepted answer leaves the question answered, not accepted.
    assert send(animator, "delete", f"/answers/{first['id']}").status_code == 204
    after = send(member, "get", f"/questions/{question['id']}").json()
    assert (after["state"], after["accepted_answer"], after["answer_count"]) == (
        "answered",
        None,
        1,
    )


def test_accepting_an_answer_of_another_question_is_refused(
    personas: Personas, token_client: TokenClient
) -> None:
    member, owner = token_client(personas.member), token_client(personas.owner)
    mine = ask(member, title="First question?")
    theirs = ask(owner, title="Second question?")
    elsewhere = answer(owner, theirs["id"])
    refused = send(member, "put", f"/questions/{mine['id']}/accepted", {"answer": elsewhere["id"]})
    assert refused.status_code == 422
    assert "answer" in error_of(refused)["fields"]
    assert Question.objects.get(pk=mine["id"]).state == "open"


def test_a_duplicate_links_only_to_a_question_the_closer_reads(
    personas: Personas, spaces: dict[str, Community], token_client: TokenClient
) -> None:
    member, outsider = token_client(personas.member), token_client(personas.outsider)
    secret = ask(member, community=spaces[Visibility.SECRET].pk, title="Secret plan?")
    mine = ask(outsider, title="Is there a plan?")
    hidden = send(outsider, "put", f"/questions/{mine['id']}/duplicate", {"original": secret["id"]})
    missing = send(outsider, "put", f"/questions/{mine['id']}/duplicate", {"original": MISSING})
    assert hidden.status_code == missing.status_code == 422
    assert hidden.content == missing.content  # the secret question does not show
    assert Question.objects.get(pk=mine["id"]).state == "open"

    original = ask(member, title="Where is the plan?")
    closed = send(
        outsider, "put", f"/questions/{mine['id']}/duplicate", {"original": original["id"]}
    )
    assert closed.json()["state"] == "duplicate" and closed.json()["duplicate_of"] == original["id"]
    # A closed question takes no answer; reopening it does.
    late = send(member, "post", f"/questions/{mine['id']}/answers", {"body": "Here"})
    assert late.status_code == 403
    reopened = send(outsider, "put", f"/questions/{mine['id']}/duplicate", {"original": None})
    assert reopened.json()["state"] == "open" and reopened.json()["duplicate_of"] is None
    itself = send(outsider, "put", f"/questions/{mine['id']}/duplicate", {"original": mine["id"]})
    assert itself.status_code == 422


def test_outsiders_see_nothing_of_a_private_question(
    personas: Personas, spaces: dict[str, Community], token_client: TokenClient
) -> None:
    member, outsider = token_client(personas.member), token_client(personas.outsider)
    external = token_client(personas.external)
    private = ask(member, community=spaces[Visibility.PRIVATE].pk, title="Private budget question?")
    reply = answer(member, private["id"])
    company = ask(member, title="Company budget question?")
    for client in (outsider, external):
        pairs = [
            (f"/questions/{private['id']}", f"/questions/{MISSING}"),
            (f"/answers/{reply['id']}", f"/answers/{MISSING}"),
        ]
        for hidden_path, missing_path in pairs:
            seen, missing = send(client, "get", hidden_path), send(client, "get", missing_path)
            assert seen.status_code == missing.status_code == 404
            assert seen.content == missing.content
        writes = [
            ("post", f"/questions/{private['id']}/answers", {"body": "x"}),
            ("post", f"/answers/{reply['id']}/vote", {"value": 1}),
            ("post", f"/answers/{reply['id']}/comments", {"body": "x"}),
            ("put", f"/questions/{private['id']}/accepted", {"answer": reply["id"]}),
            ("delete", f"/questions/{private['id']}", None),
        ]
        for method, path, body in writes:
            assert send(client, method, path, body).status_code == 404, path
        titles = [q["title"] for q in send(client, "get", "/questions").json()["results"]]
        assert "Private budget question?" not in titles
        similar = send(client, "get", "/questions/similar?q=budget").json()
        assert "Private budget question?" not in [q["title"] for q in similar]
    # The external customer does not read company-wide questions either; an employee does.
    assert send(external, "get", f"/questions/{company['id']}").status_code == 404
    assert send(outsider, "get", f"/questions/{company['id']}").status_code == 200
    assert [q["title"] for q in send(outsider, "get", "/questions/similar?q=budget").json()] == [
        "Company budget question?"
    ]
    assert Answer.objects.count() == 1 and not AnswerVote.objects.exists()
    assert not AnswerComment.objects.exists()


@pytest.mark.django_db(transaction=True)  # on_commit publishes
def test_events_reach_only_the_readers(
    personas: Personas, spaces: dict[str, Community], token_client: TokenClient
) -> None:
    start = events.head_now()
    member = token_client(personas.member)
    private = ask(member, community=spaces[Visibility.PRIVATE].pk)
    answer(token_client(personas.animator), private["id"])

    def types(user: User) -> list[str]:
        return [e.type for e in events.after(user, start).events]

    assert types(personas.hr) == ["question.created", "answer.created"]
    assert types(personas.outsider) == []
    assert types(personas.external) == []


def test_bad_input_is_refused_and_changes_nothing(
    personas: Personas, spaces: dict[str, Community], token_client: TokenClient
) -> None:
    member = token_client(personas.member)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": "x" * (BODY_MAX + 1)}, "body"),
        ({"tags": [f"t{i}" for i in range(TAGS_MAX + 1)]}, "tags"),
        ({"tags": ["two words"]}, "tags"),
        ({"tags": ["<script>"]}, "tags"),
        ({"tags": "rooms"}, "tags"),
        ({"community": MISSING}, ""),
        ({"unknown": 1}, "unknown"),
    ]
    for extra, field in cases:
        response = send(member, "post", "/questions", {"title": "Fine title?", **extra})
        assert 400 <= response.status_code < 500, extra
        if field:
            assert field in error_of(response)["fields"], (extra, response.json())
    # A reader of a private community may read, not ask, there.
    reader = send(
        token_client(personas.hr),
        "post",
        "/questions",
        {"title": "Q?", "community": spaces[Visibility.PRIVATE].pk},
    )
    assert reader.status_code == 403
    assert not Question.objects.exists()

    question = ask(member)
    reply = answer(token_client(personas.owner), question["id"])
    for value in (0, 2, "1", None):
        bad = send(member, "post", f"/answers/{reply['id']}/vote", {"value": value})
        assert bad.status_code == 422, value
    assert (
        send(member, "post", f"/questions/{question['id']}/answers", {"body": " "}).status_code
        == 422
    )
    # Editing others' content without the right.
    outsider = token_client(personas.outsider)
    assert (
        send(outsider, "patch", f"/questions/{question['id']}", {"title": "Mine now"}).status_code
        == 403
    )
    assert (
        send(outsider, "patch", f"/answers/{reply['id']}", {"body": "Mine now"}).status_code == 403
    )
    assert send(outsider, "delete", f"/answers/{reply['id']}").status_code == 403
    assert Question.objects.get(pk=question["id"]).title == "How do I book a room?"
    assert Answer.objects.get(pk=reply["id"]).body == "Use the app."
    assert not AnswerVote.objects.exists() and Answer.objects.count() == 1


def test_edits_and_deletions(
    personas: Personas, spaces: dict[str, Community], token_client: TokenClient
) -> None:
    member, animator = token_client(personas.member), token_client(personas.animator)
    question = ask(member, community=spaces[Visibility.PUBLIC].pk)
    edited = send(
        member,
        "patch",
        f"/questions/{question['id']}",
        {"title": "How do I book a desk?", "tags": ["desks"]},
    )
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["tags"]) == ("How do I book a desk?", ["desks"])
    assert list(
        QuestionTag.objects.filter(question_id=question["id"]).values_list("name", flat=True)
    ) == ["desks"]
    # The community's animator curates: edits the title, deletes the question (audited).
    assert (
        send(
            animator, "patch", f"/questions/{question['id']}", {"title": "Booking a desk"}
        ).status_code
        == 200
    )
    assert send(animator, "delete", f"/questions/{question['id']}").status_code == 204
    assert send(member, "get", f"/questions/{question['id']}").status_code == 404
    assert AuditEntry.objects.filter(action="question.delete").count() == 1


def test_every_knowledge_route_hides_a_private_community_from_outsiders(
    personas: Personas, spaces: dict[str, Community], token_client: TokenClient
) -> None:
    """An IDOR sweep: each route that takes a question, answer, comment or article id,
    given those of a private community, answers an outsider like a missing one."""
    from essaim.knowledge import services

    private = spaces[Visibility.PRIVATE]
    question = services.question_ask(actor=personas.member, community=private, title="Budget?")
    answer = services.answer_create(actor=personas.owner, question=question, body="Ask")
    comment = services.answer_comment_create(actor=personas.member, answer=answer, body="Ok")
    services.question_accept(actor=personas.member, question=question, answer_id=answer.pk)
    article = services.article_create(
        actor=personas.member, community=private, title="Budget guide", publish=True
    )
    draft = services.article_create(actor=personas.member, community=None, title="My draft")

    def routes(q: int, a: int, c: int, art: int, draft: int) -> list[tuple[str, str, Any]]:
        return [
            ("get", f"/questions/{q}/experts", None),
            ("post", f"/questions/{q}/experts", {"expert": personas.hr.pk}),
            ("post", f"/questions/{q}/harvest", None),
            ("patch", f"/questions/{q}", {"title": "x"}),
            ("put", f"/questions/{q}/duplicate", {"original": None}),
            ("delete", f"/answers/{a}/vote", None),
            ("patch", f"/answers/{a}", {"body": "x"}),
            ("delete", f"/answers/{a}/comments/{c}", None),
            ("get", f"/articles/{art}", None),
            ("patch", f"/articles/{art}", {"title": "x"}),
            ("post", f"/articles/{art}/publish", None),
            ("post", f"/articles/{art}/authors", {"person": personas.outsider.pk}),
            ("put", f"/articles/{art}/feedback", {"useful": True}),
            ("get", f"/articles/{art}/revisions", None),
            ("get", f"/articles/{art}/revisions/1", None),
            ("post", f"/articles/{art}/revisions/1/restore", None),
            ("delete", f"/articles/{art}", None),
            ("get", f"/articles/{draft}", None),
        ]

    ids = [question.pk, answer.pk, comment.pk, article.pk, draft.pk]
    outsider = token_client(personas.outsider)
    for language in ("en", "fr"):
        outsider.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        hidden = routes(*ids)
        missing = routes(*(pk + 10**6 for pk in ids))
        for (method, path, body), (_m, absent, _b) in zip(hidden, missing, strict=True):
            response = send(outsider, method, path, body)
            assert response.status_code == 404, (method, path, response.status_code)
            # Byte for byte what a missing one answers, in any language.
            assert response.content == send(outsider, method, absent, body).content, path
    for path in ("/articles", "/articles?drafts=true", "/questions?scope=for-me"):
        listed = send(outsider, "get", path).json()["results"]
        assert not [r for r in listed if "Budget" in r["title"] or r["title"] == "My draft"]
    assert send(outsider, "get", "/questions/experts?title=Budget").status_code == 200
    comment.refresh_from_db()
    article.refresh_from_db()
    assert comment.deleted_at is None and article.deleted_at is None
    assert article.title == "Budget guide" and article.author_links.count() == 1


def test_files_on_questions_and_answers_are_read_by_the_question_readers_alone(
    personas: Personas,
    spaces: dict[str, Community],
    token_client: TokenClient,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.FILES_DIR = tmp_path / "files"
    member, owner = token_client(personas.member), token_client(personas.owner)
    outsider, external = token_client(personas.outsider), token_client(personas.external)
    log, shot = uploaded(member, "error.log.txt"), uploaded(member, "screen.png")
    question = ask(
        member, community=spaces[Visibility.PRIVATE].pk, body="", attachments=[log, shot]
    )
    assert [f["id"] for f in question["files"]] == [log, shot]
    assert question["files"][1]["kind"] == "image" and question["files"][1]["thumbnail_url"]
    fix = uploaded(owner, "fix.txt")
    response = send(owner, "post", f"/questions/{question['id']}/answers", {"attachments": [fix]})
    assert response.status_code == 201, response.content  # a file alone is an answer
    reply = response.json()
    assert reply["body"] == "" and [f["name"] for f in reply["files"]] == ["fix.txt"]
    thread = send(member, "get", f"/questions/{question['id']}").json()
    assert [f["id"] for f in thread["answers"][0]["files"]] == [fix]
    assert member.get(f"{API}/files/{fix}").getvalue() == b"line one\nline two\n"
    for client in (outsider, external):
        for file_id in (log, shot, fix):
            for suffix in ("", "?thumbnail=1"):
                seen = client.get(f"{API}/files/{file_id}{suffix}")
                missing = client.get(f"{API}/files/{MISSING}{suffix}")
                assert seen.status_code == missing.status_code == 404
                assert seen.content == missing.content
    # A file already taken, or someone else's, is not attached again; nothing is written.
    count = Question.objects.count()
    for files in ([log], [uploaded(owner)]):
        response = send(member, "post", "/questions", {"title": "Again?", "attachments": files})
        assert response.status_code == 422 and "attachments" in error_of(response)["fields"]
    assert Question.objects.count() == count
    response = send(member, "post", f"/questions/{question['id']}/answers", {"body": ""})
    assert response.status_code == 422  # neither text nor file
    # The nightly purge of unposted files leaves the question's files alone.
    Attachment.objects.update(created_at=Attachment.objects.first().created_at - timedelta(days=2))
    assert purge_unattached() == 1  # the owner's file never attached
    assert Attachment.objects.filter(question_id=question["id"]).count() == 3
    # The question deleted, its files go with it for everyone.
    assert send(member, "delete", f"/questions/{question['id']}").status_code == 204
    for file_id in (log, fix):
        assert member.get(f"{API}/files/{file_id}").status_code == 404
