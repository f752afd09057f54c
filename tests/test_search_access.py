"""Search keys are the fourth form of the one policy: a searcher finds exactly what they
may view, for every persona and every kind of searchable thing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model

from essaim import access
from essaim.accounts.models import User
from essaim.communities.models import Community, Visibility
from essaim.knowledge import services as knowledge
from essaim.search.documents import indexable
from tests import test_access_posts, test_access_questions, test_chat
from tests.conftest import Personas
from tests.test_communities import build


def posts(personas: Personas) -> list[Model]:
    world = test_access_posts.world.__wrapped__(personas)
    return [*world.posts, *world.comments, *world.files]


def questions(personas: Personas) -> list[Model]:
    world = test_access_questions.world.__wrapped__(personas)
    return [*world.questions.values(), *world.answers]


def messages(personas: Personas) -> list[Model]:
    return list(test_chat.world(personas)[1])


def articles(personas: Personas) -> list[Model]:
    made: list[Model] = []
    for community in [*(build(personas, v) for v in Visibility), None]:
        for publish in (False, True):
            made.append(
                knowledge.article_create(
                    actor=personas.member, community=community, title="Guide", publish=publish
                )
            )
    return made


@pytest.mark.parametrize("world", [posts, questions, messages, articles])
def test_search_keys_agree_with_can_for_every_persona_and_searchable_thing(
    personas: Personas, world: Callable[[Personas], list[Model]]
) -> None:
    objects = [*world(personas), *Community.objects.all()]
    for obj in objects:
        obj.refresh_from_db()
    indexed = [obj for obj in objects if indexable(obj)]
    viewers: list[User | AnonymousUser] = [*User.objects.all(), AnonymousUser()]
    for viewer in viewers:
        keys = set(access.search_keys(viewer))
        # A search of communities alone narrows the keys to theirs: the same communities.
        narrowed = set(access.community_search_keys(list(keys)))
        for obj in indexed:
            found = bool(keys & set(access.search_keys_of(obj)))
            assert found == access.can(viewer, access.VIEW, obj), (viewer, obj, found)
            alone = bool(narrowed & set(access.search_keys_of(obj)))
            assert alone == (found and isinstance(obj, Community)), (viewer, obj, alone)
    # What is left out (deleted things, drafts, files not yet attached) is what its author
    # alone sees, or nobody.
    for obj in objects:
        if not indexable(obj):
            seen = {v for v in viewers if access.can(v, access.VIEW, obj)}
            assert seen <= {getattr(obj, "created_by", None), getattr(obj, "uploader", None)}, obj
    assert any(not indexable(obj) for obj in objects)
