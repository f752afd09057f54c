"""Questions and answers API. Thin: selectors decide what each viewer reads, services make
every change, access.py answers every "may they?"; a question or answer the viewer may not
read is a 404 like a missing one."""

import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.api_base import CursorPages, Id, InSchema, viewer
from essaim.communities.models import Community
from essaim.content.api import FileOut, file_out
from essaim.content.models import ATTACHMENTS_MAX
from essaim.directory.selectors import Expert
from essaim.http import Origin

from . import selectors, services
from .models import (
    ANSWER_MAX,
    ARTICLE_MAX,
    BODY_MAX,
    COMMENT_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    Answer,
    AnswerComment,
    Article,
    ArticleKind,
    ArticleRevision,
    Question,
    QuestionState,
)

router = Router(tags=["questions"])


class PersonOut(Schema):
    id: int
    display_name: str


class QuestionOut(Schema):
    id: int
    title: str
    body: str
    html: str
    tags: list[str]
    state: QuestionState
    community: int | None
    author: PersonOut
    answer_count: int
    accepted_answer: int | None
    duplicate_of: int | None
    created_at: datetime.datetime
    edited_at: datetime.datetime | None
    activity_at: datetime.datetime
    url: str


class QuestionSummaryOut(Schema):
    id: int
    title: str
    tags: list[str]
    state: QuestionState
    community: int | None
    author: PersonOut
    answer_count: int
    activity_at: datetime.datetime
    url: str

    @staticmethod
    def resolve_community(question: Question) -> int | None:
        return question.community_id

    @staticmethod
    def resolve_url(question: Question) -> str:
        return question.get_absolute_url()


class CommentOut(Schema):
    id: int
    author: PersonOut
    html: str
    created_at: datetime.datetime


class AnswerOut(Schema):
    id: int
    question: int
    author: PersonOut
    body: str
    html: str
    score: int
    accepted: bool
    my_vote: int
    allowed: list[str]
    comments: list[CommentOut]
    files: list[FileOut]
    created_at: datetime.datetime
    edited_at: datetime.datetime | None


class ThreadOut(QuestionOut):
    allowed: list[str]
    files: list[FileOut]
    answers: list[AnswerOut]


def _person(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "display_name": user.display_name}


def question_out(question: Question) -> dict[str, Any]:
    return {
        "id": question.pk,
        "title": question.title,
        "body": question.body,
        "html": question.html,
        "tags": question.tags,
        "state": question.state,
        "community": question.community_id,
        "author": _person(question.author),
        "answer_count": question.answer_count,
        "accepted_answer": question.accepted_answer_id,
        "duplicate_of": question.duplicate_of_id,
        "created_at": question.created_at,
        "edited_at": question.edited_at,
        "activity_at": question.activity_at,
        "url": question.get_absolute_url(),
    }


def comment_out(comment: AnswerComment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "author": _person(comment.author),
        "html": comment.html,
        "created_at": comment.created_at,
    }


def answer_out(answer: Answer) -> dict[str, Any]:
    return {
        "id": answer.pk,
        "question": answer.question_id,
        "author": _person(answer.author),
        "body": answer.body,
        "html": answer.html,
        "score": answer.score,
        "accepted": getattr(answer, "accepted", False),
        "my_vote": getattr(answer, "my_vote", 0),
        "allowed": sorted(getattr(answer, "allowed", ())),
        "comments": [comment_out(c) for c in getattr(answer, "comment_list", [])],
        "files": [file_out(f) for f in getattr(answer, "files", [])],
        "created_at": answer.created_at,
        "edited_at": answer.edited_at,
    }


def _thread(request: HttpRequest, question_id: int) -> dict[str, Any]:
    found = selectors.thread(viewer(request), question_id)
    return {
        **question_out(found.question),
        # The original only when the viewer reads it: an unreadable one is not named.
        "duplicate_of": found.duplicate_of.pk if found.duplicate_of else None,
        "allowed": sorted(found.allowed),
        "files": [file_out(f) for f in found.question.files],  # type: ignore[attr-defined]
        "answers": [answer_out(a) for a in found.answers],
    }


# --- Questions ----------------------------------------------------------------------------


class QuestionFilters(Schema):
    community: Id | None = None
    state: QuestionState | None = None
    tag: str | None = Field(None, max_length=TAG_MAX + 1)
    scope: Literal["all", "for-me"] = Field(
        "all", description="for-me: unanswered questions in my areas and those I was asked"
    )


@router.get("/questions", response=list[QuestionSummaryOut], summary="Questions")
@paginate(CursorPages, ordering=("-activity_at", "-id"))
def question_list(request: HttpRequest, filters: Query[QuestionFilters]) -> QuerySet[Question]:
    me = viewer(request)
    community: Community | None = None
    if filters.community is not None:
        community = access.access_community(me, filters.community)
    found = selectors.question_list(me, community=community, state=filters.state, tag=filters.tag)
    if filters.scope == "for-me":
        found = found.filter(pk__in=selectors.for_me(me).values("pk"))
    return found


class QuestionIn(InSchema):
    title: str = Field(max_length=TITLE_MAX)
    body: str = Field("", max_length=BODY_MAX)
    tags: list[str] = Field(default_factory=list, max_length=TAGS_MAX)
    community: Id | None = None
    attachments: list[Id] = Field(
        default_factory=list,
        max_length=ATTACHMENTS_MAX,
        description="ids of files uploaded with POST /files",
    )


@router.post("/questions", response={201: ThreadOut}, summary="Ask a question")
def question_ask(request: HttpRequest, payload: QuestionIn) -> Status[Any]:
    me = viewer(request)
    community = None
    if payload.community is not None:
        community = access.access_community(me, payload.community)
    question = services.question_ask(
        actor=me,
        community=community,
        title=payload.title,
        body=payload.body,
        tags=payload.tags,
        attachments=payload.attachments,
    )
    return Status(201, _thread(request, question.pk))


class SimilarQuery(Schema):
    q: str = Field(max_length=TITLE_MAX)


# Before /questions/{question_id}: ninja orders routes by their first registration.
@router.get(
    "/questions/similar", response=list[QuestionSummaryOut], summary="Questions like a title"
)
def question_similar(request: HttpRequest, params: Query[SimilarQuery]) -> list[Question]:
    return selectors.similar(viewer(request), params.q)


class EvidenceOut(Schema):
    kind: str
    label: str
    points: float


class ExpertOut(Schema):
    person: PersonOut
    score: float
    evidence: list[EvidenceOut]
    asked: bool


def _experts(found: list[Expert], asked: set[int]) -> list[dict[str, Any]]:
    return [
        {
            "person": _person(e.person),
            "score": round(e.score, 2),
            "evidence": [vars(x) for x in e.evidence],
            "asked": e.person.pk in asked,
        }
        for e in found
    ]


class DraftQuery(Schema):
    title: str = Field(max_length=TITLE_MAX)
    tags: str = Field("", max_length=TAGS_MAX * (TAG_MAX + 1))


@router.get(
    "/questions/experts",
    response=list[ExpertOut],
    summary="Who may know the answer to a question being typed",
)
def draft_experts(request: HttpRequest, params: Query[DraftQuery]) -> list[dict[str, Any]]:
    me = viewer(request)
    tags = services.split_tags(params.tags)
    found = selectors.suggested_experts(me, title=params.title, tags=tags, exclude=[me.pk])
    return _experts(found, set())


@router.get(
    "/questions/{question_id}/experts",
    response=list[ExpertOut],
    summary="Who may know the answer, and whom the viewer asked",
)
def question_experts(request: HttpRequest, question_id: Id) -> list[dict[str, Any]]:
    me = viewer(request)
    question = access.access_question(me, question_id)
    return _experts(*_question_experts(me, question))


def _question_experts(me: User, question: Question) -> tuple[list[Expert], set[int]]:
    exclude = [question.author_id, me.pk]
    found = selectors.suggested_experts(
        me, title=question.title, tags=question.tags, exclude=exclude
    )
    return found, selectors.requested(me, question)


class ExpertIn(InSchema):
    expert: Id


@router.post(
    "/questions/{question_id}/experts",
    response={201: list[ExpertOut]},
    summary="Ask someone for their answer (they are told)",
)
def question_request(request: HttpRequest, question_id: Id, payload: ExpertIn) -> Status[Any]:
    me = viewer(request)
    question = access.access_question(me, question_id)
    expert = access.visible(me, access.active_users().filter(pk=payload.expert)).first()
    if expert is None:
        raise ServiceError(_("This person cannot answer this question."), field="expert")
    services.expert_request(actor=me, question=question, expert=expert)
    return Status(201, _experts(*_question_experts(me, question)))


@router.get("/questions/{question_id}", response=ThreadOut, summary="A question and its answers")
def question_get(request: HttpRequest, question_id: Id) -> dict[str, Any]:
    return _thread(request, question_id)


class QuestionPatch(InSchema):
    title: str | None = Field(None, max_length=TITLE_MAX)
    body: str | None = Field(None, max_length=BODY_MAX)
    tags: list[str] | None = Field(None, max_length=TAGS_MAX)


@router.patch("/questions/{question_id}", response=ThreadOut, summary="Edit a question")
def question_edit(request: HttpRequest, question_id: Id, payload: QuestionPatch) -> dict[str, Any]:
    me = viewer(request)
    question = access.access_question(me, question_id)
    changes = payload.dict(exclude_unset=True)
    services.question_edit(actor=me, question=question, **changes)
    return _thread(request, question_id)


@router.delete("/questions/{question_id}", response={204: None}, summary="Delete a question")
def question_delete(request: HttpRequest, question_id: Id) -> Status[Any]:
    me = viewer(request)
    question = access.access_question(me, question_id)
    services.question_delete(actor=me, origin=Origin.of(request), question=question)
    return Status(204, None)


class AcceptIn(InSchema):
    answer: Id | None


@router.put("/questions/{question_id}/accepted", response=ThreadOut, summary="Accept an answer")
def question_accept(request: HttpRequest, question_id: Id, payload: AcceptIn) -> dict[str, Any]:
    me = viewer(request)
    question = access.access_question(me, question_id)
    services.question_accept(actor=me, question=question, answer_id=payload.answer)
    return _thread(request, question_id)


class DuplicateIn(InSchema):
    original: Id | None


@router.put(
    "/questions/{question_id}/duplicate",
    response=ThreadOut,
    summary="Close as a duplicate of another question (original: null reopens it)",
)
def question_duplicate(
    request: HttpRequest, question_id: Id, payload: DuplicateIn
) -> dict[str, Any]:
    me = viewer(request)
    question = access.access_question(me, question_id)
    if payload.original is None:
        services.question_reopen(actor=me, question=question)
    else:
        services.question_close_as_duplicate(
            actor=me, question=question, original_id=payload.original
        )
    return _thread(request, question_id)


# --- Answers ------------------------------------------------------------------------------


class AnswerIn(InSchema):
    body: str = Field(max_length=ANSWER_MAX)


class NewAnswerIn(InSchema):
    body: str = Field("", max_length=ANSWER_MAX)
    attachments: list[Id] = Field(
        default_factory=list,
        max_length=ATTACHMENTS_MAX,
        description="ids of files uploaded with POST /files",
    )


@router.post("/questions/{question_id}/answers", response={201: AnswerOut}, summary="Answer")
def answer_create(request: HttpRequest, question_id: Id, payload: NewAnswerIn) -> Status[Any]:
    me = viewer(request)
    question = access.access_question(me, question_id)
    answer = services.answer_create(
        actor=me, question=question, body=payload.body, attachments=payload.attachments
    )
    return Status(201, _answer(request, answer.pk))


def _answer(request: HttpRequest, answer_id: int) -> dict[str, Any]:
    """One answer as its question's page shows it."""
    me = viewer(request)
    answer = access.access_answer(me, answer_id)
    found = selectors.thread(me, answer.question_id)
    return answer_out(next(a for a in found.answers if a.pk == answer.pk))


@router.get("/answers/{answer_id}", response=AnswerOut, summary="One answer")
def answer_get(request: HttpRequest, answer_id: Id) -> dict[str, Any]:
    return _answer(request, answer_id)


@router.patch("/answers/{answer_id}", response=AnswerOut, summary="Edit an answer")
def answer_edit(request: HttpRequest, answer_id: Id, payload: AnswerIn) -> dict[str, Any]:
    me = viewer(request)
    services.answer_edit(actor=me, answer=access.access_answer(me, answer_id), body=payload.body)
    return _answer(request, answer_id)


@router.delete("/answers/{answer_id}", response={204: None}, summary="Delete an answer")
def answer_delete(request: HttpRequest, answer_id: Id) -> Status[Any]:
    me = viewer(request)
    answer = access.access_answer(me, answer_id)
    services.answer_delete(actor=me, origin=Origin.of(request), answer=answer)
    return Status(204, None)


class VoteIn(InSchema):
    value: Literal[1, -1]


@router.post("/answers/{answer_id}/vote", response=AnswerOut, summary="Vote up (1) or down (-1)")
def answer_vote(request: HttpRequest, answer_id: Id, payload: VoteIn) -> dict[str, Any]:
    me = viewer(request)
    answer = access.access_answer(me, answer_id)
    services.answer_vote(actor=me, answer=answer, value=payload.value)
    return _answer(request, answer_id)


@router.delete("/answers/{answer_id}/vote", response=AnswerOut, summary="Withdraw one's vote")
def answer_unvote(request: HttpRequest, answer_id: Id) -> dict[str, Any]:
    me = viewer(request)
    services.answer_unvote(actor=me, answer=access.access_answer(me, answer_id))
    return _answer(request, answer_id)


class CommentIn(InSchema):
    body: str = Field(max_length=COMMENT_MAX)


@router.post(
    "/answers/{answer_id}/comments", response={201: CommentOut}, summary="Comment on an answer"
)
def answer_comment(request: HttpRequest, answer_id: Id, payload: CommentIn) -> Status[Any]:
    me = viewer(request)
    answer = access.access_answer(me, answer_id)
    comment = services.answer_comment_create(actor=me, answer=answer, body=payload.body)
    return Status(201, comment_out(comment))


@router.delete(
    "/answers/{answer_id}/comments/{comment_id}",
    response={204: None},
    summary="Delete a comment on an answer",
)
def answer_comment_delete(request: HttpRequest, answer_id: Id, comment_id: Id) -> Status[Any]:
    me = viewer(request)
    answer = access.access_answer(me, answer_id)
    comment = access.visible(me, AnswerComment.objects.filter(answer=answer, pk=comment_id))
    found = comment.select_related("answer__question__community").first()
    if found is None:
        raise access.NotFound
    services.answer_comment_delete(actor=me, comment=found)
    return Status(204, None)


# --- Articles and case studies --------------------------------------------------------------


class ArticleFields(Schema):
    id: int
    kind: ArticleKind
    title: str
    tags: list[str]
    community: int | None
    published_at: datetime.datetime | None
    updated_at: datetime.datetime
    useful_count: int
    url: str


class ArticleSummaryOut(ArticleFields):
    @staticmethod
    def resolve_community(article: Article) -> int | None:
        return article.community_id

    @staticmethod
    def resolve_url(article: Article) -> str:
        return article.get_absolute_url()


class ArticleOut(ArticleFields):
    body: str
    html: str
    authors: list[PersonOut]
    review_on: datetime.date | None
    not_useful_count: int
    harvested_from: int | None
    revisions: int
    my_feedback: bool | None
    allowed: list[str]


def _article(request: HttpRequest, article_id: int) -> dict[str, Any]:
    found = selectors.article_view(viewer(request), article_id)
    article = found.article
    return {
        "id": article.pk,
        "kind": article.kind,
        "title": article.title,
        "tags": article.tags,
        "community": article.community_id,
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "useful_count": article.useful_count,
        "url": article.get_absolute_url(),
        "body": article.body,
        "html": article.html,
        "authors": [_person(a) for a in found.authors],
        "review_on": article.review_on,
        "not_useful_count": article.not_useful_count,
        "harvested_from": article.harvested_from_id,
        "revisions": found.revisions,
        "my_feedback": found.my_feedback,
        "allowed": sorted(found.allowed),
    }


class ArticleFilters(Schema):
    community: Id | None = None
    kind: ArticleKind | None = None
    drafts: bool = Field(False, description="my drafts instead of the published articles")


@router.get("/articles", response=list[ArticleSummaryOut], summary="Articles and case studies")
@paginate(CursorPages, ordering=("-updated_at", "-id"))
def article_list(request: HttpRequest, filters: Query[ArticleFilters]) -> QuerySet[Article]:
    me = viewer(request)
    community = None
    if filters.community is not None:
        community = access.access_community(me, filters.community)
    return selectors.article_list(me, community=community, kind=filters.kind, drafts=filters.drafts)


class ArticleIn(InSchema):
    title: str = Field(max_length=TITLE_MAX)
    body: str = Field("", max_length=ARTICLE_MAX)
    kind: ArticleKind = Field(ArticleKind.ARTICLE, strict=False)
    tags: list[str] = Field(default_factory=list, max_length=TAGS_MAX)
    community: Id | None = None
    attachments: list[Id] = Field(
        default_factory=list,
        max_length=ATTACHMENTS_MAX,
        description="ids of files uploaded with POST /files",
    )
    publish: bool = False


@router.post("/articles", response={201: ArticleOut}, summary="Write an article or case study")
def article_create(request: HttpRequest, payload: ArticleIn) -> Status[Any]:
    me = viewer(request)
    community = None
    if payload.community is not None:
        community = access.access_community(me, payload.community)
    article = services.article_create(
        actor=me, community=community, title=payload.title, body=payload.body,
        kind=payload.kind, tags=payload.tags, publish=payload.publish,
    )  # fmt: skip
    return Status(201, _article(request, article.pk))


@router.get("/articles/{article_id}", response=ArticleOut, summary="One article")
def article_get(request: HttpRequest, article_id: Id) -> dict[str, Any]:
    return _article(request, article_id)


class ArticlePatch(InSchema):
    title: str | None = Field(None, max_length=TITLE_MAX)
    body: str | None = Field(None, max_length=ARTICLE_MAX)
    tags: list[str] | None = Field(None, max_length=TAGS_MAX)
    review_on: datetime.date | None = Field(None, strict=False)


@router.patch("/articles/{article_id}", response=ArticleOut, summary="Edit an article")
def article_edit(request: HttpRequest, article_id: Id, payload: ArticlePatch) -> dict[str, Any]:
    me = viewer(request)
    article = access.access_article(me, article_id)
    changes = payload.dict(exclude_unset=True)
    if "review_on" in changes:
        services.article_review_set(actor=me, article=article, review_on=changes.pop("review_on"))
    if changes:
        services.article_edit(actor=me, article=article, **changes)
    return _article(request, article_id)


@router.post("/articles/{article_id}/publish", response=ArticleOut, summary="Publish a draft")
def article_publish(request: HttpRequest, article_id: Id) -> dict[str, Any]:
    me = viewer(request)
    services.article_publish(actor=me, article=access.access_article(me, article_id))
    return _article(request, article_id)


@router.delete("/articles/{article_id}", response={204: None}, summary="Delete an article")
def article_delete(request: HttpRequest, article_id: Id) -> Status[Any]:
    me = viewer(request)
    article = access.access_article(me, article_id)
    services.article_delete(actor=me, origin=Origin.of(request), article=article)
    return Status(204, None)


class AuthorIn(InSchema):
    person: Id


@router.post(
    "/articles/{article_id}/authors", response={201: ArticleOut}, summary="Add a co-author"
)
def article_author(request: HttpRequest, article_id: Id, payload: AuthorIn) -> Status[Any]:
    me = viewer(request)
    article = access.access_article(me, article_id)
    person = access.visible(me, access.active_users().filter(pk=payload.person)).first()
    if person is None:
        raise ServiceError(_("This person cannot write here."), field="person")
    services.article_author_add(actor=me, article=article, person=person)
    return Status(201, _article(request, article_id))


class FeedbackIn(InSchema):
    useful: bool


@router.put("/articles/{article_id}/feedback", response=ArticleOut, summary="Was this useful?")
def article_feedback(request: HttpRequest, article_id: Id, payload: FeedbackIn) -> dict[str, Any]:
    me = viewer(request)
    article = access.access_article(me, article_id)
    services.article_feedback(actor=me, article=article, useful=payload.useful)
    return _article(request, article_id)


class RevisionOut(Schema):
    number: int
    title: str
    editor: PersonOut | None
    restored_from: int | None
    created_at: datetime.datetime


class DiffLineOut(Schema):
    change: Literal["same", "added", "removed"]
    text: str


class RevisionDetailOut(RevisionOut):
    body: str
    changes: list[DiffLineOut]  # against the revision before it


def _revision(revision: ArticleRevision) -> dict[str, Any]:
    editor = revision.editor
    return {
        "number": revision.number,
        "title": revision.title,
        "editor": _person(editor) if editor is not None else None,
        "restored_from": revision.restored_from,
        "created_at": revision.created_at,
    }


@router.get("/articles/{article_id}/revisions", response=list[RevisionOut], summary="Its revisions")
def article_revisions(request: HttpRequest, article_id: Id) -> list[dict[str, Any]]:
    me = viewer(request)
    article = access.access_article(me, article_id)
    return [_revision(r) for r in selectors.revisions_of(me, article)]


@router.get(
    "/articles/{article_id}/revisions/{number}",
    response=RevisionDetailOut,
    summary="One revision, and what it changed",
)
def article_revision(request: HttpRequest, article_id: Id, number: Id) -> dict[str, Any]:
    me = viewer(request)
    article = access.access_article(me, article_id)
    found = {
        r.number: r
        for r in selectors.revisions_of(me, article).filter(number__in=[number - 1, number])
    }
    if number not in found:
        raise access.NotFound
    before = found.get(number - 1)
    revision = found[number]
    changes = selectors.diff(before.body if before else "", revision.body)
    return {**_revision(revision), "body": revision.body, "changes": [vars(c) for c in changes]}


@router.post(
    "/articles/{article_id}/revisions/{number}/restore",
    response=ArticleOut,
    summary="Bring an old revision back (saved as the newest)",
)
def article_restore(request: HttpRequest, article_id: Id, number: Id) -> dict[str, Any]:
    me = viewer(request)
    services.article_restore(actor=me, article=access.access_article(me, article_id), number=number)
    return _article(request, article_id)


@router.post(
    "/questions/{question_id}/harvest",
    response={201: ArticleOut},
    summary="Turn a question and its best answer into a draft article",
)
def question_harvest(request: HttpRequest, question_id: Id) -> Status[Any]:
    me = viewer(request)
    article = services.harvest(actor=me, question=access.access_question(me, question_id))
    return Status(201, _article(request, article.pk))
