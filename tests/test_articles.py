"""Articles and case studies: drafts seen by their authors alone, co-authors, revisions
with their differences and restore, "was this useful?", the review reminder, a question
harvested into an article; the access policy's three forms agree; bad input changes
nothing."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.utils import timezone

from essaim import access
from essaim.accounts.models import User
from essaim.communities import services as community_services
from essaim.communities.models import Community, Visibility
from essaim.http import CLI
from essaim.knowledge import services
from essaim.knowledge.models import Article, ArticleFeedback, ArticleRevision
from essaim.realtime import events
from tests.conftest import Personas
from tests.test_communities import build

pytestmark = pytest.mark.django_db
TokenClient = Callable[..., Client]
API = "/api/v1"


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    call = getattr(client, method)
    if body is None:
        return call(f"{API}{path}")
    return call(f"{API}{path}", body, content_type="application/json")


@pytest.fixture
def spaces(personas: Personas) -> dict[str, Community]:
    return {v: build(personas, v) for v in Visibility}


def test_the_three_forms_agree(personas: Personas, spaces: dict[str, Community]) -> None:
    made: list[Any] = []
    for community in [*spaces.values(), None]:
        for publish in (False, True):
            article = services.article_create(
                actor=personas.member, community=community, title="Guide", publish=publish
            )
            services.article_edit(actor=personas.member, article=article, body="v2")
            made += [article, *article.revisions.all()]
    gone = services.article_create(actor=personas.member, community=None, title="Old", publish=True)
    services.article_delete(actor=personas.member, origin=CLI, article=gone)
    made.append(gone)
    archived = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Past", visibility=Visibility.PRIVATE
    )
    made.append(
        services.article_create(
            actor=personas.owner, community=archived, title="Past", publish=True
        )
    )
    community_services.community_archive(actor=personas.owner, origin=CLI, community=archived)
    viewers: list[User | AnonymousUser] = [*personas.all(), AnonymousUser()]
    for viewer in viewers:
        for obj in made:
            obj.refresh_from_db()
            allowed = access.can(viewer, access.VIEW, obj)
            listed = access.visible(viewer, type(obj).objects.filter(pk=obj.pk)).exists()
            receives = (
                isinstance(viewer, User) and access.audience(obj).filter(pk=viewer.pk).exists()
            )
            assert allowed == listed == receives, (viewer, obj, allowed, listed, receives)
        for obj in made:
            if isinstance(obj, Article):
                rule = access.RULES[Article]
                expected = {a for a in rule.actions if access.can(viewer, a, obj)}
                assert access.article_permissions(viewer, obj) == expected, (viewer, obj)
    draft = made[0]
    assert {p.display_name for p in personas.all() if access.can(p, access.VIEW, draft)} == {
        "Member"
    }


def test_co_authors_revisions_and_restore(
    personas: Personas, spaces: dict[str, Community], token_client: TokenClient
) -> None:
    member, owner = token_client(personas.member), token_client(personas.owner)
    private = spaces[Visibility.PRIVATE]
    made = send(member, "post", "/articles", {
        "title": "Migrating to the new ERP", "kind": "case_study", "community": private.pk,
    })  # fmt: skip
    assert made.status_code == 201
    article = made.json()
    assert "## Context" in article["body"] and "## Lessons learned" in article["body"]
    assert article["published_at"] is None and article["revisions"] == 1
    # A draft: its co-author to be does not see it yet.
    assert send(owner, "get", f"/articles/{article['id']}").status_code == 404
    added = send(
        member, "post", f"/articles/{article['id']}/authors", {"person": personas.owner.pk}
    )
    assert added.status_code == 201
    assert [a["display_name"] for a in added.json()["authors"]] == ["Member", "Owner"]
    # The reader of the community may not write there: not a co-author.
    reader = send(member, "post", f"/articles/{article['id']}/authors", {"person": personas.hr.pk})
    assert reader.status_code == 422 and "person" in reader.json()["error"]["fields"]
    edited = send(owner, "patch", f"/articles/{article['id']}", {"body": "## Context\nWe moved.\n"})
    assert edited.status_code == 200 and edited.json()["revisions"] == 2
    send(member, "patch", f"/articles/{article['id']}", {"body": "## Context\nWe moved in May.\n"})
    history = send(member, "get", f"/articles/{article['id']}/revisions").json()
    assert [(r["number"], r["editor"]["display_name"]) for r in history] == [
        (3, "Member"),
        (2, "Owner"),
        (1, "Member"),
    ]
    third = send(member, "get", f"/articles/{article['id']}/revisions/3").json()
    assert {"change": "removed", "text": "We moved."} in third["changes"]
    assert {"change": "added", "text": "We moved in May."} in third["changes"]
    restored = send(owner, "post", f"/articles/{article['id']}/revisions/2/restore").json()
    assert restored["body"] == "## Context\nWe moved." and restored["revisions"] == 4
    assert ArticleRevision.objects.get(article_id=article["id"], number=4).restored_from == 2
    missing = send(owner, "post", f"/articles/{article['id']}/revisions/99/restore")
    assert missing.status_code == 422
    published = send(owner, "post", f"/articles/{article['id']}/publish").json()
    assert published["published_at"] is not None
    # Now its community's readers read it; an outsider still does not.
    assert send(token_client(personas.hr), "get", f"/articles/{article['id']}").status_code == 200
    outsider = token_client(personas.outsider)
    for path in (f"/articles/{article['id']}", f"/articles/{article['id']}/revisions",
                 f"/articles/{article['id']}/revisions/1"):  # fmt: skip
        assert send(outsider, "get", path).status_code == 404
    assert send(outsider, "patch", f"/articles/{article['id']}", {"title": "x"}).status_code == 404


def test_useful_feedback_once_per_reader(personas: Personas, token_client: TokenClient) -> None:
    article = services.article_create(
        actor=personas.member, community=None, title="VPN", publish=True
    )
    reader = token_client(personas.owner)
    path = f"/articles/{article.pk}/feedback"
    assert send(reader, "put", path, {"useful": True}).json()["useful_count"] == 1
    again = send(reader, "put", path, {"useful": True}).json()
    assert (again["useful_count"], again["my_feedback"]) == (1, True)
    changed = send(reader, "put", path, {"useful": False}).json()
    assert (changed["useful_count"], changed["not_useful_count"]) == (0, 1)
    # Its author does not rate their own article; an external customer does not read it.
    assert send(token_client(personas.member), "put", path, {"useful": True}).status_code == 403
    assert send(token_client(personas.external), "put", path, {"useful": True}).status_code == 404
    assert ArticleFeedback.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # on_commit publishes
def test_review_reminders_reach_the_authors_once(personas: Personas) -> None:
    article = services.article_create(
        actor=personas.member, community=None, title="Travel", publish=True
    )
    services.article_author_add(actor=personas.member, article=article, person=personas.owner)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    services.article_review_set(actor=personas.member, article=article, review_on=tomorrow)
    with pytest.raises(services.ServiceError):
        services.article_review_set(
            actor=personas.member, article=article, review_on=timezone.localdate()
        )
    start = events.head_now()
    assert services.review_reminders(today=timezone.localdate()) == 0
    assert services.review_reminders(today=tomorrow) == 1
    assert services.review_reminders(today=tomorrow) == 0  # once
    for person, expected in ((personas.member, 1), (personas.owner, 1), (personas.animator, 0)):
        found = [e for e in events.after(person, start).events if e.type == "article.review_due"]
        assert len(found) == expected, person


def test_a_question_is_harvested_into_a_draft(
    personas: Personas, token_client: TokenClient
) -> None:
    question = services.question_ask(
        actor=personas.member, community=None, title="How to file expenses?", body="In euros.",
        tags=["expenses"],
    )  # fmt: skip
    member = token_client(personas.member)
    early = send(member, "post", f"/questions/{question.pk}/harvest")
    assert early.status_code == 409  # nothing to harvest yet
    answer = services.answer_create(actor=personas.owner, question=question, body="Use the app.")
    services.question_accept(actor=personas.member, question=question, answer_id=answer.pk)
    assert (
        send(
            token_client(personas.animator), "post", f"/questions/{question.pk}/harvest"
        ).status_code
        == 403
    )
    made = send(member, "post", f"/questions/{question.pk}/harvest")
    assert made.status_code == 201
    article = made.json()
    assert article["title"] == "How to file expenses?" and article["published_at"] is None
    assert "In euros." in article["body"] and "Use the app." in article["body"]
    assert article["tags"] == ["expenses"] and article["harvested_from"] == question.pk
    assert [a["display_name"] for a in article["authors"]] == ["Member", "Owner"]


def test_bad_input_changes_nothing(
    personas: Personas, spaces: dict[str, Community], token_client: TokenClient
) -> None:
    member = token_client(personas.member)
    for body, field in (
        ({"title": ""}, "title"),
        ({"title": "x", "kind": "novel"}, "kind"),
        ({"title": "x", "tags": ["a b"]}, "tags"),
        ({"title": "x", "body": "x" * 100_001}, "body"),
    ):
        response = send(member, "post", "/articles", body)
        assert response.status_code == 422 and field in response.json()["error"]["fields"], body
    reader = send(
        token_client(personas.hr),
        "post",
        "/articles",
        {"title": "x", "community": spaces[Visibility.PRIVATE].pk},
    )
    assert reader.status_code == 403
    assert not Article.objects.exists()
    article = services.article_create(
        actor=personas.member, community=None, title="Mine", publish=True
    )
    outsider = token_client(personas.outsider)
    assert (
        send(outsider, "patch", f"/articles/{article.pk}", {"title": "Theirs"}).status_code == 403
    )
    assert send(outsider, "post", f"/articles/{article.pk}/revisions/1/restore").status_code == 403
    past = send(member, "patch", f"/articles/{article.pk}", {"review_on": "2020-01-01"})
    assert past.status_code == 422
    article.refresh_from_db()
    assert (article.title, article.review_on, article.revisions.count()) == ("Mine", None, 1)


@pytest.mark.django_db(transaction=True)  # on_commit publishes
def test_a_drafts_events_reach_its_authors_alone(personas: Personas) -> None:
    start = events.head_now()
    draft = services.article_create(actor=personas.member, community=None, title="Plan")
    services.article_edit(actor=personas.member, article=draft, body="Secret plan")

    def types(user: User) -> list[str]:
        return [e.type for e in events.after(user, start).events]

    assert types(personas.member) == ["article.updated"]
    assert types(personas.owner) == []
    services.article_publish(actor=personas.member, article=draft)
    assert types(personas.owner) == ["article.published"]
    assert types(personas.external) == []
