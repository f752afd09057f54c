"""Redis (the cache) down: people still sign in, read, and what they write commits; the
limits counted in the cache lapse until it is back (SECURITY.md #42)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from essaim.chat import services as chat
from essaim.chat.models import Message
from essaim.communities.models import Visibility
from essaim.content.models import Post
from tests.conftest import PASSWORD, Personas
from tests.test_communities import build

UNREACHABLE = {
    "default": {
        "BACKEND": "essaim.cache.ForgivingRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"pool_class": "essaim.cache.SharedConnectionPool"},
    }
}


@pytest.mark.django_db(transaction=True)  # commits: the events are announced after them
def test_with_the_cache_down_people_sign_in_and_what_they_write_commits(
    personas: Personas, token_client: Any
) -> None:
    public = build(personas, Visibility.PUBLIC)
    direct, _ = chat.direct_open(actor=personas.member, person=personas.hr)
    program = token_client(personas.member)
    with override_settings(CACHES=UNREACHABLE, REDIS_URL=UNREACHABLE["default"]["LOCATION"]):
        browser = Client()
        signed = browser.post(
            "/accounts/login/", {"username": personas.member.email, "password": PASSWORD}
        )
        assert signed.status_code == 302
        for path in ("/", f"/c/{public.slug}/", f"/chat/{direct.pk}/", "/notifications/"):
            assert browser.get(path).status_code == 200, path
        post = {"community": public.pk, "body": "Still here"}
        assert (
            program.post("/api/v1/posts", post, content_type="application/json").status_code == 201
        )
        message = {"body": "Still here"}
        path = f"/api/v1/conversations/{direct.pk}/messages"
        assert program.post(path, message, content_type="application/json").status_code == 201
    assert Post.objects.filter(body="Still here").count() == 1
    assert Message.objects.filter(body="Still here").count() == 1
