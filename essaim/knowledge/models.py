"""Questions and answers: asked in a community or company-wide, answered, voted on,
accepted, closed as duplicates. Who reads them is decided by access.QuestionRule from
where the question was asked, at the moment of reading, as for posts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from essaim.directory.text import normalize

TITLE_MAX = 200
BODY_MAX = 20_000
ANSWER_MAX = 20_000
COMMENT_MAX = 2_000
TAGS_MAX = 5
TAG_MAX = 40
WELL_VOTED = 2  # an answer's score from which it counts as evidence of expertise


def tag_key(name: str) -> str:
    """A tag as a directory topic's key: "Droit-Social" → "droit social"."""
    return normalize(name.replace("-", " "))


class QuestionState(models.TextChoices):
    OPEN = "open", pgettext_lazy("question", "Open")  # no answer yet
    ANSWERED = "answered", pgettext_lazy("question", "Answered")  # answers, none accepted
    ACCEPTED = "accepted", pgettext_lazy("question", "Accepted")  # one answer accepted
    # Closed: asked before, see ``duplicate_of``.
    DUPLICATE = "duplicate", pgettext_lazy("question", "Duplicate")


class Question(models.Model):
    """Asked in a community (read by its readers) or company-wide (``community`` empty:
    read by every employee)."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="questions",
    )
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=BODY_MAX, blank=True)
    html = models.TextField(blank=True)  # body rendered and sanitised (content.markdown)
    tags = models.JSONField(default=list)  # lower-case names; QuestionTag rows index them
    state = models.CharField(
        max_length=10, choices=QuestionState.choices, default=QuestionState.OPEN
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_answer = models.ForeignKey(
        "Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer_count = models.PositiveIntegerField(default=0)  # kept by the services
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    activity_at = models.DateTimeField(default=timezone.now)  # asked, answered, accepted
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["community", "-activity_at"], name="question_community"),
            models.Index(fields=["-activity_at"], name="question_activity"),
            models.Index(fields=["state", "-activity_at"], name="question_state"),
            models.Index(fields=["author", "-created_at"], name="question_author"),
            # Where each live question is, from the index alone (PostgreSQL): access.py's
            # test of thousands of questions at once (the evidence of a popular tag).
            models.Index(
                fields=["id"],
                include=["community"],
                condition=Q(deleted_at__isnull=True),
                name="question_place",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="duplicate") | Q(duplicate_of__isnull=True),
                name="question_duplicate_has_state",
            ),
            models.CheckConstraint(
                condition=Q(state="accepted") | Q(accepted_answer__isnull=True),
                name="question_accepted_has_state",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("question", args=[self.pk])


class QuestionTag(models.Model):
    """A question's tags, one row each, for the tag filters and expert routing."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=TAG_MAX)
    # The name as a directory topic's key ("droit-social" → "droit social"): the tag
    # brings the question to the people who know that topic.
    key = models.CharField(max_length=TAG_MAX, default="")
    created_at = models.DateTimeField()  # the question's, so a tag's page reads one index

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "name"], name="question_tag_once")
        ]
        indexes = [
            models.Index(fields=["name", "-created_at"], name="question_tag_new"),
            models.Index(fields=["key", "question"], name="question_tag_key"),
        ]

    def __str__(self) -> str:
        return self.name


# Answers accepted or well-voted: evidence of their authors' expertise on the question's
# tags (the partial index answer_evidence holds them).
EVIDENCE = Q(deleted_at__isnull=True) & (Q(accepted=True) | Q(score__gte=WELL_VOTED))


class Answer(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=ANSWER_MAX)
    html = models.TextField()
    score = models.IntegerField(default=0)  # up votes minus down votes, kept by the services
    # Whether it is its question's accepted_answer, kept by the services: so that the
    # answers that show expertise (EVIDENCE) are one small index.
    accepted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["question", "-score", "created_at"], name="answer_order"),
            models.Index(fields=["author", "-created_at"], name="answer_author"),
            models.Index(
                fields=["question", "author", "accepted"],
                name="answer_evidence",
                condition=EVIDENCE,
            ),
        ]

    def __str__(self) -> str:
        return f"answer {self.pk} to {self.question_id}"


class AnswerVote(models.Model):
    """One per person and answer: up (+1) or down (-1); it can be changed or withdrawn."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    value = models.SmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "user"], name="answer_vote_once"),
            models.CheckConstraint(condition=Q(value__in=[1, -1]), name="answer_vote_value"),
        ]
        indexes = [models.Index(fields=["user", "answer"], name="answer_vote_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.value:+d} on {self.answer_id}"


class AnswerComment(models.Model):
    """A short comment under an answer (asking for a precision, thanking)."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=COMMENT_MAX)
    html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["answer", "created_at"], name="answer_comment_order")]

    def __str__(self) -> str:
        return f"comment {self.pk} on answer {self.answer_id}"


class ExpertRequest(models.Model):
    """The asker (or a runner of the community) asked this person for their answer."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="requests")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "expert"], name="expert_request_once")
        ]
        indexes = [models.Index(fields=["expert", "-created_at"], name="expert_request_mine")]

    def __str__(self) -> str:
        return f"{self.expert_id} asked about {self.question_id}"


# --- Articles and case studies --------------------------------------------------------------

ARTICLE_MAX = 100_000
AUTHORS_MAX = 10


class ArticleKind(models.TextChoices):
    ARTICLE = "article", pgettext_lazy("knowledge", "Article")
    CASE_STUDY = "case_study", pgettext_lazy("knowledge", "Case study")


class Article(models.Model):
    """An article or a case study, written by one or more authors, in a community or
    company-wide, a draft until published. Every saved text is an ArticleRevision."""

    community = models.ForeignKey(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="articles",
    )
    kind = models.CharField(max_length=10, choices=ArticleKind.choices, default=ArticleKind.ARTICLE)
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=ARTICLE_MAX, blank=True)
    html = models.TextField(blank=True)
    tags = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)  # None: a draft
    # "Is this still true?": its authors are reminded on that day.
    review_on = models.DateField(null=True, blank=True)
    review_reminded_on = models.DateField(null=True, blank=True)
    harvested_from = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    useful_count = models.PositiveIntegerField(default=0)
    not_useful_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["community", "-published_at"], name="article_community"),
            models.Index(fields=["-published_at"], name="article_published"),
            models.Index(
                fields=["review_on"],
                condition=Q(review_on__isnull=False, review_reminded_on__isnull=True),
                name="article_review_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("article", args=[self.pk])

    @property
    def published(self) -> bool:
        return self.published_at is not None


class ArticleAuthor(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="author_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], name="article_author_once")
        ]
        indexes = [models.Index(fields=["user", "article"], name="article_author_user")]

    def __str__(self) -> str:
        return f"{self.user_id} writes {self.article_id}"


class ArticleRevision(models.Model):
    """One saved state of an article (number 1 is the first text): restoring an old one
    saves its text again as the newest, so nothing is ever lost."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=ARTICLE_MAX, blank=True)
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_revision_once")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} #{self.number}"


class ArticleFeedback(models.Model):
    """ "Was this useful?": one answer per reader, changeable."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    useful = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], name="article_feedback_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {'+' if self.useful else '-'} {self.article_id}"
