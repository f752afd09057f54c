"""Reading questions, answers and articles, always through access.py: lists, a question
with its answers as the viewer may act on them, questions like a new one and the people
who may know, an article with its revisions, the knowledge-base page."""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from essaim import access
from essaim.accounts.models import User
from essaim.communities.models import Community
from essaim.content.models import Attachment
from essaim.directory import selectors as directory_selectors
from essaim.directory.models import ProfileTopic, Topic, TopicKind
from essaim.directory.selectors import Evidence, Expert
from essaim.directory.text import words

from .models import (
    EVIDENCE,
    Answer,
    AnswerComment,
    AnswerVote,
    Article,
    ArticleAuthor,
    ArticleFeedback,
    ArticleRevision,
    ExpertRequest,
    Question,
    QuestionState,
    QuestionTag,
    tag_key,
)

SIMILAR_WORDS = 8  # words of a new title looked up
EXPERTS_SHOWN = 5
# Topics a person offers to answer about: the questions tagged with them are "for me".
MY_AREAS = (TopicKind.SKILL, TopicKind.EXPERTISE, TopicKind.ASK_ME_ABOUT)
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
    answers.sort(key=lambda a: not a.accepted)  # stable: the accepted one first
    for answer in answers:
        answer.question = question  # the same object: its community is read once
    ids = [a.pk for a in answers]
    me = viewer.pk or 0
    mine = dict(
        AnswerVote.objects.filter(answer_id__in=ids, user_id=me).values_list("answer_id", "value")
    )
    comments: dict[int, list[AnswerComment]] = defaultdict(list)
    found = AnswerComment.objects.filter(answer_id__in=ids, deleted_at__isnull=True)
    for comment in found.select_related("author").order_by("created_at", "id"):
        comments[comment.answer_id].append(comment)
    files: dict[int | None, list[Attachment]] = defaultdict(list)
    for file in Attachment.objects.filter(question=question).order_by("pk"):
        files[file.answer_id].append(file)  # None: the question's own
    question.files = files[None]  # type: ignore[attr-defined]
    permissions = access.answer_permissions(viewer, answers, allowed)
    for answer in answers:
        answer.files = files.get(answer.pk, [])  # type: ignore[attr-defined]
        answer.my_vote = mine.get(answer.pk, 0)  # type: ignore[attr-defined]
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


# --- Experts ------------------------------------------------------------------------------


def answer_evidence(viewer: access.Viewer, topics: list[Topic]) -> dict[int, list[Evidence]]:
    """The directory's expertise source for answers (see directory.selectors
    EXPERTISE_SOURCES): each person's accepted and well-voted answers to questions
    tagged with ``topics``, among the answers the viewer reads."""
    on_topics = QuestionTag.objects.filter(key__in=[t.key for t in topics]).values("question")
    # Only the evidence, read from its partial index, then checked for access.
    shown = access.visible(viewer, Answer.objects.filter(EVIDENCE, question__in=on_topics))
    rows = shown.values("author_id").annotate(
        # Columns of the index, so that PostgreSQL reads nothing else.
        chosen=Count("author_id", filter=Q(accepted=True)),
        voted=Count("author_id", filter=Q(accepted=False)),
    )
    found: dict[int, list[Evidence]] = {}
    for row in rows:
        # What a person showed weighs like a declared level: an accepted answer one and
        # a half, a well-voted one half; six at most, above a declared "expert" (four).
        chosen, voted = 1.5 * row["chosen"], 0.5 * row["voted"]
        scale = min(1.0, 6 / (chosen + voted))
        items = []
        if chosen:
            items.append(Evidence("accepted_answers", str(row["chosen"]), chosen * scale))
        if voted:
            items.append(Evidence("voted_answers", str(row["voted"]), voted * scale))
        found[row["author_id"]] = items
    return found


ARTICLE_POINTS = 1.0  # each published article on the subject; three at most
ARTICLES_COUNTED = 3


def article_evidence(viewer: access.Viewer, topics: list[Topic]) -> dict[int, list[Evidence]]:
    """The directory's expertise source for articles: each author's published articles
    and case studies tagged with ``topics``, among those the viewer reads."""
    keys = {t.key for t in topics}
    written = articles(viewer).filter(published_at__isnull=False)
    found: dict[int, set[int]] = defaultdict(set)
    # Tags are a short JSON list per article: matched here, as the database engines
    # differ on JSON containment.
    rows = ArticleAuthor.objects.filter(article__in=written.values("pk")).values_list(
        "user_id", "article_id", "article__tags"
    )
    for user_id, article_id, tags in rows:
        if keys & {tag_key(t) for t in tags or []}:
            found[user_id].add(article_id)
    return {
        pk: [Evidence("articles", str(len(ids)), ARTICLE_POINTS * min(len(ids), ARTICLES_COUNTED))]
        for pk, ids in found.items()
    }


def topics_of(title: str, tags: list[str]) -> list[Topic]:
    """The directory topics a question is about: its tags, and the words and pairs of
    words of its title that name a topic ("droit social")."""
    title_words = [w for w in words(title) if len(w) > 2 and w not in STOP_WORDS]
    keys = [tag_key(t) for t in tags]
    keys += title_words + [f"{a} {b}" for a, b in itertools.pairwise(title_words)]
    return list(Topic.objects.filter(key__in=keys[:40]))


def suggested_experts(
    viewer: access.Viewer, *, title: str, tags: list[str], exclude: list[int]
) -> list[Expert]:
    """Whom to ask about a question being asked or already asked: the people who know its
    topics (declared, endorsed, shown in accepted answers), among those the viewer sees."""
    topics = topics_of(title, tags)
    return directory_selectors.experts_on(viewer, topics, limit=EXPERTS_SHOWN, exclude=exclude)


def requested(viewer: access.Viewer, question: Question) -> set[int]:
    """Whom the viewer asked for an answer to ``question``."""
    found = access.visible(viewer, ExpertRequest.objects.filter(question=question))
    return set(found.filter(requested_by_id=viewer.pk or 0).values_list("expert_id", flat=True))


def for_me(viewer: access.Viewer) -> QuerySet[Question]:
    """The expert's queue: questions still without an answer that are tagged with a topic
    they know or offer to answer about, and those they were asked to answer (while
    unanswered or not yet accepted); not their own."""
    if not access.is_active(viewer):
        return Question.objects.none()
    mine = ProfileTopic.objects.filter(user=viewer, kind__in=MY_AREAS).values("topic__key")
    tagged = QuestionTag.objects.filter(key__in=mine).values("question_id")
    asked = ExpertRequest.objects.filter(expert=viewer).values("question_id")
    waiting = Q(pk__in=tagged, state=QuestionState.OPEN) | Q(
        pk__in=asked, state__in=[QuestionState.OPEN, QuestionState.ANSWERED]
    )
    return questions(viewer).filter(waiting).exclude(author=viewer)


# --- Articles -------------------------------------------------------------------------------


def articles(viewer: access.Viewer) -> QuerySet[Article]:
    return access.visible(viewer, Article.objects.all())


def article_list(
    viewer: access.Viewer,
    *,
    community: Community | None = None,
    kind: str | None = None,
    drafts: bool = False,
) -> QuerySet[Article]:
    """Published articles the viewer reads, newest first; with ``drafts``, the viewer's
    own drafts instead. ``community``, read through access.access_community."""
    found = articles(viewer).select_related("created_by", "community")
    if drafts:
        mine = ArticleAuthor.objects.filter(user_id=viewer.pk or 0).values("article")
        found = found.filter(published_at__isnull=True, pk__in=mine).order_by("-updated_at", "-id")
    else:
        found = found.filter(published_at__isnull=False).order_by("-published_at", "-id")
    if community is not None:
        found = found.filter(community=community)
    if kind:
        found = found.filter(kind=kind)
    return found


@dataclass
class ArticleView:
    article: Article
    allowed: frozenset[str]
    authors: list[User]
    revisions: int
    my_feedback: bool | None  # None: none given


def article_view(viewer: access.Viewer, article_id: object) -> ArticleView:
    article = access.access_article(viewer, article_id)
    authors = [
        link.user
        for link in article.author_links.select_related("user").order_by("added_at", "id")
        if link.user.is_active
    ]
    mine = ArticleFeedback.objects.filter(article=article, user_id=viewer.pk or 0).first()
    return ArticleView(
        article=article,
        allowed=access.article_permissions(viewer, article),
        authors=authors,
        revisions=article.revisions.count(),
        my_feedback=mine.useful if mine is not None else None,
    )


def revisions_of(viewer: access.Viewer, article: Article) -> QuerySet[ArticleRevision]:
    """An article's revisions, newest first (``article`` read through access)."""
    found = access.visible(viewer, ArticleRevision.objects.filter(article=article))
    return found.select_related("editor").order_by("-number")


@dataclass
class DiffLine:
    change: str  # "same", "added", "removed"
    text: str


def diff(old: str, new: str) -> list[DiffLine]:
    """What changed between two texts, line by line."""
    lines: list[DiffLine] = []
    before, after = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lines += [DiffLine("same", line) for line in before[i1:i2]]
            continue
        lines += [DiffLine("removed", line) for line in before[i1:i2]]
        lines += [DiffLine("added", line) for line in after[j1:j2]]
    return lines


# --- The knowledge base page ----------------------------------------------------------------

TOP = 10


@dataclass
class Contributor:
    person: User
    accepted: int  # accepted answers
    articles: int  # published articles written


@dataclass
class KnowledgeBase:
    states: dict[str, int]  # questions by state
    unanswered: list[Question]
    top_articles: list[Article]
    tags: list[tuple[str, int]]  # the most used question tags, with their counts
    contributors: list[Contributor]


def knowledge_base(viewer: access.Viewer, community: Community | None = None) -> KnowledgeBase:
    """A community's (or, without one, everything the viewer reads) questions by state,
    the latest unanswered ones, the most useful articles, the tags most asked about and
    the people whose answers were accepted and who wrote articles, all among what the
    viewer reads."""
    asked = questions(viewer)
    written = articles(viewer).filter(published_at__isnull=False)
    if community is not None:
        asked, written = asked.filter(community=community), written.filter(community=community)
    states = dict(asked.order_by().values_list("state").annotate(n=Count("pk")))
    unanswered = list(
        asked.filter(state=QuestionState.OPEN)
        .select_related("author")
        .order_by("-created_at")[:TOP]
    )
    top_articles = list(written.order_by("-useful_count", "-published_at")[:TOP])
    tags = list(
        QuestionTag.objects.filter(question__in=asked.values("pk"))
        .values_list("name")
        .annotate(n=Count("pk"))
        .order_by("-n", "name")[:20]
    )
    # The most accepted answers and articles, counted by the database (a few rows back).
    accepted = Counter(
        dict(
            Answer.objects.filter(
                pk__in=asked.filter(accepted_answer__isnull=False).values("accepted_answer"),
                deleted_at__isnull=True,
            )
            .values_list("author_id")
            .annotate(n=Count("pk"))
            .order_by("-n")[: TOP * 2]
        )
    )
    authored = Counter(
        dict(
            ArticleAuthor.objects.filter(article__in=written.values("pk"))
            .values_list("user_id")
            .annotate(n=Count("pk"))
            .order_by("-n")[: TOP * 2]
        )
    )
    best = sorted(set(accepted) | set(authored), key=lambda pk: -(2 * accepted[pk] + authored[pk]))
    people = {
        u.pk: u
        for u in access.visible(viewer, access.active_users().filter(pk__in=best[: TOP * 2]))
    }
    contributors = [
        Contributor(people[pk], accepted[pk], authored[pk]) for pk in best if pk in people
    ][:TOP]
    return KnowledgeBase(
        states={s: states.get(s, 0) for s in QuestionState.values},
        unanswered=unanswered,
        top_articles=top_articles,
        tags=tags,
        contributors=contributors,
    )
