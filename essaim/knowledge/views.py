"""Web pages of questions and answers: the list, asking (with similar questions shown
while the title is typed), a question with its answers, and the forms that write. Thin:
selectors read, services write, access.py decides; every form works without JavaScript."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.communities import selectors as community_selectors
from essaim.communities.models import Community
from essaim.content.models import ATTACHMENTS_MAX
from essaim.content.views import upload_files
from essaim.http import Origin
from essaim.notifications import services as notifications
from essaim.realtime import events

from . import selectors, services
from .models import (
    ANSWER_MAX,
    ARTICLE_MAX,
    BODY_MAX,
    COMMENT_MAX,
    TITLE_MAX,
    ArticleKind,
    QuestionState,
)

PAGE = 30  # questions a list page shows
MAX_PAGE = 1000  # deeper than anyone pages; a bigger number would overflow the database's OFFSET


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    request.section = "questions"  # type: ignore[attr-defined]
    return user


def _page(request: HttpRequest, found: QuerySet[Any], name: str) -> dict[str, Any]:
    """The ``?page=`` of a list: its items under ``name``, ``page``, and ``more``."""
    raw = request.GET.get("page", "")
    page = min(max(int(raw), 1), MAX_PAGE) if raw.isdigit() else 1
    shown = list(found[(page - 1) * PAGE : page * PAGE + 1])
    return {name: shown[:PAGE], "page": page, "more": len(shown) > PAGE}


def _community(me: User, value: str) -> Community | None:
    return access.access_community(me, int(value)) if value.isdigit() else None


@login_required
def knowledge_home(request: HttpRequest) -> HttpResponse:
    """The knowledge base of everything the viewer reads, or of one community."""
    me = _me(request)
    community = _community(me, request.GET.get("community", ""))
    context = {
        "base": selectors.knowledge_base(me, community),
        "community": community,
        "states": QuestionState.choices,
    }
    return render(request, "knowledge/home.html", context)


@login_required
def question_list(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    community = _community(me, request.GET.get("community", ""))
    state = request.GET.get("state", "")
    state = state if state in QuestionState.values else ""
    tag = request.GET.get("tag", "")[:41]
    for_me = request.GET.get("scope") == "for-me"
    found = selectors.question_list(me, community=community, state=state, tag=tag)
    if for_me:
        found = found.filter(pk__in=selectors.for_me(me).values("pk"))
    context = {
        **_page(request, found, "questions"),
        "community": community,
        "state": state,
        "tag": tag,
        "states": QuestionState.choices,
        "for_me": for_me,
    }
    return render(request, "knowledge/list.html", context)


def _places(me: User) -> list[Community]:
    """The communities the viewer may ask in."""
    mine = list(community_selectors.mine(me).order_by("name"))
    roles = community_selectors.roles(me, mine)  # once, not per community
    return [c for c in mine if access.may_ask(me, c, role=roles.get(c.pk))]


@login_required
@require_http_methods(["GET", "POST"])
def question_ask(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    values = {"title": "", "body": "", "tags": "", "where": request.GET.get("community", "")}
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            question = services.question_ask(
                actor=me,
                community=_community(me, values["where"]),
                title=values["title"],
                body=values["body"],
                tags=services.split_tags(values["tags"]),
                attachments=upload_files(request, me),
            )
        except ServiceError as exc:
            error = exc
        else:
            return HttpResponseRedirect(question.get_absolute_url())
    context = {
        "values": values,
        "error": error,
        "places": _places(me),
        "company_wide": access.may_ask(me, None),
        "limits": {"title": TITLE_MAX, "body": BODY_MAX, "files": ATTACHMENTS_MAX},
    }
    return render(request, "knowledge/ask.html", context, status=422 if error else 200)


@login_required
def question_similar(request: HttpRequest) -> HttpResponse:
    """The similar questions of a title being typed, and who may know the answer, as a
    fragment of the ask page."""
    me = _me(request)
    title = request.GET.get("q", "")[:TITLE_MAX]
    tags = services.split_tags(request.GET.get("tags", "")[:250])
    context = {
        "similar": selectors.similar(me, title),
        "experts": selectors.suggested_experts(me, title=title, tags=tags, exclude=[me.pk]),
    }
    return render(request, "knowledge/similar.html", context)


@login_required
def question_page(request: HttpRequest, question_id: int) -> HttpResponse:
    me = _me(request)
    position = events.head_now()  # before the state: the page's socket resumes from it
    found = selectors.thread(me, question_id)
    question = found.question
    notifications.read_about(actor=me, target=question)
    experts, asked = [], set()
    if "accept" in found.allowed and question.state in (QuestionState.OPEN, QuestionState.ANSWERED):
        answerers = [a.author_id for a in found.answers]
        experts = selectors.suggested_experts(
            me,
            title=question.title,
            tags=question.tags,
            exclude=[question.author_id, me.pk, *answerers],
        )
        asked = selectors.requested(me, question)
    context = {
        "thread": found,
        "question": question,
        "experts": experts,
        "asked": asked,
        "events_from": position,
        "limits": {"answer": ANSWER_MAX, "comment": COMMENT_MAX, "files": ATTACHMENTS_MAX},
    }
    return render(request, "knowledge/question.html", context)


@login_required
@require_POST
def question_act(request: HttpRequest, question_id: int, action: str) -> HttpResponse:
    """Answer, accept an answer, ask an expert, close as a duplicate, reopen, turn into
    an article (harvest), delete."""
    me = _me(request)
    question = access.access_question(me, question_id)
    target = question.get_absolute_url()
    try:
        if action == "answer":
            answer = services.answer_create(
                actor=me,
                question=question,
                body=request.POST.get("body", ""),
                attachments=upload_files(request, me),
            )
            target += f"#answer-{answer.pk}"
        elif action == "accept":
            chosen = request.POST.get("answer", "")  # none: unaccept
            if chosen and not chosen.isdigit():
                raise ServiceError(_("This answer is not one of this question's."), field="answer")
            services.question_accept(
                actor=me, question=question, answer_id=int(chosen) if chosen else None
            )
        elif action == "duplicate":
            original = request.POST.get("original", "").strip().rstrip("/").rsplit("/", 1)[-1]
            if not original.isdigit():
                raise ServiceError(_("There is no such question to link to."), field="original")
            services.question_close_as_duplicate(
                actor=me, question=question, original_id=int(original)
            )
        elif action == "request":
            chosen = request.POST.get("expert", "")
            wanted = int(chosen) if chosen.isdigit() else 0
            expert = access.visible(me, access.active_users().filter(pk=wanted)).first()
            if expert is None:
                raise ServiceError(_("This person cannot answer this question."), field="expert")
            services.expert_request(actor=me, question=question, expert=expert)
            messages.success(
                request, _("%(name)s is asked for an answer.") % {"name": expert.display_name}
            )
        elif action == "harvest":
            article = services.harvest(actor=me, question=question)
            messages.success(
                request, _("A draft article is made from this question: edit it, then publish it.")
            )
            return HttpResponseRedirect(article.get_absolute_url())
        elif action == "reopen":
            services.question_reopen(actor=me, question=question)
        elif action == "delete":
            services.question_delete(actor=me, origin=Origin.of(request), question=question)
            messages.success(request, _("The question is deleted."))
            return HttpResponseRedirect(reverse("questions"))
        else:
            raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(target)


@login_required
@require_POST
def answer_act(request: HttpRequest, answer_id: int, action: str) -> HttpResponse:
    """Vote up or down, withdraw the vote, comment, delete."""
    me = _me(request)
    answer = access.access_answer(me, answer_id)
    target = answer.question.get_absolute_url() + f"#answer-{answer.pk}"
    try:
        if action in ("up", "down"):
            services.answer_vote(actor=me, answer=answer, value=1 if action == "up" else -1)
        elif action == "unvote":
            services.answer_unvote(actor=me, answer=answer)
        elif action == "comment":
            services.answer_comment_create(
                actor=me, answer=answer, body=request.POST.get("body", "")
            )
        elif action == "delete":
            services.answer_delete(actor=me, origin=Origin.of(request), answer=answer)
        else:
            raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(target)


# --- Articles and case studies --------------------------------------------------------------


@login_required
def article_list(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    community = _community(me, request.GET.get("community", ""))
    kind = request.GET.get("kind", "")
    kind = kind if kind in ArticleKind.values else ""
    drafts = request.GET.get("drafts") == "1"
    found = selectors.article_list(me, community=community, kind=kind, drafts=drafts)
    context = {
        **_page(request, found, "articles"),
        "community": community,
        "kind": kind,
        "kinds": ArticleKind.choices,
        "drafts": drafts,
    }
    return render(request, "knowledge/articles.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def article_new(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    kind = request.GET.get("kind", ArticleKind.ARTICLE)
    values = {
        "title": "",
        "body": services.case_study_template() if kind == ArticleKind.CASE_STUDY else "",
        "tags": "",
        "where": request.GET.get("community", ""),
        "kind": kind if kind in ArticleKind.values else ArticleKind.ARTICLE,
    }
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            article = services.article_create(
                actor=me,
                community=_community(me, values["where"]),
                title=values["title"],
                body=values["body"],
                kind=values["kind"],
                tags=services.split_tags(values["tags"]),
                publish=request.POST.get("publish") == "1",
            )
        except ServiceError as exc:
            error = exc
        else:
            return HttpResponseRedirect(article.get_absolute_url())
    context = {
        "values": values,
        "error": error,
        "places": _places(me),
        "company_wide": access.may_ask(me, None),
        "kinds": ArticleKind.choices,
        "limit": ARTICLE_MAX,
    }
    return render(request, "knowledge/article_form.html", context, status=422 if error else 200)


@login_required
def article_page(request: HttpRequest, article_id: int) -> HttpResponse:
    me = _me(request)
    found = selectors.article_view(me, article_id)
    notifications.read_about(actor=me, target=found.article)
    return render(request, "knowledge/article.html", {"view": found, "article": found.article})


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    me = _me(request)
    article = access.access_article(me, article_id, "edit")
    values = {"title": article.title, "body": article.body, "tags": " ".join(article.tags)}
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            services.article_edit(
                actor=me, article=article, title=values["title"], body=values["body"],
                tags=services.split_tags(values["tags"]),
            )  # fmt: skip
        except ServiceError as exc:
            error = exc
        else:
            return HttpResponseRedirect(article.get_absolute_url())
    context = {"article": article, "values": values, "error": error, "limit": ARTICLE_MAX}
    return render(request, "knowledge/article_form.html", context, status=422 if error else 200)


@login_required
def article_history(request: HttpRequest, article_id: int) -> HttpResponse:
    """The revisions, and what the chosen one (the newest by default) changed."""
    me = _me(request)
    found = selectors.article_view(me, article_id)
    revisions = list(selectors.revisions_of(me, found.article))
    chosen = request.GET.get("revision", "")
    shown = next((r for r in revisions if str(r.number) == chosen), revisions[0])
    before = next((r for r in revisions if r.number == shown.number - 1), None)
    context = {
        "view": found,
        "article": found.article,
        "revisions": revisions,
        "shown": shown,
        "changes": selectors.diff(before.body if before else "", shown.body),
    }
    return render(request, "knowledge/article_history.html", context)


@login_required
@require_POST
def article_act(request: HttpRequest, article_id: int, action: str) -> HttpResponse:
    """Publish, delete, rate, add a co-author, restore a revision, set the review date."""
    me = _me(request)
    article = access.access_article(me, article_id)
    target = article.get_absolute_url()
    try:
        if action == "publish":
            services.article_publish(actor=me, article=article)
        elif action in ("useful", "not-useful"):
            services.article_feedback(actor=me, article=article, useful=action == "useful")
            messages.success(request, _("Thank you: your opinion helps the authors."))
        elif action == "author":
            email = request.POST.get("email", "").strip()[:254]
            people = access.active_users().filter(email__iexact=email)
            person = access.visible(me, people).first() if email else None
            if person is None:
                raise ServiceError(_("This person cannot write here."), field="person")
            services.article_author_add(actor=me, article=article, person=person)
            messages.success(
                request, _("%(name)s is a co-author now.") % {"name": person.display_name}
            )
        elif action == "restore":
            number = request.POST.get("revision", "")
            services.article_restore(
                actor=me, article=article, number=int(number) if number.isdigit() else 0
            )
            messages.success(request, _("The revision is restored."))
        elif action == "review":
            text = request.POST.get("review_on", "").strip()
            try:
                review_on = parse_date(text) if text else None
            except ValueError:  # well formed, but no such day (2026-02-30)
                review_on = None
            if text and review_on is None:
                raise ServiceError(_("This date is not valid."), field="review_on")
            services.article_review_set(actor=me, article=article, review_on=review_on)
        elif action == "delete":
            services.article_delete(actor=me, origin=Origin.of(request), article=article)
            messages.success(request, _("The article is deleted."))
            return HttpResponseRedirect(reverse("articles"))
        else:
            raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(target)


urlpatterns = [
    path("knowledge/", knowledge_home, name="knowledge"),
    path("questions/", question_list, name="questions"),
    path("questions/ask/", question_ask, name="question-ask"),
    path("questions/similar/", question_similar, name="question-similar"),
    path("questions/<id:question_id>/", question_page, name="question"),
    path("questions/<id:question_id>/<slug:action>/", question_act, name="question-act"),
    path("answers/<id:answer_id>/<slug:action>/", answer_act, name="answer-act"),
    path("articles/", article_list, name="articles"),
    path("articles/new/", article_new, name="article-new"),
    path("articles/<id:article_id>/", article_page, name="article"),
    path("articles/<id:article_id>/edit/", article_edit, name="article-edit"),
    path("articles/<id:article_id>/history/", article_history, name="article-history"),
    path("articles/<id:article_id>/<slug:action>/", article_act, name="article-act"),
]
