"""Posts API: feeds, posts, comments, reactions, polls, files. Thin: selectors decide what
each viewer reads, services make every change, access.py answers every "may they?"; a
post the viewer may not read is a 404 like a missing one."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Query, Router, Schema, UploadedFile
from ninja.errors import ValidationError
from ninja.responses import Status

from essaim import access
from essaim.api_base import Id, InSchema, viewer
from essaim.communities.models import Community
from essaim.directory import selectors as directory_selectors
from essaim.http import Origin

from . import files, selectors, services
from .models import (
    ATTACHMENTS_MAX,
    BODY_MAX,
    CLIENT_ID_MAX,
    COMMENT_MAX,
    HASHTAG_MAX,
    POLL_OPTIONS_MAX,
    Attachment,
    Comment,
    Post,
    PostKind,
    ReactionKind,
)

router = Router(tags=["posts"])


class PersonOut(Schema):
    id: int
    display_name: str


class FileOut(Schema):
    id: int
    name: str
    mime: str
    kind: str
    size: int
    width: int | None
    height: int | None
    url: str
    thumbnail_url: str | None


class PollOptionOut(Schema):
    id: int
    label: str
    votes: int


class PollOut(Schema):
    multiple: bool
    anonymous: bool
    closes_at: datetime.datetime | None
    closed: bool
    options: list[PollOptionOut]
    my_votes: list[int]


class LinkOut(Schema):
    url: str
    title: str
    description: str
    site_name: str


class MyStateOut(Schema):
    read: bool
    acknowledged: bool
    saved: bool
    following: bool | None
    muted: bool


class PostOut(Schema):
    id: int
    kind: PostKind
    author: PersonOut
    community_id: int | None
    org_unit_id: int | None
    site_id: int | None
    body: str
    html: str
    must_read: bool
    pinned: bool
    created_at: datetime.datetime
    edited_at: datetime.datetime | None
    comment_count: int
    reaction_count: int
    reactions: dict[str, int]
    my_reaction: ReactionKind | None
    files: list[FileOut]
    poll: PollOut | None
    link: LinkOut | None
    me: MyStateOut
    can: list[str]


def file_out(attachment: Attachment) -> dict[str, Any]:
    url = reverse("api:file_download", kwargs={"file_id": attachment.pk})
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "mime": attachment.mime,
        "kind": attachment.kind,
        "size": attachment.size,
        "width": attachment.width,
        "height": attachment.height,
        "url": url,
        "thumbnail_url": f"{url}?thumbnail=1" if attachment.thumb_key else None,
    }


def post_out(post: Post) -> dict[str, Any]:
    """A post decorated by selectors.decorate."""
    poll = post.poll_data  # type: ignore[attr-defined]
    state = post.state  # type: ignore[attr-defined]
    link = post.link if post.link is not None and post.link.state == "ready" else None
    return {
        "id": post.pk,
        "kind": post.kind,
        "author": {"id": post.author.pk, "display_name": post.author.display_name},
        "community_id": post.community_id,
        "org_unit_id": post.org_unit_id,
        "site_id": post.site_id,
        "body": post.body,
        "html": post.html,
        "must_read": post.must_read,
        "pinned": post.pinned_at is not None,
        "created_at": post.created_at,
        "edited_at": post.edited_at,
        "comment_count": post.comment_count,
        "reaction_count": post.reaction_count,
        "reactions": post.reaction_counts,  # type: ignore[attr-defined]
        "my_reaction": post.my_reaction,  # type: ignore[attr-defined]
        "files": [file_out(a) for a in post.files],  # type: ignore[attr-defined]
        "poll": {
            "multiple": poll.multiple,
            "anonymous": poll.anonymous,
            "closes_at": poll.closes_at,
            "closed": poll.closed,
            "options": [
                {"id": o.pk, "label": o.label, "votes": o.vote_count} for o in poll.options.all()
            ],
            "my_votes": sorted(poll.my_votes),
        }
        if poll is not None
        else None,
        "link": {
            "url": link.final_url or link.url,
            "title": link.title,
            "description": link.description,
            "site_name": link.site_name,
        }
        if link is not None
        else None,
        "me": {
            "read": bool(state and state.read_at),
            "acknowledged": bool(state and state.acknowledged_at),
            "saved": bool(state and state.saved_at),
            "following": state.following if state else None,
            "muted": bool(state and state.muted),
        },
        "can": sorted(post.allowed - {"view"}),  # type: ignore[attr-defined]
    }


class FeedFilters(Schema):
    scope: Literal["home", "community", "profile", "saved", "hashtag"] = "home"
    community: Id | None = None
    person: Id | None = None
    hashtag: str = Field("", max_length=HASHTAG_MAX)
    kind: PostKind | None = None
    unread: bool = False
    order: Literal["latest", "relevant"] = "latest"
    cursor: str | None = Field(None, max_length=500)
    page_size: int = Field(selectors.PAGE_SIZE, ge=1, le=100)


class FeedOut(Schema):
    results: list[PostOut]
    pinned: list[PostOut]
    next: str | None


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError([{"loc": ("query", field), "msg": message}])


def feed_from(request: HttpRequest, filters: FeedFilters) -> selectors.Feed:
    """The feed that ``filters`` name; a community or person the viewer may not see is a
    404, and one a scope needs and lacks a 422."""
    me = viewer(request)
    community = (
        access.access_community(me, filters.community) if filters.community is not None else None
    )
    person = access.access_user(me, filters.person) if filters.person is not None else None
    if filters.scope == "community" and community is None:
        raise _invalid("community", "The community feed needs a community.")
    if filters.scope == "profile" and person is None:
        raise _invalid("person", "The profile feed needs a person.")
    if filters.scope == "hashtag" and not filters.hashtag.strip("# "):
        raise _invalid("hashtag", "The hashtag feed needs a hashtag.")
    return selectors.Feed(
        scope=filters.scope,
        community=community,
        person=person,
        hashtag=filters.hashtag.strip("# ").lower(),
        kind=filters.kind or "",
        unread=filters.unread,
    )


@router.get("/posts", response=FeedOut, summary="A feed: home, community, profile, saved, hashtag")
def feed(request: HttpRequest, filters: Query[FeedFilters]) -> dict[str, Any]:
    try:
        page = selectors.feed_page(
            viewer(request),
            feed_from(request, filters),
            order=filters.order,
            cursor=filters.cursor,
            size=filters.page_size,
        )
    except selectors.BadCursor:
        raise _invalid("cursor", "This cursor is not valid.") from None
    return {
        "results": [post_out(p) for p in page.posts],
        "pinned": [post_out(p) for p in page.pinned],
        "next": page.next_cursor,
    }


class PollIn(InSchema):
    options: list[str] = Field(min_length=2, max_length=POLL_OPTIONS_MAX)
    multiple: bool = False
    anonymous: bool = False
    closes_at: datetime.datetime | None = Field(None, strict=False)


class PostIn(InSchema):
    body: str = Field("", max_length=BODY_MAX)
    community: Id | None = None
    kind: PostKind = Field(PostKind.POST, strict=False)
    attachments: list[Id] = Field(default_factory=list, max_length=ATTACHMENTS_MAX)
    poll: PollIn | None = None
    must_read: bool = False
    org_unit: Id | None = None
    site: Id | None = None
    client_id: str = Field(
        "",
        max_length=CLIENT_ID_MAX,
        description="chosen by the client once per post: a retry never writes it twice",
    )


def _detail(request: HttpRequest, post_id: int) -> dict[str, Any]:
    return post_out(selectors.post_detail(viewer(request), post_id))


@router.post(
    "/posts",
    response={200: PostOut, 201: PostOut},
    summary="Publish a post (200: the same client_id was sent before)",
)
def post_create(request: HttpRequest, payload: PostIn) -> Status[Any]:
    started = timezone.now()
    me = viewer(request)
    community: Community | None = None
    if payload.community is not None:
        community = access.access_community(me, payload.community)
    org_unit, site = directory_selectors.places(me, payload.org_unit, payload.site)
    poll = payload.poll.dict() if payload.poll is not None else None
    post = services.post_create(
        actor=me,
        community=community,
        body=payload.body,
        kind=payload.kind,
        attachments=payload.attachments,
        poll=poll,
        must_read=payload.must_read,
        org_unit=org_unit,
        site=site,
        client_id=payload.client_id,
    )
    if payload.client_id and post.created_at < started:  # a retry: the post as it is now
        return Status(200, _detail(request, post.pk))
    selectors.decorate(me, [post])  # its author reads it: no need to read it again
    return Status(201, post_out(post))


# Before /posts/{post_id}: ninja orders routes by their first registration.
class ReadIn(InSchema):
    posts: list[Id] = Field(max_length=100)


class ReadOut(Schema):
    newly_read: int


@router.post("/posts/read", response=ReadOut, summary="Mark the posts shown as read")
def posts_read(request: HttpRequest, payload: ReadIn) -> dict[str, int]:
    me = viewer(request)
    shown = list(selectors.posts(me).filter(pk__in=payload.posts))
    return {"newly_read": services.posts_read(actor=me, posts=shown)}


@router.get("/posts/{post_id}", response=PostOut, summary="One post")
def post_get(request: HttpRequest, post_id: Id) -> dict[str, Any]:
    return _detail(request, post_id)


class PostEditIn(InSchema):
    body: str | None = Field(None, max_length=BODY_MAX)
    pinned: bool | None = None


@router.patch("/posts/{post_id}", response=PostOut, summary="Edit a post, pin or unpin it")
def post_edit(request: HttpRequest, post_id: Id, payload: PostEditIn) -> dict[str, Any]:
    me = viewer(request)
    post = access.access_post(me, post_id)
    with transaction.atomic():  # both changes or neither
        if payload.body is not None:
            services.post_edit(actor=me, post=post, body=payload.body)
        if payload.pinned is not None:
            services.post_pin(actor=me, post=post, pinned=payload.pinned)
    return _detail(request, post_id)


@router.delete("/posts/{post_id}", response={204: None}, summary="Delete a post")
def post_delete(request: HttpRequest, post_id: Id) -> Status[None]:
    me = viewer(request)
    services.post_delete(actor=me, origin=Origin.of(request), post=access.access_post(me, post_id))
    return Status(204, None)


class RevisionOut(Schema):
    body: str
    created_at: datetime.datetime


@router.get("/posts/{post_id}/revisions", response=list[RevisionOut], summary="Earlier texts")
def post_revisions(request: HttpRequest, post_id: Id) -> Any:
    me = viewer(request)
    return list(selectors.revisions_of(me, access.access_post(me, post_id))[:100])


class StateIn(InSchema):
    saved: bool | None = None
    following: bool | None = None
    muted: bool | None = None
    read: bool | None = None
    acknowledged: bool | None = None


@router.patch(
    "/posts/{post_id}/me", response=PostOut, summary="Save, follow, mute, read, acknowledge"
)
def post_state(request: HttpRequest, post_id: Id, payload: StateIn) -> dict[str, Any]:
    me = viewer(request)
    post = access.access_post(me, post_id)
    services.post_state_set(actor=me, post=post, **payload.dict())
    return _detail(request, post_id)


class TrackingOut(Schema):
    audience: int
    read: int
    acknowledged: int
    waiting: list[PersonOut]


@router.get("/posts/{post_id}/tracking", response=TrackingOut, summary="Who read and acknowledged")
def post_tracking(request: HttpRequest, post_id: Id) -> Any:
    me = viewer(request)
    return selectors.tracking(me, access.access_post(me, post_id))


class RemindOut(Schema):
    reminded: int


@router.post(
    "/posts/{post_id}/remind", response=RemindOut, summary="Remind who did not acknowledge"
)
def post_remind(request: HttpRequest, post_id: Id) -> dict[str, int]:
    me = viewer(request)
    post = access.access_post(me, post_id)
    return {"reminded": services.remind_unacknowledged(actor=me, post=post)}


# --- Reactions, polls -------------------------------------------------------------------


class ReactionIn(InSchema):
    kind: ReactionKind | None = Field(strict=False)


class ReactionsOut(Schema):
    reactions: dict[str, int]


class ReactorOut(Schema):
    user: PersonOut
    kind: ReactionKind
    created_at: datetime.datetime


@router.put("/posts/{post_id}/reaction", response=ReactionsOut, summary="React (null: remove)")
def post_react(request: HttpRequest, post_id: Id, payload: ReactionIn) -> dict[str, Any]:
    me = viewer(request)
    post = access.access_post(me, post_id)
    return {"reactions": services.react(actor=me, post=post, kind=payload.kind)}


@router.get("/posts/{post_id}/reactions", response=list[ReactorOut], summary="Who reacted")
def post_reactors(request: HttpRequest, post_id: Id) -> Any:
    me = viewer(request)
    return [
        {"user": r.user, "kind": r.kind, "created_at": r.created_at}
        for r in selectors.reactions_of(me, access.access_post(me, post_id))[:200]
    ]


class VoteIn(InSchema):
    options: list[Id] = Field(min_length=1, max_length=POLL_OPTIONS_MAX)


class VotesOut(Schema):
    votes: dict[int, int]


@router.put("/posts/{post_id}/vote", response=VotesOut, summary="Vote in a post's poll")
def post_vote(request: HttpRequest, post_id: Id, payload: VoteIn) -> dict[str, Any]:
    me = viewer(request)
    post = access.access_post(me, post_id)
    return {"votes": services.poll_vote(actor=me, post=post, options=payload.options)}


# --- Comments ---------------------------------------------------------------------------


class CommentOut(Schema):
    id: int
    post_id: int
    parent_id: int | None
    author: PersonOut
    body: str
    html: str
    created_at: datetime.datetime
    edited_at: datetime.datetime | None
    reactions: dict[str, int]
    my_reaction: ReactionKind | None
    files: list[FileOut]
    can: list[str]
    replies: list[CommentOut] = []


def comment_out(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "post_id": comment.post_id,
        "parent_id": comment.parent_id,
        "author": {"id": comment.author.pk, "display_name": comment.author.display_name},
        "body": comment.body,
        "html": comment.html,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "reactions": comment.reaction_counts,  # type: ignore[attr-defined]
        "my_reaction": comment.my_reaction,  # type: ignore[attr-defined]
        "files": [file_out(a) for a in comment.files],  # type: ignore[attr-defined]
        "can": sorted(comment.allowed - {"view"}),  # type: ignore[attr-defined]
        "replies": [comment_out(r) for r in getattr(comment, "replies_list", [])],
    }


def _comment(request: HttpRequest, comment: Comment) -> dict[str, Any]:
    """A comment as its post's thread shows it (with its replies)."""
    me = viewer(request)
    for top in selectors.comments_of(me, comment.post):
        for found in (top, *top.replies_list):  # type: ignore[attr-defined]
            if found.pk == comment.pk:
                return comment_out(found)
    raise access.NotFound


@router.get("/posts/{post_id}/comments", response=list[CommentOut], summary="A post's comments")
def comment_list(request: HttpRequest, post_id: Id) -> Any:
    me = viewer(request)
    return [comment_out(c) for c in selectors.comments_of(me, access.access_post(me, post_id))]


class CommentIn(InSchema):
    body: str = Field("", max_length=COMMENT_MAX)
    parent: Id | None = None
    attachments: list[Id] = Field(default_factory=list, max_length=ATTACHMENTS_MAX)


@router.post("/posts/{post_id}/comments", response={201: CommentOut}, summary="Comment")
def comment_create(request: HttpRequest, post_id: Id, payload: CommentIn) -> Status[Any]:
    me = viewer(request)
    post = access.access_post(me, post_id)
    parent = None
    if payload.parent is not None:
        parent = access.access_comment(me, payload.parent)
    comment = services.comment_create(
        actor=me, post=post, body=payload.body, parent=parent, attachments=payload.attachments
    )
    return Status(201, _comment(request, comment))


class CommentEditIn(InSchema):
    body: str = Field(max_length=COMMENT_MAX)


@router.patch("/comments/{comment_id}", response=CommentOut, summary="Edit a comment")
def comment_edit(request: HttpRequest, comment_id: Id, payload: CommentEditIn) -> dict[str, Any]:
    me = viewer(request)
    comment = access.access_comment(me, comment_id)
    services.comment_edit(actor=me, comment=comment, body=payload.body)
    return _comment(request, comment)


@router.delete("/comments/{comment_id}", response={204: None}, summary="Delete a comment")
def comment_delete(request: HttpRequest, comment_id: Id) -> Status[None]:
    me = viewer(request)
    comment = access.access_comment(me, comment_id)
    services.comment_delete(actor=me, origin=Origin.of(request), comment=comment)
    return Status(204, None)


@router.put("/comments/{comment_id}/reaction", response=ReactionsOut, summary="React to a comment")
def comment_react(request: HttpRequest, comment_id: Id, payload: ReactionIn) -> dict[str, Any]:
    me = viewer(request)
    comment = access.access_comment(me, comment_id)
    counts = services.react(actor=me, post=comment.post, comment=comment, kind=payload.kind)
    return {"reactions": counts}


# --- Files ------------------------------------------------------------------------------


@router.post("/files", response={201: FileOut}, summary="Upload a file to attach to a post")
def file_upload(request: HttpRequest, file: File[UploadedFile]) -> Status[Any]:
    attachment = services.attachment_upload(
        actor=viewer(request), upload=file, name=file.name or ""
    )
    return Status(201, file_out(attachment))


@router.get(
    "/files/{file_id}", response={200: None}, summary="Download a file", url_name="file_download"
)
def file_download(request: HttpRequest, file_id: Id, thumbnail: bool = False) -> HttpResponseBase:
    """Checked against the access policy at every download: the file's post decides."""
    found = selectors.attachment(viewer(request), file_id)
    return files.attachment_response(found, thumbnail=thumbnail)


@router.get(
    "/communities/{community_id}/files", response=list[FileOut], summary="A community's files"
)
def community_files(request: HttpRequest, community_id: Id) -> Any:
    me = viewer(request)
    community = access.access_community(me, community_id, "read")
    return [file_out(a) for a in selectors.community_files(me, community)[:200]]
