"""The demo organisation's questions and answers, articles and case studies
(essaim/knowledge/demo.py), on a small organisation: both languages, counters and states
that match the rows, askers, answerers, voters, commenters and authors whom access.py
allows there, revisions that lead to the text, drafts read by their authors alone, and the
same questions and articles for the same seed."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db.models import Count, F, Max, Sum
from django.utils import timezone, translation
from pytest_django import Settings

from essaim import access
from essaim.accounts.models import User, UserKind
from essaim.communities.models import Kind, Visibility
from essaim.content.demo import DAYS
from essaim.demo import DemoSummary, build_organisation
from essaim.directory.models import ProfileTopic
from essaim.knowledge.demo import (
    ARTICLES,
    CASE_STUDIES,
    QUESTIONS,
    QuestionsSummary,
    build_questions,
)
from essaim.knowledge.models import (
    Answer,
    AnswerComment,
    AnswerVote,
    Article,
    ArticleAuthor,
    ArticleFeedback,
    ArticleKind,
    ArticleRevision,
    Question,
    QuestionState,
    QuestionTag,
    tag_key,
)
from essaim.knowledge.selectors import MY_AREAS
from essaim.knowledge.services import CASE_STUDY_SECTIONS, clean_tags

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
        articles=Article.objects.filter(kind=ArticleKind.ARTICLE).count(),
        case_studies=Article.objects.filter(kind=ArticleKind.CASE_STUDY).count(),
        drafts=Article.objects.filter(published_at__isnull=True).count(),
        harvested=Article.objects.filter(harvested_from__isnull=False).count(),
        revisions=ArticleRevision.objects.count(),
        feedback=ArticleFeedback.objects.count(),
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
    knows = declared()
    checked = 0
    for answer in Answer.objects.select_related("question"):
        holders = set().union(*(knows[tag_key(t)] for t in answer.question.tags))
        if holders:
            assert answer.author_id in holders, (answer.question.tags, answer.author_id)
            checked += 1
    assert checked > 0.2 * Answer.objects.count()


def declared() -> dict[str, set[int]]:
    """Who declares each topic in their areas, by the topic as a tag names it."""
    knows: dict[str, set[int]] = defaultdict(set)
    for topic, user in ProfileTopic.objects.filter(
        kind__in=MY_AREAS, user__is_active=True
    ).values_list("topic__key", "user_id"):
        # As a tag names it: "appels d'offres" is tagged "appels-d-offres".
        knows[" ".join(topic.replace("'", " ").replace("-", " ").split())].add(user)
    return knows


def test_nothing_at_scale_zero_and_the_same_seed_gives_the_same_questions(
    settings: Settings, tmp_path: Path
) -> None:
    settings.FILES_DIR = tmp_path / "files"
    summary = build_organisation(users=60, content_scale=0)
    assert summary.questions == QuestionsSummary()
    assert not Question.objects.exists() and not Answer.objects.exists()
    assert not Article.objects.exists()

    def snapshot(after: int, upto: int) -> list[tuple[object, ...]]:
        return [
            (
                q.author_id, q.community_id, q.title, q.body, q.tags, q.state,
                [(a.author_id, a.body, a.score) for a in q.answers.order_by("pk")],
            )
            for q in Question.objects.filter(pk__gt=after, pk__lte=upto).order_by("pk")
        ]  # fmt: skip

    def written(after: int, upto: int) -> list[tuple[object, ...]]:
        return [
            (
                a.community_id, a.kind, a.title, a.body, a.tags, a.published_at is None,
                a.harvested_from_id is not None, a.useful_count, a.not_useful_count,
                list(a.author_links.order_by("pk").values_list("user_id", flat=True)),
                list(a.revisions.order_by("number").values_list("editor_id", "body")),
            )
            for a in Article.objects.filter(pk__gt=after, pk__lte=upto).order_by("pk")
        ]  # fmt: skip

    def last() -> tuple[int, int]:
        questions = Question.objects.aggregate(last=Max("pk"))["last"] or 0
        return questions, Article.objects.aggregate(last=Max("pk"))["last"] or 0

    first = build_questions(seed=5, scale=0.1)
    assert first.questions == round(QUESTIONS * 0.1)
    assert first.articles == round(ARTICLES * 0.1)
    assert first.case_studies == round(CASE_STUDIES * 0.1)
    one, a_one = last()
    assert build_questions(seed=5, scale=0.1) == first
    two, a_two = last()
    build_questions(seed=6, scale=0.1)
    three, a_three = last()
    assert snapshot(0, one) == snapshot(one, two) != snapshot(two, three)
    assert written(0, a_one) == written(a_one, a_two) != written(a_two, a_three)


# --- Articles and case studies ---------------------------------------------------------------

SECTIONS = re.compile(r"^## (.+)$", re.MULTILINE)


def english_sections() -> list[str]:
    with translation.override("en"):
        return [str(section) for section in CASE_STUDY_SECTIONS]


def test_articles_and_case_studies_in_both_languages_by_people_who_may_write_there(
    demo: DemoSummary,
) -> None:
    summary = demo.questions
    articles = list(Article.objects.select_related("community", "harvested_from__accepted_answer"))
    kinds = Counter(a.kind for a in articles)
    assert summary.articles == kinds[ArticleKind.ARTICLE]
    assert summary.case_studies == kinds[ArticleKind.CASE_STUDY]
    assert 0.9 * ARTICLES <= summary.articles <= ARTICLES
    assert 0.9 * CASE_STUDIES <= summary.case_studies <= CASE_STUDIES
    languages = Counter(language(f"{a.title} {a.body}") for a in articles)
    assert languages["fr"] > languages["en"] > 0, languages
    # In the communities that suit them and company-wide, as the questions.
    placed = [a for a in articles if a.community is not None]
    assert 0.3 < len(placed) / len(articles) < 0.9
    assert {a.community.kind for a in placed if a.community is not None} <= ASKED_IN
    now = timezone.now()
    for article in articles:
        assert "{" not in article.title + article.body, article.title
        assert 1 <= len(article.tags) <= 3 and clean_tags(article.tags) == article.tags
        assert article.html.startswith("<") and now - timedelta(days=DAYS + 30) < article.created_at
    assert any("<table>" in a.html for a in articles)  # reference pages
    # Case studies carry the five sections of services.case_study_template, filled, with
    # the headings of their language.
    french = ["Contexte", "Problème", "Solution", "Résultats", "Enseignements"]
    for case in (a for a in articles if a.kind == ArticleKind.CASE_STUDY):
        headings = SECTIONS.findall(case.body)
        assert headings in (french, english_sections()), headings
        assert headings == (french if language(case.body) == "fr" else english_sections())
        texts = SECTIONS.split(case.body)[2::2]
        assert all(text.strip() for text in texts), case.title
    # A few harvested from accepted questions, as services.harvest writes them.
    harvested = [a for a in articles if a.harvested_from_id is not None]
    assert summary.harvested == len(harvested) >= 2
    for article in harvested:
        question = article.harvested_from
        assert question is not None
        answer = question.accepted_answer
        assert question.state == QuestionState.ACCEPTED and answer is not None
        assert (article.title, article.tags) == (question.title, question.tags)
        assert article.community_id == question.community_id
        assert article.created_by_id == question.author_id
        assert article.created_at > answer.created_at
        bodies = [
            "\n\n".join(p for p in (question.body, f"## {heading}", answer.body) if p)
            for heading in ("Réponse", "Answer")
        ]
        assert article.body in bodies, article.body
    # Every author may write there (asked of access.py the plain way); about a third of
    # them are written by two or three people.
    authors: dict[int, set[int]] = defaultdict(set)
    for link in ArticleAuthor.objects.all():
        authors[link.article_id].add(link.user_id)
    people = User.objects.in_bulk({u for group in authors.values() for u in group})
    may: dict[tuple[int, int | None], bool] = {}
    for article in articles:
        assert article.created_by_id in authors[article.pk]
        for user in authors[article.pk]:
            key = (user, article.community_id)
            if key not in may:
                may[key] = access.may_ask(people[user], article.community)
            assert may[key], (article.title, user)
    # Articles are evidence in "who knows X" too: one tagged with a topic people declare
    # is written by them alone.
    knows = declared()
    checked = 0
    for article in articles:
        holders = set().union(*(knows[tag_key(t)] for t in article.tags))
        if holders:
            assert authors[article.pk] <= holders, (article.title, article.tags)
            checked += 1
    assert checked >= 5
    sizes = Counter(len(authors[a.pk]) for a in articles if a.harvested_from_id is None)
    assert max(sizes) <= 3
    assert 0.2 < (sizes[2] + sizes[3]) / len(articles) < 0.45, sizes


def test_revisions_drafts_review_dates_and_feedback(demo: DemoSummary) -> None:
    summary = demo.questions
    articles = list(Article.objects.select_related("community"))
    authors: dict[int, set[int]] = defaultdict(set)
    added: dict[tuple[int, int], datetime] = {}
    for link in ArticleAuthor.objects.all():
        authors[link.article_id].add(link.user_id)
        added[link.article_id, link.user_id] = link.added_at
    revisions: dict[int, list[ArticleRevision]] = defaultdict(list)
    for revision in ArticleRevision.objects.order_by("article", "number"):
        revisions[revision.article_id].append(revision)
    assert summary.revisions == sum(map(len, revisions.values()))
    now = timezone.now()
    for article in articles:
        mine = revisions[article.pk]
        # Numbered 1..n, each an earlier text, the last the article's own, by its authors
        # once they were authors; the first by its creator.
        assert [r.number for r in mine] == list(range(1, len(mine) + 1)) and len(mine) <= 5
        assert (mine[-1].title, mine[-1].body) == (article.title, article.body)
        assert len({r.body for r in mine}) == len(mine)
        assert mine[0].editor_id == article.created_by_id
        assert mine[0].created_at == article.created_at
        assert mine[-1].created_at == article.updated_at
        assert [r.created_at for r in mine] == sorted(r.created_at for r in mine)
        for revision in mine:
            assert revision.editor_id in authors[article.pk]
            assert added[article.pk, revision.editor_id] <= revision.created_at
        if article.published_at is not None:
            assert article.created_at <= article.published_at <= now
    assert Counter(len(r) for r in revisions.values()).keys() >= {1, 2, 3}
    # About one in ten a draft, read by its authors alone.
    drafts = [a for a in articles if a.published_at is None]
    assert summary.drafts == len(drafts) and 0 < len(drafts) <= 0.2 * len(articles)
    employees = list(User.objects.filter(kind=UserKind.EMPLOYEE, is_active=True).order_by("pk"))
    for draft in drafts:
        for user in User.objects.filter(pk__in=authors[draft.pk]):
            assert access.can(user, access.VIEW, draft)
        if draft.community is not None:
            readers = draft.community.memberships.exclude(user__in=authors[draft.pk])
            others = [m.user for m in readers.select_related("user")[:5]]
        else:
            others = [u for u in employees if u.pk not in authors[draft.pk]][:5]
        assert others
        for user in others:
            assert not access.can(user, access.VIEW, draft)
            assert not access.visible(user, Article.objects.filter(pk=draft.pk)).exists()
    # About a quarter to be reviewed in the next months.
    reviewed = [a.review_on for a in articles if a.review_on is not None]
    assert 0.15 < len(reviewed) / len(articles) < 0.35
    today = timezone.localdate()
    assert all(today < day <= today + timedelta(days=200) for day in reviewed)
    # "Was this useful?": counters match the rows, from readers who did not write it, on
    # published articles, after they were published.
    feedback = list(ArticleFeedback.objects.select_related("user", "article__community"))
    assert summary.feedback == len(feedback) > len(articles)
    counted: Counter[tuple[int, bool]] = Counter((f.article_id, f.useful) for f in feedback)
    for article in articles:
        assert article.useful_count == counted[article.pk, True]
        assert article.not_useful_count == counted[article.pk, False]
    assert any(not f.useful for f in feedback)
    for given in feedback:
        assert given.user_id not in authors[given.article_id]
        assert given.article.published_at is not None
        assert given.article.published_at <= given.created_at <= now
    for given in feedback[::5]:  # a sample: access.can reads the role and authorship
        assert access.can(given.user, "feedback", given.article), given
