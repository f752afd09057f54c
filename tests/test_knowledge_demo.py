"""The demo organisation's questions and answers (essaim/knowledge/demo.py), on a small
organisation: both languages, counters and states that match the rows, askers, answerers,
voters and commenters whom access.py allows there, and the same questions for the same
seed."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Count, F, Max, Sum
from django.utils import timezone
from pytest_django import Settings

from essaim import access
from essaim.accounts.models import UserKind
from essaim.communities.models import Kind, Visibility
from essaim.content.demo import DAYS
from essaim.demo import DemoSummary, build_organisation
from essaim.directory.models import ProfileTopic
from essaim.knowledge.demo import QUESTIONS, QuestionsSummary, build_questions
from essaim.knowledge.models import (
    Answer,
    AnswerComment,
    AnswerVote,
    Question,
    QuestionState,
    QuestionTag,
    tag_key,
)
from essaim.knowledge.selectors import MY_AREAS
from essaim.knowledge.services import clean_tags

pytestmark = pytest.mark.django_db

FRENCH = re.compile(
    r"\b(le|la|les|des|du|de|un|une|pour|est|sur|avec|quel|quelle|quels|comment|faut|peut"
    r"|qui|où|mon|ma|mes|au|aux|en)\b",
    re.IGNORECASE,
)
ENGLISH = re.compile(
    r"\b(the|and|for|with|our|is|you|your|of|how|what|who|which|can|do|does|my|to|we)\b",
    re.IGNORECASE,
)
ASKED_IN = {Kind.HELP, Kind.PRACTICE, Kind.TRADE, Kind.PROJECT, Kind.CUSTOMER}


@pytest.fixture
def demo(settings: Settings, tmp_path: Path) -> DemoSummary:
    settings.FILES_DIR = tmp_path / "files"  # the posts' stored files stay out of var/
    return build_organisation(users=60)


def language(text: str) -> str:
    return "en" if len(ENGLISH.findall(text)) > len(FRENCH.findall(text)) else "fr"


def test_questions_in_french_and_english_in_communities_and_company_wide(
    demo: DemoSummary,
) -> None:
    questions = list(Question.objects.select_related("community"))
    assert demo.questions.questions == len(questions) == QUESTIONS
    languages = Counter(language(f"{q.title} {q.body}") for q in questions)
    assert languages["fr"] > languages["en"] >= 0.05 * len(questions), languages
    # About three in five in communities that suit questions, the others company-wide.
    asked = [q for q in questions if q.community is not None]
    assert 0.45 < len(asked) / len(questions) < 0.75
    kinds = {q.community.kind for q in asked if q.community is not None}
    assert kinds <= ASKED_IN and {Kind.HELP, Kind.PRACTICE, Kind.CUSTOMER} <= kinds
    assert len({q.community_id for q in asked}) > 10
    for question in questions:
        assert question.title.endswith("?") and question.title[0].isupper(), question.title
        assert "{" not in question.title + question.body
        assert 1 <= len(question.tags) <= 3 and clean_tags(question.tags) == question.tags
        assert (question.body == "") == (question.html == "")
    assert any("<li>" in q.html or "<code>" in q.html for q in questions)  # some Markdown
    # QuestionTag rows index the tags, dated as their question.
    rows: dict[int, set[tuple[str, object]]] = defaultdict(set)
    for question_id, name, created_at in QuestionTag.objects.values_list(
        "question_id", "name", "created_at"
    ):
        rows[question_id].add((name, created_at))
    assert all(rows[q.pk] == {(t, q.created_at) for t in q.tags} for q in questions)
    # Spread over the last DAYS days; answers and comments come after what they follow.
    now = timezone.now()
    assert all(now - timedelta(days=DAYS + 1) < q.created_at < now for q in questions)
    spread = max(q.created_at for q in questions) - min(q.created_at for q in questions)
    assert spread > timedelta(days=DAYS * 2 / 3)
    for answer in Answer.objects.select_related("question"):
        assert answer.question.created_at < answer.created_at <= now
        assert "{" not in answer.body and answer.html.startswith("<")
    for comment in AnswerComment.objects.select_related("answer"):
        assert comment.answer.created_at < comment.created_at <= now
    for vote in AnswerVote.objects.select_related("answer"):
        assert vote.answer.created_at < vote.created_at <= now


def test_counts_counters_and_states_match_the_rows(demo: DemoSummary) -> None:
    summary = demo.questions
    answered = Question.objects.filter(answer_count__gt=0).count()
    assert summary == QuestionsSummary(
        questions=Question.objects.count(),
        answers=Answer.objects.count(),
        accepted=Question.objects.filter(state=QuestionState.ACCEPTED).count(),
        votes=AnswerVote.objects.count(),
        comments=AnswerComment.objects.count(),
        duplicates=Question.objects.filter(state=QuestionState.DUPLICATE).count(),
    )
    assert 1.4 * QUESTIONS < summary.answers < 3 * QUESTIONS
    assert 0.08 < 1 - answered / summary.questions < 0.25  # about 15 % without an answer
    assert 0.3 < summary.accepted / answered < 0.5  # about 40 % of the answered ones
    assert 2 <= summary.duplicates <= 12
    assert summary.votes > summary.answers and summary.comments > 20
    assert max(Question.objects.values_list("answer_count", flat=True)) <= 6
    assert AnswerVote.objects.filter(value=-1).exists()
    last_answer = dict(
        Answer.objects.values("question")
        .annotate(last=Max("created_at"))
        .values_list("question", "last")
    )
    questions = Question.objects.annotate(n=Count("answers")).select_related(
        "accepted_answer", "duplicate_of"
    )
    for question in questions:
        assert question.answer_count == question.n
        latest = max(question.created_at, last_answer.get(question.pk, question.created_at))
        if question.state == QuestionState.ACCEPTED:
            accepted = question.accepted_answer
            assert accepted is not None and accepted.question_id == question.pk
            assert question.activity_at >= max(latest, accepted.created_at)
        else:
            assert question.accepted_answer_id is None
            assert question.activity_at == latest
        if question.state == QuestionState.DUPLICATE:
            original = question.duplicate_of
            assert original is not None and question.n == 0
            assert original.community_id == question.community_id  # read by the same people
            assert original.created_at < question.created_at
            assert original.state != QuestionState.DUPLICATE
        else:
            assert question.duplicate_of_id is None
        if question.state == QuestionState.OPEN:
            assert question.n == 0
        if question.state == QuestionState.ANSWERED:
            assert question.n > 0
    # Scores are the sum of the votes; nobody votes twice on an answer or on their own.
    sums = dict(
        AnswerVote.objects.values("answer").annotate(s=Sum("value")).values_list("answer", "s")
    )
    for answer in Answer.objects.all():
        assert answer.score == sums.get(answer.pk, 0)
    assert not AnswerVote.objects.values("answer", "user").annotate(n=Count("id")).filter(n__gt=1)
    assert not [
        v for v in AnswerVote.objects.select_related("answer") if v.user_id == v.answer.author_id
    ]
    # An answerer answers a question once, and not their own.
    assert not Answer.objects.values("question", "author").annotate(n=Count("id")).filter(n__gt=1)
    assert not Answer.objects.filter(author=F("question__author"))


def test_everyone_may_do_what_they_did_there(demo: DemoSummary) -> None:
    asked: dict[tuple[int, int | None], bool] = {}
    for question in Question.objects.select_related("author", "community"):
        key = (question.author_id, question.community_id)
        if key not in asked:
            asked[key] = access.may_ask(question.author, question.community)
        assert asked[key], question
    answered: dict[tuple[int, int | None], bool] = {}
    for answer in Answer.objects.select_related("author", "question__community"):
        key = (answer.author_id, answer.question.community_id)
        if key not in answered:  # no answer to a duplicate: who and where decide
            answered[key] = access.can(answer.author, "answer", answer.question)
        assert answered[key], answer
    for comment in AnswerComment.objects.select_related("author", "answer__question__community"):
        assert access.can(comment.author, "comment", comment.answer), comment
    # Voters read the answer (a sample: access.can reads the role each time).
    for vote in AnswerVote.objects.select_related("user", "answer__question__community")[::10]:
        assert access.can(vote.user, "vote", vote.answer), vote
    # The external customers ask in their external communities only, and do ask there.
    by_customers = Question.objects.filter(author__kind=UserKind.EXTERNAL).select_related(
        "community"
    )
    assert by_customers
    for question in by_customers:
        assert question.community is not None
        assert question.community.visibility == Visibility.EXTERNAL
    # A question tagged with a topic people declare is answered by them alone: accepted
    # and well-voted answers are evidence in "who knows X" (knowledge.selectors).
    knows: dict[str, set[int]] = defaultdict(set)
    for topic, user in ProfileTopic.objects.filter(
        kind__in=MY_AREAS, user__is_active=True
    ).values_list("topic__key", "user_id"):
        # As a tag names it: "appels d'offres" is tagged "appels-d-offres".
        knows[" ".join(topic.replace("'", " ").replace("-", " ").split())].add(user)
    checked = 0
    for answer in Answer.objects.select_related("question"):
        holders = set().union(*(knows[tag_key(t)] for t in answer.question.tags))
        if holders:
            assert answer.author_id in holders, (answer.question.tags, answer.author_id)
            checked += 1
    assert checked > 0.2 * Answer.objects.count()


def test_nothing_at_scale_zero_and_the_same_seed_gives_the_same_questions(
    settings: Settings, tmp_path: Path
) -> None:
    settings.FILES_DIR = tmp_path / "files"
    summary = build_organisation(users=60, content_scale=0)
    assert summary.questions == QuestionsSummary()
    assert not Question.objects.exists() and not Answer.objects.exists()

    def snapshot(after: int, upto: int) -> list[tuple[object, ...]]:
        return [
            (
                q.author_id, q.community_id, q.title, q.body, q.tags, q.state,
                [(a.author_id, a.body, a.score) for a in q.answers.order_by("pk")],
            )
            for q in Question.objects.filter(pk__gt=after, pk__lte=upto).order_by("pk")
        ]  # fmt: skip

    def last() -> int:
        return Question.objects.aggregate(last=Max("pk"))["last"] or 0

    first = build_questions(seed=5, scale=0.1)
    assert first.questions == round(QUESTIONS * 0.1)
    one = last()
    assert build_questions(seed=5, scale=0.1) == first
    two = last()
    build_questions(seed=6, scale=0.1)
    three = last()
    assert snapshot(0, one) == snapshot(one, two) != snapshot(two, three)
