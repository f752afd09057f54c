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
from essaim.search.documents import KIND_OF, indexable
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
        keys = access.search_keys(viewer)
        for kind in KIND_OF.values():  # computed for some kinds: the same keys, narrowed
            some = access.search_keys(viewer, kinds=[kind])
            assert sorted(some) == sorted(access.search_keys_for(keys, [kind])), (viewer, kind)
        for obj in indexed:
            found = bool(set(keys) & set(access.search_keys_of(obj)))
            assert found == access.can(viewer, access.VIEW, obj), (viewer, obj, found)
            # A search of one kind narrows the keys to those of its documents: it finds
            # the same things of that kind.
            kind = KIND_OF[type(obj)]
            narrowed = set(access.search_keys_for(keys, [kind]))
            alone = bool(narrowed & set(access.search_keys_of(obj)))
            assert alone == found, (viewer, obj, kind, alone)
    assert access.search_keys_for(["cv1", "c1", "m1"], ["community"]) == ["cv1"]
    # What is left out (deleted things, drafts, files not yet attached) is what its author
    # alone sees, or nobody.
    for obj in objects:
        if not indexable(obj):
            seen = {v for v in viewers if access.can(v, access.VIEW, obj)}
            assert seen <= {getattr(obj, "created_by", None), getattr(obj, "uploader", None)}, obj
    assert any(not indexable(obj) for obj in objects)
