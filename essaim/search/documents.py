"""What the search index holds of each searchable thing: a document made of its text
(analysed by ``analysis``), who may find it (``access.search_keys_of``) and the fields that
filters and facets use. Engines store documents; they never read the models."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Model

from essaim import access
from essaim.chat.models import Message
from essaim.communities.models import Community
from essaim.content.models import Attachment, Comment, Hashtag, Post
from essaim.knowledge.models import Answer, Article, Question

from .analysis import Analysed, analyse
from .models import FileText

# A document's kind, as the index, the API and the filters name it.
KINDS: dict[str, type[Model]] = {
    "post": Post,
    "comment": Comment,
    "question": Question,
    "answer": Answer,
    "article": Article,
    "message": Message,
    "community": Community,
    "file": Attachment,
}
KIND_OF = {model: kind for kind, model in KINDS.items()}


@dataclass
class Document:
    kind: str
    pk: int
    title: Analysed
    body: Analysed
    keys: list[str]  # access.search_keys_of
    created_at: datetime
    author_id: int | None = None
    community_id: int | None = None
    tags: list[str] = field(default_factory=list)
    has_file: bool = False
    state: str = ""  # a question's (QuestionState), "accepted" for an accepted answer

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.pk}"


def indexable(obj: Model) -> bool:
    """Whether ``obj`` belongs in the index: nothing deleted, no draft, no file before
    it is attached."""
    if isinstance(obj, Attachment):
        holder = access.attachment_holder(obj)
        return holder is not None and indexable(holder)
    if isinstance(obj, Comment):
        return obj.deleted_at is None and indexable(obj.post)
    if isinstance(obj, Answer):
        return obj.deleted_at is None and indexable(obj.question)
    if isinstance(obj, Article):
        return obj.deleted_at is None and obj.published_at is not None
    if isinstance(obj, Post | Question | Message):
        return obj.deleted_at is None
    return isinstance(obj, Community)


# The Attachment field that links a file to each kind ("has a file" filter).
FILE_LINKS = {
    Post: "post",
    Comment: "comment",
    Question: "question",
    Answer: "answer",
    Message: "message",
}


def documents(objs: Sequence[Model]) -> list[Document]:
    """The documents of indexable things of one kind, what they need read in a fixed
    number of queries."""
    if not objs:
        return []
    model, ids = type(objs[0]), [o.pk for o in objs]
    link = FILE_LINKS.get(model)
    files = Attachment.objects.filter(**{f"{link}__in": ids}) if link else Attachment.objects.none()
    with_files = set(files.values_list(link or "pk", flat=True))
    hashtags: dict[int, set[str]] = defaultdict(set)
    texts: dict[int, str] = {}
    if model is Attachment:
        texts = dict(FileText.objects.filter(attachment__in=ids).values_list("pk", "text"))
    if model is Post:
        for post_id, name in Hashtag.objects.filter(post__in=ids).values_list("post_id", "name"):
            hashtags[post_id].add(name)
    return [
        _document(o, o.pk in with_files, sorted(hashtags[o.pk]), texts.get(o.pk, "")) for o in objs
    ]


def _document(obj: Model, has_file: bool, hashtags: list[str], file_text: str) -> Document:
    """The document of an indexable thing (its language told from its text)."""
    title, body, tags, state = "", getattr(obj, "body", ""), [], ""
    if isinstance(obj, Community):
        title, body = obj.name, obj.description
    elif isinstance(obj, Post):
        tags = hashtags
    elif isinstance(obj, Question):
        title, tags, state = obj.title, list(obj.tags), obj.state
    elif isinstance(obj, Answer):
        state = "accepted" if obj.accepted else ""
    elif isinstance(obj, Article):
        title, tags = obj.title, list(obj.tags)
    elif isinstance(obj, Attachment):
        title, body, has_file = obj.name, file_text, True
    language = analyse(f"{title} {body}").language
    return Document(
        kind=KIND_OF[type(obj)],
        pk=obj.pk,
        title=analyse(title, language),
        body=analyse(body, language),
        keys=access.search_keys_of(obj),
        created_at=obj.created_at,  # type: ignore[attr-defined]
        author_id=_author(obj),
        community_id=community_of(obj),
        tags=tags,
        has_file=has_file,
        state=state,
    )


def community_of(obj: Model) -> int | None:
    """The community a thing lives in (a community: itself)."""
    if isinstance(obj, Community):
        return obj.pk
    if isinstance(obj, Comment):
        return obj.post.community_id
    if isinstance(obj, Answer):
        return obj.question.community_id
    if isinstance(obj, Message):
        return obj.conversation.community_id
    if isinstance(obj, Attachment):
        holder = access.attachment_holder(obj)
        return community_of(holder) if holder is not None else None
    return getattr(obj, "community_id", None)


def _author(obj: Model) -> int | None:
    for name in ("author_id", "created_by_id", "uploader_id"):
        if (found := getattr(obj, name, None)) is not None:
            return int(found)
    return None
