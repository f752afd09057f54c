"""The web pages of questions: what an outsider never sees through them (the question
page, the list, the similar questions while typing), and the forms that write."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django import Settings

from essaim.accounts.models import User
from essaim.communities.models import Community, Visibility
from essaim.content.models import Attachment
from essaim.knowledge import services
from essaim.knowledge.models import Answer, AnswerVote, Question
from tests.conftest import Personas
from tests.test_communities import build as build_community
from tests.verify import unmasked

pytestmark = pytest.mark.django_db
SECRET_TITLE = "Merger with Globex: who negotiates?"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def secret(personas: Personas) -> Community:
    return build_community(personas, Visibility.SECRET)


def test_an_outsider_sees_nothing_of_a_secret_question(
    personas: Personas, secret: Community
) -> None:
    question = services.question_ask(
        actor=personas.member, community=secret, title=SECRET_TITLE, tags=["merger"]
    )
    answer = services.answer_create(actor=personas.owner, question=question, body="The CFO")
    outsider = signed_in(personas.outsider)
    hidden, missing = f"/questions/{question.pk}/", "/questions/999999/"
    seen, absent = outsider.get(hidden), outsider.get(missing)
    assert seen.status_code == absent.status_code == 404
    assert unmasked(seen.content, hidden) == unmasked(absent.content, missing)
    for path in ("/questions/", "/questions/?tag=merger", "/questions/similar/?q=merger+globex"):
        page = outsider.get(path)
        assert page.status_code == 200 and b"Globex" not in page.content, path
    for path, data in (
        (f"/questions/{question.pk}/answer/", {"body": "me"}),
        (f"/questions/{question.pk}/delete/", {}),
        (f"/answers/{answer.pk}/up/", {}),
        (f"/answers/{answer.pk}/comment/", {"body": "me"}),
    ):
        assert outsider.post(path, data).status_code == 404, path
    assert Answer.objects.count() == 1 and not AnswerVote.objects.exists()
    # Its members read it, and find it while typing a similar question.
    member = signed_in(personas.member)
    assert SECRET_TITLE.encode() in member.get(hidden).content
    assert b"Globex" in member.get("/questions/similar/?q=globex+merger").content


def test_ask_answer_vote_and_accept_through_the_forms(
    personas: Personas, secret: Community
) -> None:
    member, owner = signed_in(personas.member), signed_in(personas.owner)
    form = member.get(f"/questions/ask/?community={secret.pk}")
    assert form.status_code == 200 and secret.name.encode() in form.content
    asked = member.post(
        "/questions/ask/",
        {"title": "<script>alert(1)</script> Budget?", "body": "**Q3**", "tags": "budget, q3",
         "where": str(secret.pk)},
    )  # fmt: skip
    question = Question.objects.get()
    assert asked.status_code == 302 and asked["Location"] == f"/questions/{question.pk}/"
    assert (question.community, question.tags) == (secret, ["budget", "q3"])
    page = member.get(asked["Location"]).content
    assert b"<script>alert(1)</script>" not in page and b"&lt;script&gt;" in page
    assert b"<strong>Q3</strong>" in page

    owner.post(f"/questions/{question.pk}/answer/", {"body": "Ask finance."})
    answer = Answer.objects.get()
    member.post(f"/answers/{answer.pk}/up/")
    member.post(f"/questions/{question.pk}/accept/", {"answer": str(answer.pk)})
    answer.refresh_from_db()
    question.refresh_from_db()
    assert (answer.score, question.state, question.accepted_answer) == (1, "accepted", answer)
    page = member.get(f"/questions/{question.pk}/").content.decode()
    assert "Accepted answer" in page and 'aria-pressed="true"' in page
    # One's own answer offers no vote; a bad form is told, not a server error.
    own_page = owner.get(f"/questions/{question.pk}/").content.decode()
    assert f"/answers/{answer.pk}/up/" not in own_page
    refused = owner.post(f"/answers/{answer.pk}/up/", follow=True)
    assert b"own answer" in refused.content
    empty = member.post("/questions/ask/", {"title": " ", "where": ""})
    assert empty.status_code == 422 and Question.objects.count() == 1


def test_the_pages_speak_french(personas: Personas) -> None:
    services.question_ask(actor=personas.member, community=None, title="Où est la cantine ?")
    member = signed_in(personas.member)
    member.cookies["django_language"] = "fr"
    page = member.get("/questions/", headers={"Accept-Language": "fr"}).content.decode()
    assert "Poser une question" in page and "Ouverte" in page


def test_a_question_page_reads_a_fixed_number_of_queries(personas: Personas) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def page_queries(answers: int) -> int:
        question = services.question_ask(actor=personas.member, community=None, title="Q?")
        for n in range(answers):
            answer = services.answer_create(actor=personas.owner, question=question, body=f"A{n}")
            services.answer_vote(actor=personas.member, answer=answer, value=1)
            services.answer_comment_create(actor=personas.member, answer=answer, body="Thanks")
        member = signed_in(personas.member)
        member.get(f"/questions/{question.pk}/")  # the session and caches, once
        with CaptureQueriesContext(connection) as queries:
            assert member.get(f"/questions/{question.pk}/").status_code == 200
        return len(queries)

    assert page_queries(2) == page_queries(8)


def test_numbers_past_the_databases_integers_are_not_server_errors(personas: Personas) -> None:
    member = signed_in(personas.member)
    big = "9" * 30
    for path in (
        f"/questions/?page={big}",
        f"/articles/?page={big}",
        f"/knowledge/?community={big}",
    ):
        assert member.get(path).status_code in (200, 404), path
    question = services.question_ask(actor=personas.member, community=None, title="Q?")
    for action, field in (("request", "expert"), ("accept", "answer"), ("duplicate", "original")):
        response = member.post(f"/questions/{question.pk}/{action}/", {field: big})
        assert response.status_code == 302, action
    answer = services.answer_create(actor=personas.owner, question=question, body="A")
    services.question_accept(actor=personas.member, question=question, answer_id=answer.pk)
    refused = member.post(f"/questions/{question.pk}/accept/", {"answer": "abc"}, follow=True)
    assert b"not one of this question" in refused.content
    question.refresh_from_db()
    assert (question.state, question.accepted_answer, question.duplicate_of) == (
        "accepted",
        answer,
        None,
    )


def test_files_go_with_the_question_and_answer_forms(
    personas: Personas, secret: Community, settings: Settings, tmp_path: Path
) -> None:
    settings.FILES_DIR = tmp_path / "files"
    member, owner = signed_in(personas.member), signed_in(personas.owner)
    log = SimpleUploadedFile("vpn.log", b"error 809\n", "text/plain")
    asked = member.post(
        "/questions/ask/",
        {"title": "VPN error 809?", "where": str(secret.pk), "files": [log]},
    )
    question = Question.objects.get()
    assert asked.status_code == 302 and question.attachments.get().name == "vpn.log"
    fix = SimpleUploadedFile("fix.txt", b"reset the adapter\n", "text/plain")
    owner.post(f"/questions/{question.pk}/answer/", {"body": "", "files": [fix]})
    answer = Answer.objects.get()
    assert answer.body == "" and answer.attachments.get().name == "fix.txt"
    page = member.get(f"/questions/{question.pk}/").content.decode()
    assert "vpn.log" in page and "fix.txt" in page
    for file in Attachment.objects.all():
        assert member.get(f"/files/{file.pk}/").status_code == 200
        assert signed_in(personas.outsider).get(f"/files/{file.pk}/").status_code == 404
    # A refused file is told on the form, and no question is asked.
    page_html = SimpleUploadedFile("x.html", b"<html><script>alert(1)</script>", "text/html")
    refused = member.post("/questions/ask/", {"title": "Again?", "files": [page_html]})
    assert refused.status_code == 422 and Question.objects.count() == 1
