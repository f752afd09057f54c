"""Web pages of posts: the feeds (home, community, profile, saved, hashtag), a post with
its comments, and the forms that write. Thin: selectors read, services write, access.py
decides; without JavaScript every form still works (htmx swaps fragments when there)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from essaim import access
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError
from essaim.communities import selectors as community_selectors
from essaim.communities.models import Community
from essaim.directory import selectors as directory_selectors
from essaim.http import Origin
from essaim.notifications import services as notifications
from essaim.realtime import events
from essaim.web.views import live_panel

from . import files, selectors, services
from .models import ATTACHMENTS_MAX, PostKind

REACTIONS = {
    "like": "👍",
    "celebrate": "🎉",
    "support": "🤝",
    "insightful": "💡",
    "curious": "🤔",
    "thanks": "🙏",
}


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back where the form was (a same-site ``next``), or to ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()})
    return HttpResponseRedirect(target if target and allowed else default)


def feed_from_query(me: User, query: QueryDict, base: selectors.Feed) -> selectors.Feed:
    """The filters of a feed page (community, type, unread) on top of ``base``."""
    community = base.community
    chosen = query.get("community", "")
    if base.scope == "home" and chosen.isdigit():
        community = access.access_community(me, int(chosen))
    kind = query.get("kind", "")
    return selectors.Feed(
        scope=base.scope,
        community=community,
        person=base.person,
        hashtag=base.hashtag,
        kind=kind if kind in PostKind.values else "",
        unread=query.get("unread") == "1",
    )


def feed_context(request: HttpRequest, base: selectors.Feed) -> dict[str, Any]:
    """A feed page's posts and what its template needs; raises NotFound on a forged
    cursor (a 404 page, as for any address that does not exist)."""
    me = _me(request)
    feed = feed_from_query(me, request.GET, base)
    order = request.GET.get("order", "latest")
    order = order if order in selectors.ORDERS else "latest"
    try:
        page = selectors.feed_page(me, feed, order=order, cursor=request.GET.get("cursor"))
    except selectors.BadCursor:
        raise access.NotFound from None
    more = None
    if page.next_cursor:
        query = request.GET.copy()
        query["cursor"] = page.next_cursor
        query["fragment"] = "1"
        more = f"{request.path}?{query.urlencode()}"
    return {
        "page": page,
        "feed": feed,
        "order": order,
        "more_url": more,
        "reactions": REACTIONS,
        "kinds": PostKind.choices,
        "live_feed": json.dumps(_live_filter(me, feed)),
        "new_posts_forms": json.dumps(
            [ngettext("%(counter)s new post", "%(counter)s new posts", n) for n in (1, 2)]
        ),
    }


def _live_filter(me: User, feed: selectors.Feed) -> dict[str, Any]:
    """What events.js needs to tell whether a new post belongs to this feed (the page
    then fetches it, and access.py decides again)."""
    if feed.scope == "home":
        communities = (
            [feed.community.pk]
            if feed.community
            else list(community_selectors.mine(me).values_list("pk", flat=True))
        )
        followed = list(me.following.values_list("followed_id", flat=True))
        return {
            "communities": communities,
            "authors": [] if feed.community else [*followed, me.pk],
            "announcements": feed.community is None,
            "kind": feed.kind,
        }
    if feed.scope == "community" and feed.community is not None:
        return {"communities": [feed.community.pk], "authors": [], "kind": feed.kind}
    if feed.scope == "profile" and feed.person is not None:
        return {"communities": [], "authors": [feed.person.pk], "kind": feed.kind}
    return {}


def render_feed(
    request: HttpRequest, template: str, base: selectors.Feed, extra: dict[str, Any]
) -> HttpResponse:
    position = events.head_now()  # before the state: the page's socket resumes from it
    context = {**feed_context(request, base), **extra, "events_from": position}
    if request.GET.get("fragment"):
        return render(request, "content/feed_page.html", context)
    return render(request, template, context)


def composer_context(me: User, community: Community | None) -> dict[str, Any]:
    """Where the composer may post: the given community, or (home) the viewer's
    communities where they write, and their profile."""
    candidates = [community] if community is not None else list(community_selectors.mine(me))
    roles = community_selectors.roles(me, candidates)  # once, not per community
    places = [c for c in candidates if access.may_publish(me, c, role=roles.get(c.pk))]
    announce = PostKind.ANNOUNCEMENT
    return {
        "composer_places": places,
        "composer_profile": community is None and access.may_publish(me, None),
        "composer_announce": {
            c.pk for c in places if access.may_publish(me, c, announce, role=roles.get(c.pk))
        },
        "composer_company": community is None
        and access.may_publish(me, None, PostKind.ANNOUNCEMENT),
        "composer_units": directory_selectors.org_units(me).order_by("name")[:500]
        if community is None and access.may_publish(me, None, PostKind.ANNOUNCEMENT)
        else [],
        "composer_sites": directory_selectors.sites(me).order_by("name")
        if community is None and access.may_publish(me, None, PostKind.ANNOUNCEMENT)
        else [],
        "attachments_max": ATTACHMENTS_MAX,
    }


@login_required
def home_feed(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    request.section = "home"  # type: ignore[attr-defined]
    extra = {
        **composer_context(me, None),
        "live": live_panel(me),
        "filter_communities": community_selectors.mine(me).order_by("name"),
        "trending": selectors.trending_hashtags(me),
    }
    return render_feed(request, "content/home.html", selectors.Feed(scope="home"), extra)


@login_required
def saved(request: HttpRequest) -> HttpResponse:
    return render_feed(request, "content/saved.html", selectors.Feed(scope="saved"), {})


@login_required
def hashtag(request: HttpRequest, name: str) -> HttpResponse:
    name = name.strip("#").lower()[:50]
    return render_feed(
        request,
        "content/hashtag.html",
        selectors.Feed(scope="hashtag", hashtag=name),
        {"name": name},
    )


@login_required
def post_page(request: HttpRequest, post_id: int) -> HttpResponse:
    me = _me(request)
    position = events.head_now()
    fragment = request.GET.get("fragment")
    if fragment in ("card", "comments"):  # what posts.js fetches again after an event
        return post_page_fragment(request, post_id, fragment)
    post = selectors.post_detail(me, post_id)
    services.posts_read(actor=me, posts=[post])
    notifications.read_about(actor=me, target=post)
    context = {
        "post": post,
        "comments": selectors.comments_of(me, post),
        "reactions": REACTIONS,
        "reactors": selectors.reactions_of(me, post)[:50],
        "events_from": position,
        "single": True,
    }
    return render(request, "content/post.html", context)


def upload_files(request: HttpRequest, me: User) -> list[int]:
    """Uploads the form's files (as the API's POST /files does) and returns their ids."""
    uploads = request.FILES.getlist("files")
    if len(uploads) > ATTACHMENTS_MAX:
        raise ServiceError(
            _("At most %(count)d files.") % {"count": ATTACHMENTS_MAX}, field="attachments"
        )
    return [services.attachment_upload(actor=me, upload=f, name=f.name or "").pk for f in uploads]


@login_required
@require_POST
def post_new(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    where = request.POST.get("where", "")
    community = None
    if where.isdigit():
        community = access.access_community(me, int(where))
    kind = PostKind.ANNOUNCEMENT if request.POST.get("announcement") else PostKind.POST
    # A company announcement's audience: "unit:<id>", "site:<id>", or everyone.
    target, _sep, target_id = request.POST.get("audience", "").partition(":")
    org_unit, site = directory_selectors.places(
        me,
        int(target_id) if target == "unit" and target_id.isdigit() else None,
        int(target_id) if target == "site" and target_id.isdigit() else None,
    )
    options = [o for o in request.POST.getlist("option") if o.strip()]
    poll = None
    if options:
        poll = {"options": options, "multiple": bool(request.POST.get("multiple"))}
        poll["anonymous"] = bool(request.POST.get("anonymous"))
    try:
        post = services.post_create(
            actor=me,
            community=community,
            body=request.POST.get("body", ""),
            kind=kind,
            attachments=upload_files(request, me),
            poll=poll,
            must_read=kind == PostKind.ANNOUNCEMENT and bool(request.POST.get("must_read")),
            org_unit=org_unit,
            site=site,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _back(request, reverse("home"))
    except access.Forbidden:
        messages.error(request, _("You may not publish this there."))
        return _back(request, reverse("home"))
    messages.success(request, _("Posted."))
    return _back(request, reverse("post", args=[post.pk]))


@login_required
@require_POST
def post_act(request: HttpRequest, post_id: int, action: str) -> HttpResponse:
    """React, vote, save, follow, mute, acknowledge, pin, delete, comment."""
    me = _me(request)
    post = access.access_post(me, post_id)
    data = request.POST
    try:
        if action == "react":
            kind = data.get("kind", "")
            same = kind == selectors.my_reaction(me, post)
            services.react(actor=me, post=post, kind=None if same or not kind else kind)
        elif action == "vote":
            chosen = [int(o) for o in data.getlist("option") if o.isdigit()]
            services.poll_vote(actor=me, post=post, options=chosen)
        elif action in ("save", "unsave"):
            services.post_state_set(actor=me, post=post, saved=action == "save")
        elif action in ("follow", "unfollow"):
            services.post_state_set(actor=me, post=post, following=action == "follow")
        elif action in ("mute", "unmute"):
            services.post_state_set(actor=me, post=post, muted=action == "mute")
        elif action == "acknowledge":
            services.post_state_set(actor=me, post=post, acknowledged=True)
        elif action in ("pin", "unpin"):
            services.post_pin(actor=me, post=post, pinned=action == "pin")
        elif action == "remind":
            count = services.remind_unacknowledged(actor=me, post=post)
            messages.success(
                request,
                ngettext("%(count)d person reminded.", "%(count)d people reminded.", count)
                % {"count": count},
            )
        elif action == "delete":
            services.post_delete(actor=me, origin=Origin.of(request), post=post)
            messages.success(request, _("The post is deleted."))
            return _back(request, reverse("home"))
        elif action == "comment":
            parent = None
            if data.get("parent", "").isdigit():
                parent = access.access_comment(me, int(data["parent"]))
            services.comment_create(
                actor=me,
                post=post,
                body=data.get("body", ""),
                parent=parent,
                attachments=upload_files(request, me),
            )
        else:
            raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    if request.headers.get("HX-Request"):
        return post_page_fragment(request, post.pk, data.get("fragment", "card"))
    return _back(request, reverse("post", args=[post.pk]))


def post_page_fragment(request: HttpRequest, post_id: int, fragment: str) -> HttpResponse:
    me = _me(request)
    post = selectors.post_detail(me, post_id)
    context = {
        "post": post,
        "comments": selectors.comments_of(me, post),
        "reactions": REACTIONS,
        "single": fragment == "comments",
    }
    template = "content/comments.html" if fragment == "comments" else "content/post_card.html"
    return render(request, template, context)


@login_required
def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    me = _me(request)
    post = access.access_post(me, post_id, "edit")
    error = None
    if request.method == "POST":
        try:
            services.post_edit(actor=me, post=post, body=request.POST.get("body", ""))
        except ServiceError as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(reverse("post", args=[post.pk]))
    body = request.POST.get("body", post.body)
    context = {"post": post, "body": body, "error": error}
    return render(request, "content/edit.html", context, status=400 if error else 200)


@login_required
@require_POST
def comment_act(request: HttpRequest, comment_id: int, action: str) -> HttpResponse:
    me = _me(request)
    comment = access.access_comment(me, comment_id)
    try:
        if action == "react":
            kind = request.POST.get("kind", "")
            same = kind == selectors.my_reaction(me, comment.post, comment)
            services.react(
                actor=me,
                post=comment.post,
                comment=comment,
                kind=None if same or not kind else kind,
            )
        elif action == "edit":
            services.comment_edit(actor=me, comment=comment, body=request.POST.get("body", ""))
        elif action == "delete":
            services.comment_delete(actor=me, origin=Origin.of(request), comment=comment)
        else:
            raise access.NotFound
    except ServiceError as exc:
        messages.error(request, exc.message)
    if request.headers.get("HX-Request"):
        return post_page_fragment(request, comment.post_id, "comments")
    return _back(request, reverse("post", args=[comment.post_id]) + f"#comment-{comment.pk}")


@login_required
def tracking(request: HttpRequest, post_id: int) -> HttpResponse:
    me = _me(request)
    post = selectors.post_detail(me, post_id)
    context = {"post": post, "tracking": selectors.tracking(me, post)}
    return render(request, "content/tracking.html", context)


@login_required
def history(request: HttpRequest, post_id: int) -> HttpResponse:
    """A post's text now and before each edit, for whoever reads the post."""
    me = _me(request)
    post = access.access_post(me, post_id)
    context = {"post": post, "revisions": selectors.revisions_of(me, post)[:100]}
    return render(request, "content/history.html", context)


@login_required
def file_download(request: HttpRequest, file_id: int) -> HttpResponseBase:
    """Checked against the access policy at every download: the file's post decides."""
    found = selectors.attachment(_me(request), file_id)
    return files.attachment_response(found, thumbnail=request.GET.get("thumbnail") == "1")


@login_required
def community_files(request: HttpRequest, slug: str) -> HttpResponse:
    me = _me(request)
    community = access.access_community_by_slug(me, slug, "read")
    view = community_selectors.community_view(me, community)
    context = {"view": view, "files": selectors.community_files(me, community)[:200]}
    return render(request, "content/community_files.html", context)


urlpatterns = [
    path("saved/", saved, name="saved"),
    path("tags/<str:name>/", hashtag, name="hashtag"),
    path("posts/new/", post_new, name="post-new"),
    path("posts/<id:post_id>/", post_page, name="post"),
    path("posts/<id:post_id>/edit/", post_edit, name="post-edit"),
    path("posts/<id:post_id>/tracking/", tracking, name="post-tracking"),
    path("posts/<id:post_id>/history/", history, name="post-history"),
    path("posts/<id:post_id>/<slug:action>/", post_act, name="post-act"),
    path("comments/<id:comment_id>/<slug:action>/", comment_act, name="comment-act"),
    path("files/<id:file_id>/", file_download, name="file"),
    path("c/<slug:slug>/files/", community_files, name="community-files"),
]
