"""Keeps the search index in step with the database, from the outbox (``models.Pending``).

``index_pending`` takes the oldest outbox rows (rows another worker holds are skipped on
PostgreSQL), reads their things again, writes or drops their documents in one engine
commit, then deletes the rows. A thing's document follows its container: a post takes
its comments along, a question its answers (deleting a post hides its comments).
``Indexer`` runs it in a thread of the worker process (and of `essaim serve` on the
embedded default), woken by a commit in its process and looking every second for the
others'."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import close_old_connections, transaction
from django.db.models import QuerySet

from essaim.chat.models import Message
from essaim.communities.models import Community
from essaim.content.models import Attachment, Comment, Post
from essaim.knowledge.models import Answer, Article, Question

from .documents import KINDS, Document, documents, indexable
from .engine import engine
from .models import Pending
from .services import watches_match

logger = logging.getLogger("essaim.search")

BATCH = 500
POLL_SECONDS = 1.0

# How each kind is read for its document (the joins ``document`` and access need).
LOADERS: dict[str, Callable[[], QuerySet[Any]]] = {
    "post": lambda: Post.objects.select_related("community"),
    "comment": lambda: Comment.objects.select_related("post"),
    "question": lambda: Question.objects.all(),
    "answer": lambda: Answer.objects.select_related("question"),
    "article": lambda: Article.objects.all(),
    "message": lambda: Message.objects.select_related("conversation"),
    "community": lambda: Community.objects.all(),
    "file": lambda: Attachment.objects.select_related(
        "post__community", "comment__post", "question", "answer__question", "message__conversation"
    ),
}


def _followers(link: str) -> Callable[[list[int]], Iterable[int]]:
    return lambda ids: Attachment.objects.filter(**{f"{link}__in": ids}).values_list(
        "pk", flat=True
    )


# What follows a thing (its document's keys or existence depend on it): kind -> [(kind of
# the followers, how to find their ids)].
FOLLOWERS: dict[str, list[tuple[str, Callable[[list[int]], Iterable[int]]]]] = {
    "post": [
        ("comment", lambda ids: Comment.objects.filter(post__in=ids).values_list("pk", flat=True)),
        ("file", _followers("post")),
    ],
    "question": [
        (
            "answer",
            lambda ids: Answer.objects.filter(question__in=ids).values_list("pk", flat=True),
        ),
        ("file", _followers("question")),
    ],
    "comment": [("file", _followers("comment"))],
    "answer": [("file", _followers("answer"))],
    "message": [("file", _followers("message"))],
}


def documents_of(kind: str, ids: Iterable[int]) -> tuple[list[Document], list[str]]:
    """The documents of these things, and the ids of those to drop (gone or hidden)."""
    ids = list(ids)
    kept = documents([obj for obj in LOADERS[kind]().filter(pk__in=ids) if indexable(obj)])
    written = {doc.pk for doc in kept}
    return kept, [f"{kind}:{pk}" for pk in ids if pk not in written]


def _with_followers(changed: dict[str, set[int]]) -> dict[str, set[int]]:
    for kind, followers in FOLLOWERS.items():  # in order: a post's comments, then their files
        for follower, find in followers:
            if changed.get(kind):
                changed.setdefault(follower, set()).update(find(sorted(changed[kind])))
    return changed


def index(changed: dict[str, set[int]]) -> int:
    """Write the documents of these things (and their followers') in one engine commit,
    then tell the keyword watches they match."""
    documents: list[Document] = []
    removed: list[str] = []
    for kind, ids in _with_followers(changed).items():
        kept, dropped = documents_of(kind, ids)
        documents += kept
        removed += dropped
    engine().write(documents, removed)
    watches_match(documents)
    return len(documents) + len(removed)


def index_pending(limit: int = BATCH) -> int:
    """Apply the oldest outbox rows; how many were applied (0: nothing waits)."""
    with transaction.atomic():
        rows = list(Pending.objects.select_for_update(skip_locked=True).order_by("id")[:limit])
        if not rows:
            return 0
        changed: dict[str, set[int]] = defaultdict(set)
        for row in rows:
            if row.kind in KINDS:
                changed[row.kind].add(row.object_id)
        index(changed)
        Pending.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Build the index again from the database (``progress(done, total)`` after each
    batch); how many things were read. The outbox is left to the indexer as usual."""
    total = sum(load().count() for load in LOADERS.values())
    search = engine()
    search.clear()
    done = 0
    with search.bulk():
        for kind, load in LOADERS.items():
            ids = list(load().order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(ids), BATCH):
                found, _gone = documents_of(kind, ids[start : start + BATCH])
                search.write(found, [])
                done += len(ids[start : start + BATCH])
                if progress is not None:
                    progress(done, total)
    return done


class Indexer:
    """The loop that applies the outbox: woken by ``wake`` (a commit that wrote outbox
    rows in this process), or every POLL_SECONDS."""

    instance: Indexer | None = None

    def __init__(self) -> None:
        self.woken = threading.Event()
        self.running = True

    @classmethod
    def start(cls) -> Indexer:
        cls.instance = cls()
        threading.Thread(target=cls.instance.run, name="essaim-indexer", daemon=True).start()
        return cls.instance

    def run(self) -> None:
        while self.running:
            self.woken.wait(POLL_SECONDS)
            self.woken.clear()
            try:
                while index_pending():
                    pass
            except Exception:  # logged and tried again: the rows wait in the outbox
                logger.exception("search indexing failed; retrying")
                self.woken.wait(POLL_SECONDS * 5)
            finally:
                close_old_connections()


def wake() -> None:
    if Indexer.instance is not None:
        Indexer.instance.woken.set()
