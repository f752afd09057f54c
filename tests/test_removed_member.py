"""Someone removed from a community loses, at once and on every surface, what only its
members read: its posts and their files, its channel, its questions and articles, their
search hits, and the editing of what they wrote there (SECURITY.md #6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.fixtures import Settings

from essaim.chat import services as chat
from essaim.communities import services as communities
from essaim.communities.models import Visibility
from essaim.content import services as content
from essaim.http import CLI
from essaim.knowledge import services as knowledge
from essaim.search.indexer import index_pending
from tests.conftest import Personas
from tests.test_communities import build

API = "/api/v1"


def test_a_removed_member_loses_every_surface_at_once(
    personas: Personas, token_client: Any, settings: Settings, tmp_path: Path
) -> None:
    settings.FILES_DIR = tmp_path / "files"
    private = build(personas, Visibility.PRIVATE)
    member = token_client(personas.member)
    upload = member.post(
        f"{API}/files", {"file": SimpleUploadedFile("zeppelin.txt", b"zeppelin\n", "text/plain")}
    ).json()
    post = content.post_create(
        actor=personas.member, community=private, body="Zeppelin plan", attachments=[upload["id"]]
    )
    channel = chat.channel_of(actor=personas.owner, community=private)
    message, _ = chat.message_send(actor=personas.member, conversation=channel, body="Zeppelin")
    question = knowledge.question_ask(
        actor=personas.member, community=private, title="Zeppelin budget?"
    )
    article = knowledge.article_create(
        actor=personas.member, community=private, title="Zeppelin guide", publish=True
    )
    index_pending()
    reads = [
        f"{API}/posts/{post.pk}",
        f"{API}/files/{upload['id']}",
        f"{API}/conversations/{channel.pk}/messages",
        f"{API}/questions/{question.pk}",
        f"{API}/articles/{article.pk}",
    ]
    for path in reads:
        assert member.get(path).status_code == 200, path
    assert member.get(f"{API}/search", {"q": "zeppelin"}).json()["total"] >= 4

    communities.member_remove(
        actor=personas.owner, origin=CLI, community=private, person=personas.member
    )
    for path in reads:
        assert member.get(path).status_code == 404, path
    found = member.get(f"{API}/search", {"q": "zeppelin"}).json()
    assert (found["total"], found["results"]) == (0, []) and not any(found["facets"].values())
    edits = [
        (f"{API}/posts/{post.pk}", {"body": "Changed"}),
        (f"{API}/messages/{message.pk}", {"body": "Changed"}),
        (f"{API}/questions/{question.pk}", {"title": "Changed?"}),
        (f"{API}/articles/{article.pk}", {"title": "Changed"}),
    ]
    for path, body in edits:
        assert member.patch(path, body, content_type="application/json").status_code == 404, path
    post.refresh_from_db()
    message.refresh_from_db()
    question.refresh_from_db()
    article.refresh_from_db()
    assert (post.body, message.body) == ("Zeppelin plan", "Zeppelin")
    assert (question.title, article.title) == ("Zeppelin budget?", "Zeppelin guide")
