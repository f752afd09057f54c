"""The web pages of articles and of the knowledge base: what an outsider never sees
through them, and the forms that write."""

from __future__ import annotations

import pytest
from django.test import Client

from essaim.accounts.models import User
from essaim.communities.models import Community, Visibility
from essaim.knowledge import services
from essaim.knowledge.models import Article, ArticleAuthor
from tests.conftest import Personas
from tests.test_communities import build as build_community

pytestmark = pytest.mark.django_db
SECRET = "Project Orion post-mortem"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def secret(personas: Personas) -> Community:
    return build_community(personas, Visibility.SECRET)


def test_an_outsider_sees_nothing_of_a_secret_article(
    personas: Personas, secret: Community
) -> None:
    article = services.article_create(
        actor=personas.member, community=secret, title=SECRET, kind="case_study", publish=True
    )
    question = services.question_ask(
        actor=personas.member, community=secret, title="Orion budget?", tags=["orion"]
    )
    answer = services.answer_create(actor=personas.owner, question=question, body="Ask the CFO")
    services.question_accept(actor=personas.member, question=question, answer_id=answer.pk)
    outsider = signed_in(personas.outsider)
    for path in (f"/articles/{article.pk}/", f"/articles/{article.pk}/history/",
                 f"/articles/{article.pk}/edit/"):  # fmt: skip
        assert outsider.get(path).status_code == 404, path
    for path in ("/articles/", "/knowledge/", "/articles/?kind=case_study"):
        page = outsider.get(path)
        assert page.status_code == 200, path
        assert b"Orion" not in page.content and b"orion" not in page.content, path
    for action in ("publish", "useful", "restore", "delete", "author", "review"):
        assert outsider.post(f"/articles/{article.pk}/{action}/").status_code == 404
    # Its readers see the article, the secret community's knowledge and its contributors.
    member = signed_in(personas.member)
    home = member.get(f"/knowledge/?community={secret.pk}").content.decode()
    assert SECRET in home and "orion" in home and "Owner" in home


def test_write_a_case_study_with_a_co_author_and_restore(
    personas: Personas, secret: Community
) -> None:
    member, owner = signed_in(personas.member), signed_in(personas.owner)
    form = member.get(f"/articles/new/?kind=case_study&community={secret.pk}").content.decode()
    assert "## Context" in form and "## Lessons learned" in form
    made = member.post("/articles/new/", {
        "title": "Moving the <b>warehouse</b>", "body": "## Context\nFirst text",
        "tags": "logistics", "kind": "case_study", "where": str(secret.pk),
    })  # fmt: skip
    article = Article.objects.get()
    assert made.status_code == 302 and article.published_at is None
    page = member.get(f"/articles/{article.pk}/").content.decode()
    assert "&lt;b&gt;warehouse&lt;/b&gt;" in page and "Draft" in page
    assert owner.get(f"/articles/{article.pk}/").status_code == 404  # a draft, not theirs yet
    member.post(f"/articles/{article.pk}/author/", {"email": personas.owner.email})
    assert ArticleAuthor.objects.filter(article=article).count() == 2
    owner.post(
        f"/articles/{article.pk}/edit/",
        {"title": "Moving the warehouse", "body": "## Context\nSecond text", "tags": "logistics"},
    )
    history = member.get(f"/articles/{article.pk}/history/").content.decode()
    assert "Revision 2" in history and "Second text" in history and "First text" in history
    member.post(f"/articles/{article.pk}/restore/", {"revision": "1"})
    article.refresh_from_db()
    assert article.body == "## Context\nFirst text" and article.revisions.count() == 3
    member.post(f"/articles/{article.pk}/publish/")
    article.refresh_from_db()
    assert article.published_at is not None
    # A reader rates it; a bad date is told, not a server error.
    hr = signed_in(personas.hr)
    hr.post(f"/articles/{article.pk}/useful/")
    article.refresh_from_db()
    assert article.useful_count == 1
    for day in ("someday", "2027-02-30"):
        bad = member.post(f"/articles/{article.pk}/review/", {"review_on": day}, follow=True)
        assert bad.status_code == 200 and b"not valid" in bad.content, day


def test_a_question_becomes_an_article_from_its_page(personas: Personas) -> None:
    question = services.question_ask(actor=personas.member, community=None, title="VPN on Linux?")
    answer = services.answer_create(actor=personas.owner, question=question, body="Use WireGuard.")
    services.question_accept(actor=personas.member, question=question, answer_id=answer.pk)
    member = signed_in(personas.member)
    assert "/harvest/" in member.get(f"/questions/{question.pk}/").content.decode()
    made = member.post(f"/questions/{question.pk}/harvest/")
    article = Article.objects.get()
    assert made["Location"] == f"/articles/{article.pk}/"
    assert "Use WireGuard." in article.body and article.harvested_from == question
