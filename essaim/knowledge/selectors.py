"""Reading questions and answers, always through access.py: lists, a question with its
answers as the viewer may act on them, and questions like a new one."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from essaim import access
from essaim.communities.models import Community

from .models import Answer, AnswerComment, AnswerVote, Question, QuestionState, QuestionTag

SIMILAR_WORDS = 8  # words of a new title looked up
SIMILAR_SCAN = 200  # candidate questions ranked
# Words too common to tell questions apart, in both languages.
_STOP = """the and for are how what why when who which with can does this that from have you
    your our not all any but into about there their will would should could use using
    les des une pour que qui quoi comment est sont dans sur avec par pas plus quand mon
    mes notre nos vous nous ils elle elles faire fait peut peux quel quelle quels"""
STOP_WORDS = frozenset(_STOP.split())


def questions(viewer: access.Viewer) -> QuerySet[Question]:
    return access.visible(viewer, Question.objects.all())


def question_list(
    viewer: access.Viewer,
    *,
    community: Community | None = None,
    state: str | None = None,
    tag: str | None = None,
) -> QuerySet[Question]:
    """The questions the viewer reads, most recently active first; ``community``, read
    through access.access_community, narrows them to one community."""
    found = questions(viewer).select_related("author", "community")
    if community is not None:
        found = found.filter(community=community)
    if state:
        found = found.filter(state=state)
    if tag:
        tagged = QuestionTag.objects.filter(name=tag.lower().lstrip("#"))
        found = found.filter(pk__in=tagged.values("question_id"))
    return found.order_by("-activity_at", "-id")


@dataclass
class Thread:
    """A question as the viewer reads it: what they may do to it, its answers (the
    accepted one first, then by score, then oldest first), with their comments, what the
    viewer may do to each and the viewer's own vote."""

    question: Question
    allowed: frozenset[str]
    answers: list[Answer]
    duplicate_of: Question | None  # the original, when the viewer reads it


def thread(viewer: access.Viewer, question_id: object) -> Thread:
    """One question with its answers, in a fixed number of queries, or NotFound."""
    question = access.access_question(viewer, question_id)
    allowed = access.question_permissions(viewer, question)
    answers = list(
        access.visible(viewer, Answer.objects.filter(question=question))
        .select_related("author")
        .order_by("-score", "created_at", "id")
    )
    answers.sort(key=lambda a: a.pk != question.accepted_answer_id)  # stable: accepted first
    ids = [a.pk for a in answers]
    me = viewer.pk or 0
    mine = dict(
        AnswerVote.objects.filter(answer_id__in=ids, user_id=me).values_list("answer_id", "value")
    )
    comments: dict[int, list[AnswerComment]] = defaultdict(list)
    found = AnswerComment.objects.filter(answer_id__in=ids, deleted_at__isnull=True)
    for comment in found.select_related("author").order_by("created_at", "id"):
        comments[comment.answer_id].append(comment)
    permissions = access.answer_permissions(viewer, answers, allowed)
    for answer in answers:
        answer.question = question  # the same object: its community is read once
        answer.my_vote = mine.get(answer.pk, 0)  # type: ignore[attr-defined]
        answer.accepted = answer.pk == question.accepted_answer_id  # type: ignore[attr-defined]
        answer.allowed = permissions[answer.pk]  # type: ignore[attr-defined]
        answer.comment_list = comments.get(answer.pk, [])  # type: ignore[attr-defined]
    original = None
    if question.duplicate_of_id is not None:
        original = questions(viewer).filter(pk=question.duplicate_of_id).first()
    return Thread(question, allowed, answers, original)


def _words(text: str) -> list[str]:
    words = re.findall(r"\w{3,}", text.lower())
    return list(dict.fromkeys(w for w in words if w not in STOP_WORDS and not w.isdigit()))


def similar(viewer: access.Viewer, text: str, *, limit: int = 5) -> list[Question]:
    """Questions the viewer reads whose titles share the most words with ``text`` (a new
    question's title, as it is typed): not answered ones first among equals, then the
    most recently active. Plain word matching until the search issue brings ranked,
    typo-tolerant search."""
    words = _words(text)[:SIMILAR_WORDS]
    if not words:
        return []
    match = Q()
    for word in words:
        match |= Q(title__icontains=word)
    candidates = list(
        questions(viewer)
        .filter(match)
        .exclude(state=QuestionState.DUPLICATE)
        .order_by("-activity_at")[:SIMILAR_SCAN]
    )

    def shared(question: Question) -> int:
        title = set(_words(question.title)) | set(question.tags)
        return sum(1 for w in words if any(t.startswith(w) for t in title))  # plurals too

    ranked = sorted(
        candidates,
        key=lambda q: (-shared(q), q.state == QuestionState.OPEN, -q.activity_at.timestamp()),
    )
    return [q for q in ranked if shared(q)][:limit]
