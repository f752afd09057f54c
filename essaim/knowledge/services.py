"""Every write to questions, answers, votes, comments on answers, requests to experts,
articles and case studies. Each checks the actor's right through access.py, refuses bad
input with a ServiceError before writing anything, writes in one transaction and emits
its real-time event in it (ids and counts, never text: a client reads what changed
through the API, where access.py decides again)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError, clean_text
from essaim.communities.models import Community
from essaim.content.models import Attachment
from essaim.content.services import claim_attachments, render_text
from essaim.governance.services import audit_record
from essaim.http import Origin
from essaim.notifications import services as notifications
from essaim.notifications.models import Kind as Told
from essaim.realtime import events
from essaim.search import services as search

from .models import (
    ANSWER_MAX,
    ARTICLE_MAX,
    AUTHORS_MAX,
    BODY_MAX,
    COMMENT_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    Answer,
    AnswerComment,
    AnswerVote,
    Article,
    ArticleAuthor,
    ArticleFeedback,
    ArticleKind,
    ArticleRevision,
    ExpertRequest,
    Question,
    QuestionState,
    QuestionTag,
    tag_key,
)

_TAG = re.compile(r"[\w][\w.+-]*")


def _require(allowed: bool) -> None:
    if not allowed:
        raise access.Forbidden


def split_tags(text: str) -> list[str]:
    """Tags typed in one field, separated by spaces or commas."""
    return text.replace(",", " ").split()


def clean_tags(tags: Any) -> list[str]:
    """Lower-case tag names, without '#', each a word (letters, digits, "-", "+", "."),
    at most TAGS_MAX of TAG_MAX characters, in the order given, without repeats."""
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise ServiceError(_("Tags are a list of words."), field="tags")
    names = list(dict.fromkeys(t.strip().lstrip("#").lower() for t in tags if t.strip()))
    if len(names) > TAGS_MAX:
        raise ServiceError(_("At most %(count)d tags.") % {"count": TAGS_MAX}, field="tags")
    for name in names:
        if len(name) > TAG_MAX or not _TAG.fullmatch(name):
            raise ServiceError(
                _("A tag is one word of at most %(limit)d letters, digits or dashes.")
                % {"limit": TAG_MAX},
                field="tags",
            )
    return names


def _event(
    type: str, question: Question, data: dict[str, Any], users: list[User] | None = None
) -> None:
    """An event about ``question`` to those who read it (narrowed to ``users``); the
    question and its answers go to the search index again."""
    data = {"question": question.pk, "community": question.community_id, **data}
    search.changed(Question, question.pk)
    if question.community is not None:
        events.emit(type, data, community=question.community, users=users)
    else:
        events.emit(type, data, everyone=True, users=users)


def _set_tags(question: Question, names: list[str]) -> None:
    QuestionTag.objects.filter(question=question).delete()
    QuestionTag.objects.bulk_create(
        [
            QuestionTag(question=question, name=n, key=tag_key(n), created_at=question.created_at)
            for n in names
        ]
    )


def _settle_state(question: Question) -> None:
    """The state that follows from the question's answers (a duplicate stays one)."""
    if question.state == QuestionState.DUPLICATE:
        return
    if question.accepted_answer_id is not None:
        question.state = QuestionState.ACCEPTED
    elif question.answer_count:
        question.state = QuestionState.ANSWERED
    else:
        question.state = QuestionState.OPEN


# --- Questions ----------------------------------------------------------------------------


def question_ask(
    *,
    actor: User,
    community: Community | None,
    title: str,
    body: str = "",
    tags: Sequence[str] = (),
    attachments: Sequence[int] = (),
) -> Question:
    """A question in ``community``, or company-wide (for every employee) without one, with
    files the actor uploaded (content's POST /files)."""
    _require(access.may_ask(actor, community))
    title = clean_text(title, "title", TITLE_MAX, required=True)
    body = clean_text(body, "body", BODY_MAX)
    names = clean_tags(list(tags))
    with transaction.atomic():
        files = claim_attachments(actor, attachments)
        question = Question.objects.create(
            author=actor,
            community=community,
            title=title,
            body=body,
            html=render_text(actor, body)[0],
            tags=names,
        )
        _set_tags(question, names)
        Attachment.objects.filter(pk__in=[f.pk for f in files]).update(question=question)
        _event("question.created", question, {"author": actor.pk})
    return question


def question_edit(
    *,
    actor: User,
    question: Question,
    title: str | None = None,
    body: str | None = None,
    tags: Sequence[str] | None = None,
) -> Question:
    """A new title, text or tags (those given); its author or the community's runners."""
    _require(access.can(actor, "edit", question))
    changed = []
    if title is not None:
        question.title = clean_text(title, "title", TITLE_MAX, required=True)
        changed.append("title")
    if body is not None:
        question.body = clean_text(body, "body", BODY_MAX)
        question.html = render_text(question.author, question.body)[0]
        changed += ["body", "html"]
    names = clean_tags(list(tags)) if tags is not None else None
    if names is not None:
        question.tags = names
        changed.append("tags")
    if not changed:
        return question
    with transaction.atomic():
        question.edited_at = timezone.now()
        question.save(update_fields=[*changed, "edited_at"])
        if names is not None:
            _set_tags(question, names)
        _event("question.updated", question, {"author": question.author_id})
    return question


def question_delete(*, actor: User, origin: Origin, question: Question) -> None:
    """Soft, with its answers; a deletion by someone else than the author is audited."""
    _require(access.can(actor, "delete", question))
    with transaction.atomic():
        _event("question.deleted", question, {})  # while it still has readers
        question.deleted_at = timezone.now()
        question.save(update_fields=["deleted_at"])
        if actor.pk != question.author_id:
            audit_record(actor=actor, action="question.delete", target=question, origin=origin)


def question_accept(*, actor: User, question: Question, answer_id: int | None) -> Question:
    """Accept one of the question's answers (another one replaces it), or none."""
    _require(access.can(actor, "accept", question))
    if question.state == QuestionState.DUPLICATE:
        raise ServiceError(
            _("This question is closed as a duplicate: reopen it first."), code="conflict"
        )
    answer = None
    if answer_id is not None:
        answer = Answer.objects.filter(
            pk=answer_id, question=question, deleted_at__isnull=True
        ).first()
        if answer is None:
            raise ServiceError(_("This answer is not one of this question's."), field="answer")
    with transaction.atomic():
        Answer.objects.filter(question=question, accepted=True).update(accepted=False)
        if answer is not None:
            Answer.objects.filter(pk=answer.pk).update(accepted=True)
        question.accepted_answer = answer
        _settle_state(question)
        question.activity_at = timezone.now()
        question.save(update_fields=["accepted_answer", "state", "activity_at"])
        _event(
            "question.accepted",
            question,
            {"answer": answer.pk if answer else None, "state": question.state},
        )
        if answer is not None:
            notifications.notify(
                Told.ACCEPTED,
                [answer.author_id],
                target=question,
                actor=actor,
                community=question.community,
                detail={"answer": answer.pk},
            )
    return question


def question_close_as_duplicate(*, actor: User, question: Question, original_id: int) -> Question:
    """Close the question as a duplicate of ``original``, a question the actor reads."""
    _require(access.can(actor, "close", question))
    original = access.visible(actor, Question.objects.filter(pk=original_id)).first()
    if original is None or original.pk == question.pk:
        raise ServiceError(_("There is no such question to link to."), field="original")
    if original.state == QuestionState.DUPLICATE:
        raise ServiceError(
            _("That question is itself a duplicate: link to its original."), field="original"
        )
    if question.accepted_answer_id is not None:
        raise ServiceError(
            _("A question with an accepted answer is not closed as a duplicate."),
            code="conflict",
        )
    with transaction.atomic():
        question.state = QuestionState.DUPLICATE
        question.duplicate_of = original
        question.save(update_fields=["state", "duplicate_of"])
        _event("question.updated", question, {"state": question.state})
    return question


def question_reopen(*, actor: User, question: Question) -> Question:
    _require(access.can(actor, "close", question))
    if question.state != QuestionState.DUPLICATE:
        return question
    with transaction.atomic():
        question.state = QuestionState.OPEN
        question.duplicate_of = None
        _settle_state(question)
        question.save(update_fields=["state", "duplicate_of"])
        _event("question.updated", question, {"state": question.state})
    return question


def expert_request(*, actor: User, question: Question, expert: User) -> ExpertRequest:
    """Ask ``expert`` for their answer: they are told (an event to them alone), once per
    question. Only the asker and the community's runners ask; only someone who may
    answer the question is asked."""
    _require(access.can(actor, "accept", question))
    if expert.pk == actor.pk or not access.can(expert, "answer", question):
        raise ServiceError(_("This person cannot answer this question."), field="expert")
    with transaction.atomic():
        made, created = ExpertRequest.objects.get_or_create(
            question=question, expert=expert, defaults={"requested_by": actor}
        )
        if not created:
            raise ServiceError(_("This person was already asked."), code="conflict")
        _event("question.expert_requested", question, {"by": actor.pk}, users=[expert])
        notifications.notify(
            Told.EXPERT, [expert], target=question, actor=actor, community=question.community
        )
    return made


# --- Answers ------------------------------------------------------------------------------


def answer_create(
    *, actor: User, question: Question, body: str, attachments: Sequence[int] = ()
) -> Answer:
    _require(access.can(actor, "answer", question))
    body = clean_text(body, "body", ANSWER_MAX, required=not attachments)
    with transaction.atomic():
        files = claim_attachments(actor, attachments)
        html, refs = render_text(actor, body)
        answer = Answer.objects.create(question=question, author=actor, body=body, html=html)
        Attachment.objects.filter(pk__in=[f.pk for f in files]).update(
            question=question, answer=answer
        )
        Question.objects.filter(pk=question.pk).update(
            answer_count=F("answer_count") + 1, activity_at=answer.created_at
        )
        question.refresh_from_db(fields=["answer_count", "activity_at"])
        _settle_state(question)
        question.save(update_fields=["state"])
        data = {"answer": answer.pk, "author": actor.pk, "answers": question.answer_count}
        _event("answer.created", question, data)
        _tell_answered(question, answer, [p.id for p in refs.people])
    return answer


def _tell_answered(question: Question, answer: Answer, named: list[int]) -> None:
    """The people the answer names (who read the question), and the question's author."""
    actor, place, where = answer.author, question.community, {"answer": answer.pk}
    readers = [u for u in User.objects.filter(pk__in=named) if access.can(u, access.VIEW, question)]
    notifications.notify(
        Told.MENTION, readers, target=question, actor=actor, community=place, detail=where
    )
    if question.author_id not in {u.pk for u in readers}:
        notifications.notify(
            Told.ANSWER,
            [question.author_id],
            target=question,
            actor=actor,
            community=place,
            detail=where,
        )


def answer_edit(*, actor: User, answer: Answer, body: str) -> Answer:
    _require(access.can(actor, "edit", answer))
    body = clean_text(body, "body", ANSWER_MAX, required=not answer.attachments.exists())
    if body == answer.body:
        return answer
    with transaction.atomic():
        answer.body = body
        answer.html = render_text(actor, body)[0]
        answer.edited_at = timezone.now()
        answer.save(update_fields=["body", "html", "edited_at"])
        _event("answer.updated", answer.question, {"answer": answer.pk})
    return answer


def answer_delete(*, actor: User, origin: Origin, answer: Answer) -> None:
    """Soft; an accepted answer is no longer accepted. Audited when not the author's."""
    _require(access.can(actor, "delete", answer))
    question = answer.question
    with transaction.atomic():
        answer.deleted_at = timezone.now()
        answer.accepted = False
        answer.save(update_fields=["deleted_at", "accepted"])
        Question.objects.filter(pk=question.pk).update(answer_count=F("answer_count") - 1)
        question.refresh_from_db(fields=["answer_count", "accepted_answer"])
        if question.accepted_answer_id == answer.pk:
            question.accepted_answer = None
        _settle_state(question)
        question.save(update_fields=["accepted_answer", "state"])
        if actor.pk != answer.author_id:
            audit_record(actor=actor, action="answer.delete", target=answer, origin=origin)
        data = {"answer": answer.pk, "answers": question.answer_count, "state": question.state}
        _event("answer.deleted", question, data)


def answer_vote(*, actor: User, answer: Answer, value: int) -> Answer:
    """Up (1) or down (-1); one vote per person, changeable. Not on one's own answer."""
    if value not in (1, -1):
        raise ServiceError(_("A vote is 1 (up) or -1 (down)."), field="value")
    if answer.author_id == actor.pk and access.can(actor, access.VIEW, answer):
        raise ServiceError(_("You cannot vote on your own answer."), code="forbidden")
    _require(access.can(actor, "vote", answer))
    with transaction.atomic():
        vote = AnswerVote.objects.select_for_update().filter(answer=answer, user=actor).first()
        if vote is not None and vote.value == value:
            raise ServiceError(_("You already voted this way on this answer."), code="conflict")
        try:
            with transaction.atomic():
                if vote is None:
                    AnswerVote.objects.create(answer=answer, user=actor, value=value)
                else:
                    AnswerVote.objects.filter(pk=vote.pk).update(value=value)
        except IntegrityError:  # the same person's other request got there first
            raise ServiceError(_("You already voted on this answer."), code="conflict") from None
        change = value - (vote.value if vote is not None else 0)
        _score(answer, change)
    return answer


def answer_unvote(*, actor: User, answer: Answer) -> Answer:
    """Withdraw one's vote (nothing happens when there is none)."""
    _require(access.can(actor, access.VIEW, answer))
    with transaction.atomic():
        vote = AnswerVote.objects.select_for_update().filter(answer=answer, user=actor).first()
        if vote is not None:
            vote.delete()
            _score(answer, -vote.value)
    return answer


def _score(answer: Answer, change: int) -> None:
    Answer.objects.filter(pk=answer.pk).update(score=F("score") + change)
    answer.refresh_from_db(fields=["score"])
    _event("answer.voted", answer.question, {"answer": answer.pk, "score": answer.score})


# --- Comments on answers ------------------------------------------------------------------


def answer_comment_create(*, actor: User, answer: Answer, body: str) -> AnswerComment:
    _require(access.can(actor, "comment", answer))
    body = clean_text(body, "body", COMMENT_MAX, required=True)
    with transaction.atomic():
        comment = AnswerComment.objects.create(
            answer=answer, author=actor, body=body, html=render_text(actor, body)[0]
        )
        data = {"answer": answer.pk, "comment": comment.pk, "author": actor.pk}
        _event("answer.commented", answer.question, data)
        notifications.notify(
            Told.REPLY,
            [answer.author_id],
            target=answer.question,
            actor=actor,
            community=answer.question.community,
            detail={"answer": answer.pk},
        )
    return comment


def answer_comment_delete(*, actor: User, comment: AnswerComment) -> None:
    _require(access.can(actor, "delete", comment))
    with transaction.atomic():
        comment.deleted_at = timezone.now()
        comment.save(update_fields=["deleted_at"])
        data = {"answer": comment.answer_id, "comment": comment.pk}
        _event("answer.comment_deleted", comment.answer.question, data)


# --- Articles and case studies --------------------------------------------------------------

# The sections a new case study starts with (in its author's language).
CASE_STUDY_SECTIONS = (
    gettext_lazy("Context"),
    gettext_lazy("Problem"),
    gettext_lazy("Solution"),
    gettext_lazy("Results"),
    gettext_lazy("Lessons learned"),
)


def case_study_template() -> str:
    return "\n\n".join(f"## {section}\n" for section in CASE_STUDY_SECTIONS)


def _article_event(type: str, article: Article, data: dict[str, Any]) -> None:
    """An event about ``article`` to those who read it: a draft's authors only; the
    article goes to the search index again."""
    data = {"article": article.pk, "community": article.community_id, **data}
    search.changed(Article, article.pk)
    authors = None
    if not article.published:
        authors = list(article.author_links.values_list("user_id", flat=True))
    if article.community is not None:
        events.emit(type, data, community=article.community, users=authors)
    else:
        events.emit(type, data, everyone=True, users=authors)


def _revise(article: Article, editor: User, restored_from: int | None = None) -> ArticleRevision:
    last = article.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    return ArticleRevision.objects.create(
        article=article,
        number=last + 1,
        title=article.title,
        body=article.body,
        editor=editor,
        restored_from=restored_from,
    )


def article_create(
    *,
    actor: User,
    community: Community | None,
    title: str,
    body: str = "",
    kind: str = ArticleKind.ARTICLE,
    tags: Sequence[str] = (),
    publish: bool = False,
) -> Article:
    """A draft (or, with ``publish``, a published) article or case study; a case study
    without a text starts from its sections."""
    _require(access.may_ask(actor, community))
    if kind not in ArticleKind.values:
        raise ServiceError(_("Unknown kind of article."), field="kind")
    title = clean_text(title, "title", TITLE_MAX, required=True)
    body = clean_text(body, "body", ARTICLE_MAX)
    if kind == ArticleKind.CASE_STUDY and not body:
        body = case_study_template()
    names = clean_tags(list(tags))
    with transaction.atomic():
        now = timezone.now()
        article = Article.objects.create(
            community=community,
            kind=kind,
            title=title,
            body=body,
            html=render_text(actor, body)[0],
            tags=names,
            created_by=actor,
            published_at=now if publish else None,
        )
        ArticleAuthor.objects.create(article=article, user=actor)
        _revise(article, actor)
        if publish:
            _article_event("article.published", article, {"author": actor.pk})
    return article


def article_edit(
    *,
    actor: User,
    article: Article,
    title: str | None = None,
    body: str | None = None,
    tags: Sequence[str] | None = None,
) -> Article:
    """A new text (kept as a new revision); its authors and the community's runners."""
    _require(access.can(actor, "edit", article))
    new_title = clean_text(title, "title", TITLE_MAX, required=True) if title is not None else None
    new_body = clean_text(body, "body", ARTICLE_MAX) if body is not None else None
    names = clean_tags(list(tags)) if tags is not None else None
    changed = (
        (new_title is not None and new_title != article.title)
        or (new_body is not None and new_body != article.body)
        or (names is not None and names != article.tags)
    )
    if not changed:
        return article
    with transaction.atomic():
        article.title = new_title if new_title is not None else article.title
        if new_body is not None:
            article.body = new_body
            article.html = render_text(actor, new_body)[0]
        article.tags = names if names is not None else article.tags
        article.updated_at = timezone.now()
        article.save(update_fields=["title", "body", "html", "tags", "updated_at"])
        _revise(article, actor)
        _article_event("article.updated", article, {"editor": actor.pk})
    return article


def article_restore(*, actor: User, article: Article, number: int) -> Article:
    """Bring back the text of revision ``number``, saved as the newest revision."""
    _require(access.can(actor, "edit", article))
    old = article.revisions.filter(number=number).first()
    if old is None:
        raise ServiceError(_("There is no such revision."), field="revision")
    with transaction.atomic():
        article.title, article.body = old.title, old.body
        article.html = render_text(actor, old.body)[0]
        article.updated_at = timezone.now()
        article.save(update_fields=["title", "body", "html", "updated_at"])
        _revise(article, actor, restored_from=number)
        _article_event("article.updated", article, {"editor": actor.pk, "restored": number})
    return article


def article_publish(*, actor: User, article: Article) -> Article:
    _require(access.can(actor, "publish", article))
    if article.published:
        return article
    with transaction.atomic():
        article.published_at = timezone.now()
        article.save(update_fields=["published_at"])
        _article_event("article.published", article, {"author": actor.pk})
    return article


def article_author_add(*, actor: User, article: Article, person: User) -> ArticleAuthor:
    """A co-author: someone who may write where the article lives."""
    _require(access.can(actor, "authors", article))
    if not access.may_ask(person, article.community) or not access.can(actor, access.VIEW, person):
        raise ServiceError(_("This person cannot write here."), field="person")
    if article.author_links.count() >= AUTHORS_MAX:
        raise ServiceError(_("At most %(count)d authors.") % {"count": AUTHORS_MAX}, field="person")
    with transaction.atomic():
        link, created = ArticleAuthor.objects.get_or_create(article=article, user=person)
        if not created:
            raise ServiceError(_("This person is already an author."), code="conflict")
        _article_event("article.author_added", article, {"author": person.pk})
    return link


def article_feedback(*, actor: User, article: Article, useful: bool) -> Article:
    """ "Was this useful?": one answer per reader, changeable."""
    _require(access.can(actor, "feedback", article))
    with transaction.atomic():
        earlier = ArticleFeedback.objects.select_for_update().filter(article=article, user=actor)
        before = earlier.first()
        if before is not None and before.useful == useful:
            return article
        if before is None:
            ArticleFeedback.objects.create(article=article, user=actor, useful=useful)
        else:
            earlier.update(useful=useful)
        counters = ("useful_count", "not_useful_count")
        plus, minus = counters if useful else counters[::-1]
        changes = {plus: F(plus) + 1}
        if before is not None:
            changes[minus] = F(minus) - 1
        Article.objects.filter(pk=article.pk).update(**changes)
        article.refresh_from_db(fields=["useful_count", "not_useful_count"])
    return article


def article_review_set(*, actor: User, article: Article, review_on: date | None) -> Article:
    """The day its authors are asked "is this still true?" (None: never)."""
    _require(access.can(actor, "review", article))
    if review_on is not None and review_on <= timezone.localdate():
        raise ServiceError(_("A review date is in the future."), field="review_on")
    article.review_on = review_on
    article.review_reminded_on = None
    article.save(update_fields=["review_on", "review_reminded_on"])
    return article


def article_delete(*, actor: User, origin: Origin, article: Article) -> None:
    """Soft; a deletion by someone else than its creator is audited."""
    _require(access.can(actor, "delete", article))
    with transaction.atomic():
        _article_event("article.deleted", article, {})  # while it still has readers
        article.deleted_at = timezone.now()
        article.save(update_fields=["deleted_at"])
        if actor.pk != article.created_by_id:
            audit_record(actor=actor, action="article.delete", target=article, origin=origin)


def harvest(*, actor: User, question: Question) -> Article:
    """Turn a question and its best answer into a draft article in the same place, for
    the asker or the community's runners to edit and publish; the answer's author (when
    they may write there) is a co-author."""
    _require(access.can(actor, "accept", question) and access.may_ask(actor, question.community))
    best = question.accepted_answer or (
        question.answers.filter(deleted_at__isnull=True).order_by("-score", "created_at").first()
    )
    if best is None:
        raise ServiceError(
            _("A question without an answer has nothing to harvest."), code="conflict"
        )
    heading = pgettext("noun", "Answer")
    parts = [question.body, f"## {heading}", best.body]
    body = "\n\n".join(p for p in parts if p)
    with transaction.atomic():
        article = article_create(
            actor=actor, community=question.community, title=question.title, body=body,
            tags=question.tags,
        )  # fmt: skip
        article.harvested_from = question
        article.save(update_fields=["harvested_from"])
        writer = best.author
        if (
            writer.pk != actor.pk
            and writer.is_active
            and access.may_ask(writer, question.community)
        ):
            ArticleAuthor.objects.create(article=article, user=writer)
    return article


def review_reminders(today: date | None = None) -> int:
    """Remind the authors of the published articles whose review day has come, once;
    returns how many articles."""
    today = today or timezone.localdate()
    due = Article.objects.filter(
        review_on__lte=today,
        review_reminded_on__isnull=True,
        deleted_at__isnull=True,
        published_at__isnull=False,
    ).select_related("community")
    count = 0
    for article in due:
        with transaction.atomic():
            authors = list(article.author_links.values_list("user_id", flat=True))
            data = {"article": article.pk, "community": article.community_id}
            if article.community is not None:
                events.emit("article.review_due", data, community=article.community, users=authors)
            else:
                events.emit("article.review_due", data, everyone=True, users=authors)
            Article.objects.filter(pk=article.pk).update(review_reminded_on=today)
        count += 1
    return count
