"""A Hypothesis state machine over posts (SECURITY.md #1, 2, 4, 5, 6, 7, 9, 17): it creates
communities of each visibility, moves people in and out of them and up and down their roles,
turns them public, private, secret or external, archives and restores them, deactivates,
reactivates, moves (org unit, site) and follows people, and posts in communities, on
profiles and as company announcements (to everyone, an org unit and the one below it, a
site), comments, replies, reacts, edits, pins, deletes, uploads and attaches files and
mentions people — through the services, as the app does. After every step, each person's
surfaces are compared with Model, written from the rules of access.py's docstrings and
docs/architecture.md ("Posts, comments and the feed"), never from access.py: view of each
post, comment and file; selectors.posts, the home and hashtag feeds, comments_of,
community_files; what the search index answers for posts, comments and files (before any
reading again through the policy); the actions of post_permissions and
comment_permissions; the mentions recorded; the events each person may read that were
written during the step. The seed is printed (ESSAIM_POSTS_SEED=<seed> replays a run)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from essaim import access
from essaim.accounts import services as account_services
from essaim.accounts.models import Role as GlobalRole
from essaim.accounts.models import User, UserKind, UserRole
from essaim.accounts.services import ServiceError
from essaim.communities import services as cs
from essaim.communities.models import Community, Invitation, Visibility
from essaim.content import selectors, services
from essaim.content.models import Attachment, Comment, Mention, Post
from essaim.directory import services as directory_services
from essaim.directory.models import Profile
from essaim.http import CLI
from essaim.realtime import events
from essaim.realtime.models import Event
from essaim.search.engine import Filters, Request, engine
from essaim.search.indexer import index_pending
from essaim.search.query import parse
from tests.conftest import Personas, make_user
from tests.machines import run_machine

MIN_STEPS = 200
STEPS_PER_RUN = 25  # at most, in one example
# The personas (but compliance: for posts, an outsider), a communications officer, a customer.
NAMES = ("owner", "member", "outsider", "external", "animator", "moderator", "hr", "admin",
         "deactivated", "comms", "guest")  # fmt: skip
VISIBILITIES = [v.value for v in Visibility]
RUNNERS, WRITERS = ("owner", "animator"), ("owner", "animator", "member")
OPEN = ("public", "external")  # every employee reads them
ANNOUNCEMENT = "announcement"
TARGETS = ("all", "top", "sales", "lyon")  # a company announcement's audience
UNITS = {"member": ("top", "sales"), "owner": ("top",)}  # one's unit and those above it
SITES = {"hr": "lyon"}
CREWS = {  # who is in the communities every run starts with, besides an animator and a member
    "public": [("hr", "reader")],
    "private": [("hr", "reader"), ("admin", "reader")],
    "secret": [("comms", "member"), ("moderator", "reader")],
    "external": [("external", "member"), ("admin", "member"), ("guest", "reader")],
}
POST_ACTIONS = frozenset({"edit", "delete", "comment", "react", "vote", "pin"})
COMMENT_ACTIONS = frozenset({"edit", "delete", "react"})
NO = object()  # what Posts.call answers for a refused write


@dataclass(frozen=True)
class Person:
    pk: int
    employee: bool
    admin: bool
    roles: frozenset[str]  # global roles: moderator, communications …


@dataclass
class Place:
    visibility: str
    archived: bool = False
    roles: dict[str, str] = field(default_factory=dict)  # person → role
    # person → (role, inviter): invite skips whoever holds a live one (its inviter
    # active), and accepting it gives that role, whatever a later invite asked for.
    invited: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class PostFact:
    author: str
    community: int | None
    kind: str = "post"
    target: str | None = None  # of a company announcement
    tag: bool = False  # carries #alpha
    link: int | None = None  # links to another post: /posts/<id>/
    deleted: bool = False


@dataclass
class CommentFact:
    author: str
    post: int
    parent: int | None = None
    deleted: bool = False


@dataclass
class FileFact:
    uploader: str
    post: int | None = None
    comment: int | None = None


@dataclass
class Model:
    """Who reads and may do what, from the documented rules and plain facts."""

    people: dict[str, Person]
    active: set[str]
    places: dict[int, Place] = field(default_factory=dict)
    follows: set[tuple[str, str]] = field(default_factory=set)
    posts: dict[int, PostFact] = field(default_factory=dict)
    comments: dict[int, CommentFact] = field(default_factory=dict)
    files: dict[int, FileFact] = field(default_factory=dict)
    units: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(UNITS))
    sites: dict[str, str] = field(default_factory=lambda: dict(SITES))

    def insider(self, n: str) -> bool:
        """Employees and administrators, while active."""
        return n in self.active and (self.people[n].employee or self.people[n].admin)

    def has(self, n: str, role: str) -> bool:
        """A global role; administrators hold them all."""
        return n in self.active and (self.people[n].admin or role in self.people[n].roles)

    def reads(self, n: str, pk: int) -> bool:
        """A community's content: its members; every employee when it is public or
        external; a customer, the external ones they are in."""
        place = self.places[pk]
        if self.insider(n):
            return n in place.roles or place.visibility in OPEN
        return n in self.active and n in place.roles and place.visibility == "external"

    def sees_post(self, n: str, pk: int, *, even_deleted: bool = False) -> bool:
        post = self.posts[pk]
        if post.deleted and not even_deleted:
            return False
        if post.community is not None:
            return self.reads(n, post.community)  # where it is now, as it is now
        if not self.insider(n):  # profiles and company announcements: employees
            return False
        if post.kind != ANNOUNCEMENT or post.target == "all":
            return True
        reached = post.target in self.units.get(n, ()) or post.target == self.sites.get(n)
        return reached or n == post.author or self.has(n, "communications")

    def sees_comment(self, n: str, pk: int, *, even_deleted: bool = False) -> bool:
        comment = self.comments[pk]
        return (even_deleted or not comment.deleted) and self.sees_post(n, comment.post)

    def sees_file(self, n: str, pk: int) -> bool:
        """A file: as its comment or post; unattached, its uploader's alone."""
        found = self.files[pk]
        if found.comment is not None:
            return self.sees_comment(n, found.comment)
        if found.post is not None:
            return self.sees_post(n, found.post)
        return n in self.active and found.uploader == n

    def may_publish(self, n: str, community: int | None, kind: str) -> bool:
        """In a community: its writers, announcements its owners and animators, while it
        is not archived; on one's profile: employees; company announcements:
        communications (and administrators)."""
        if n not in self.active:
            return False
        if community is None:
            return self.has(n, "communications") if kind == ANNOUNCEMENT else self.insider(n)
        place = self.places[community]
        role = place.roles.get(n)
        return not place.archived and role in (RUNNERS if kind == ANNOUNCEMENT else WRITERS)

    def post_actions(self, n: str, pk: int) -> set[str]:
        if not self.sees_post(n, pk):
            return set()
        post = self.posts[pk]
        place = self.places[post.community] if post.community is not None else None
        live = place is None or not place.archived  # archived: no comment, reaction, pin
        if place is not None:
            role = place.roles.get(n)
            pin = live and (role in RUNNERS or self.people[n].admin)  # who manages it
            comment = live and (role in WRITERS or (self.insider(n) and place.visibility in OPEN))
        else:  # every employee who reads it comments
            pin, comment = n == post.author, True
            if post.kind == ANNOUNCEMENT:
                pin = self.has(n, "communications")
        found = {"react", "vote"} if live else set()
        found |= {"comment"} if comment else set()
        found |= {"pin"} if pin else set()
        if n == post.author and self.may_publish(n, post.community, post.kind):
            found.add("edit")
        if n == post.author or self.has(n, "moderator") or pin:
            found.add("delete")
        return found

    def comment_actions(self, n: str, pk: int) -> set[str]:
        """Its author edits it while they may comment; its author and whoever may delete
        the post delete it; whoever may react to the post reacts."""
        if not self.sees_comment(n, pk):
            return set()
        mine, on_post = self.comments[pk].author == n, self.post_actions(n, self.comments[pk].post)
        found = {"edit"} if mine and "comment" in on_post else set()
        found |= {"delete"} if mine or "delete" in on_post else set()
        return found | ({"react"} & on_post)

    def receives(self, n: str, kind: str, data: dict[str, Any]) -> bool:
        """An event about a post or comment: for whoever reads it now (a deletion's: as if
        it were not deleted)."""
        post, comment = data.get("post"), data.get("comment")
        if post is not None and not self.sees_post(n, post, even_deleted=kind == "post.deleted"):
            return False
        return comment is None or self.sees_comment(
            n, comment, even_deleted=kind == "comment.deleted"
        )

    def names(self, author: str, person: str) -> bool:
        """Whom a mention records: an active person the author sees (employees see
        everyone, a customer the members of their external communities) who reads it."""
        if person not in self.active:
            return False
        return self.insider(author) or author == person or any(
            p.visibility == "external" and author in p.roles and person in p.roles
            for p in self.places.values()
        )  # fmt: skip

    def home(self, n: str, seen: set[int]) -> set[int]:
        """My communities, the people I follow, company announcements, my own posts."""
        mine = {pk for pk, place in self.places.items() if n in place.roles}
        authors = {b for a, b in self.follows if a == n} | {n}
        announcements = {pk for pk, p in self.posts.items() if p.kind == ANNOUNCEMENT}
        return {
            pk for pk in seen
            if self.posts[pk].community in mine or self.posts[pk].author in authors
            or (self.posts[pk].community is None and pk in announcements)
        }  # fmt: skip


class Posts(RuleBasedStateMachine):
    steps = checked = probes = 0
    people: dict[str, Person] = {}
    targets: dict[str, dict[str, Any]] = {}  # post_create's org_unit or site for TARGETS

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        engine().clear()  # the embedded index is files: what earlier runs rolled back stays
        active = {n for n, p in self.people.items() if User.objects.get(pk=p.pk).is_active}
        self.m = Model(dict(self.people), active)
        for visibility, crew in CREWS.items():
            pk = self.new_community("owner", visibility)
            for person, role in [("animator", "animator"), ("member", "member"), *crew]:
                assert self.enrol(pk, "owner", person, role)
        self.age()
        self.position: int | None = None  # the last event number at the last check
        self.changed = True  # by a write, since the last check

    def age(self) -> None:
        """Something to read from the first step, in states that test rules at once: posts,
        files and comments; the member who commented in the private community now only
        reads it; the secret one is archived; a profile post, an announcement to Sales."""
        public, private, secret, external = sorted(self.m.places)  # in CREWS' order
        for pk in (public, secret):
            self.write_post(PostFact("member", pk, tag=True), [])
        for pk, author, commenter in (
            (private, "animator", "member"),
            (external, "external", "owner"),
        ):
            self.upload(author)
            self.upload(commenter)
            post = self.write_post(PostFact(author, pk, tag=True), self.pending(author, True))
            assert self.write_comment(commenter, post, None, self.pending(commenter, True))
        by = {"actor": self.user("owner"), "origin": CLI}
        community = Community.objects.get(pk=private)
        assert self.did(
            cs.role_set, **by, community=community, person=self.user("member"), role="reader"
        )
        self.m.places[private].roles["member"] = "reader"
        assert self.did(cs.community_archive, **by, community=Community.objects.get(pk=secret))
        self.m.places[secret].archived = True
        self.write_post(PostFact("outsider", None), [])
        self.write_post(PostFact("comms", None, ANNOUNCEMENT, "sales"), [])

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- helpers -------------------------------------------------------------------------

    def user(self, name: str) -> User:
        return User.objects.get(pk=self.people[name].pk)  # fresh: as each request loads it

    def call(self, expected: bool | None, service: Callable[..., Any], **kwargs: Any) -> Any:
        """A content write, through its service: it must succeed exactly when the model
        allows it; NO when it is refused."""
        try:
            done = service(**kwargs)
        except (access.Forbidden, ServiceError):
            assert not expected, f"{service.__name__} refused, but the model allows it"
            return NO
        assert expected is not False, f"{service.__name__} done, but the model refuses it"
        self.changed = True
        return done

    def did(self, service: Callable[..., Any], **kwargs: Any) -> bool:
        """A community or people write: the model follows what was done (who may do it
        is tests/test_communities_state.py's business)."""
        return self.call(None, service, **kwargs) is not NO

    def new_community(self, person: str, visibility: str) -> int:
        name = f"c{len(self.m.places)}"
        made = cs.community_create(
            actor=self.user(person), origin=CLI, name=name, visibility=visibility
        )
        self.m.places[made.pk] = Place(visibility, roles={person: "owner"})
        return made.pk

    def enrol(self, pk: int, actor: str, person: str, role: str) -> bool:
        """An invitation, accepted at once."""
        community, invitee = Community.objects.get(pk=pk), self.user(person)
        kwargs = {"origin": CLI, "community": community, "people": [invitee], "role": role}
        if not self.did(cs.invite, actor=self.user(actor), **kwargs):
            return False
        place = self.m.places[pk]
        earlier = place.invited.get(person)
        if person not in place.roles and not (earlier and earlier[1] in self.m.active):
            place.invited[person] = (role, actor)
        invitation = Invitation.objects.filter(community=community, user=invitee).first()
        if invitation is None or not self.did(
            cs.invitation_answer, actor=invitee, invitation=invitation, accept=True
        ):
            return False  # already in, or refused (the invitation stays)
        place.roles.setdefault(person, place.invited.pop(person)[0])
        return True

    def write_post(self, fact: PostFact, files: list[int], named: str | None = None) -> int:
        """Publish (with files, naming someone, linking to a post): done exactly when the
        model allows it; returns the post, 0 when refused."""
        words = ("News #alpha" if fact.tag else "News") + (
            f" /posts/{fact.link}/" * bool(fact.link)
        )
        place = Community.objects.get(pk=fact.community) if fact.community else None
        made = self.call(
            self.m.may_publish(fact.author, fact.community, fact.kind), services.post_create,
            actor=self.user(fact.author), body=self.text(words, named), community=place,
            kind=fact.kind, attachments=files, **self.targets.get(fact.target or "", {}),
        )  # fmt: skip
        if made is NO:
            return 0
        self.m.posts[made.pk] = fact
        for pk in files:
            self.m.files[pk].post = made.pk
        self.mentioned(fact.author, named, made.pk, None)
        return made.pk

    def write_comment(
        self, author: str, post: int, parent: int | None, files: list[int], named: str | None = None
    ) -> int:
        """Comment, or reply (to a reply: in the same thread); returns it, 0 when refused."""
        made = self.call(
            "comment" in self.m.post_actions(author, post), services.comment_create,
            actor=self.user(author), post=Post.objects.get(pk=post), attachments=files,
            body=self.text("Yes", named), parent=parent and Comment.objects.get(pk=parent),
        )  # fmt: skip
        if made is NO:
            return 0
        top = (self.m.comments[parent].parent or parent) if parent else None  # one level
        self.m.comments[made.pk] = CommentFact(author, post, top)
        for pk in files:
            self.m.files[pk].post, self.m.files[pk].comment = post, made.pk
        self.mentioned(author, named, post, made.pk)
        return made.pk

    def pending(self, person: str, attach: bool) -> list[int]:
        """The person's uploads not attached yet, when they attach them."""
        mine = [pk for pk, f in self.m.files.items() if f.uploader == person and f.post is None]
        return sorted(mine) if attach else []

    def text(self, words: str, person: str | None) -> str:
        return words + (f" @**{person.capitalize()}|{self.people[person].pk}**" if person else "")

    def mentioned(self, author: str, person: str | None, post: int, comment: int | None) -> None:
        found = Mention.objects.filter(post_id=post, comment_id=comment, user__isnull=False)
        expected = set()
        if person is not None and self.m.names(author, person) and self.m.sees_post(person, post):
            expected = {self.people[person].pk}
        assert set(found.values_list("user_id", flat=True)) == expected, (author, person)

    name = st.sampled_from(NAMES)

    def pick(self, data: st.DataObject, pool: Any, label: str) -> Any:
        return data.draw(st.sampled_from(sorted(pool)), label=label)

    # --- communities and people ----------------------------------------------------------

    @rule(person=name, visibility=st.sampled_from(VISIBILITIES))
    def create_community(self, person: str, visibility: str) -> None:
        self.did(self.new_community, person=person, visibility=visibility)

    @rule(data=st.data(), change=st.sampled_from([*VISIBILITIES, "archive", "restore"]))
    def configure(self, data: st.DataObject, change: str) -> None:
        pk = self.pick(data, self.m.places, "community")
        place = self.m.places[pk]
        actor = self.user(self.pick(data, {*place.roles, "admin", "outsider"}, "actor"))
        by = {"actor": actor, "origin": CLI, "community": Community.objects.get(pk=pk)}
        if change in VISIBILITIES:
            if self.did(cs.community_update, changes={"visibility": change}, **by):
                place.visibility = change
        elif self.did(cs.community_archive, archived=change == "archive", **by):
            place.archived = change == "archive"

    @rule(data=st.data(), op=st.sampled_from(("join", "enrol", "role", "remove", "leave")),
          role=st.sampled_from(("owner", "animator", "member", "reader")))  # fmt: skip
    def membership(self, data: st.DataObject, op: str, role: str) -> None:
        pk = self.pick(data, self.m.places, "community")
        place, community = self.m.places[pk], Community.objects.get(pk=pk)
        actor = self.pick(data, {*place.roles, "admin"}, "actor")
        name = self.pick(data, NAMES if op in ("join", "enrol") else place.roles, "person")
        person = self.user(name)
        by = {"actor": self.user(actor), "origin": CLI, "community": community}
        if op == "enrol":
            self.enrol(pk, actor, name, role)
        elif op == "join" and self.did(cs.join, actor=person, community=community):
            place.roles.setdefault(name, "member")
            place.invited.pop(name, None)
        elif op == "role" and self.did(cs.role_set, **by, person=person, role=role):
            place.roles[name] = role
        elif (op == "remove" and self.did(cs.member_remove, **by, person=person)) or (
            op == "leave" and self.did(cs.leave, actor=person, community=community)
        ):
            place.roles.pop(name)

    @rule(person=st.sampled_from([n for n in NAMES if n != "admin"]), active=st.booleans())
    def activity(self, person: str, active: bool) -> None:
        change = account_services.user_reactivate if active else account_services.user_deactivate
        self.call(None, change, actor=self.user("admin"), origin=CLI, user=self.user(person))
        (self.m.active.add if active else self.m.active.discard)(person)

    @rule(person=st.sampled_from(("member", "owner", "outsider", "comms", "hr")),
          unit=st.sampled_from(("", "top", "sales")), site=st.booleans())  # fmt: skip
    def move(self, person: str, unit: str, site: bool) -> None:
        """HR moves someone: the announcements of their old unit or site stay behind."""
        where = {"org_unit": self.targets.get(unit, {}).get("org_unit"),
                 "site": self.targets["lyon"]["site"] if site else None}  # fmt: skip
        admin, moved = self.user("admin"), self.user(person)
        self.call(
            None,
            directory_services.profile_update,
            actor=admin,
            person=moved,
            origin=CLI,
            changes=where,
        )
        self.m.units[person] = {"": (), "top": ("top",), "sales": ("top", "sales")}[unit]
        self.m.sites[person] = "lyon" if site else ""

    @rule(follower=name, person=name, on=st.booleans())
    def follow(self, follower: str, person: str, on: bool) -> None:
        change = directory_services.follow if on else directory_services.unfollow
        if self.did(change, actor=self.user(follower), person=self.user(person)):
            (self.m.follows.add if on else self.m.follows.discard)((follower, person))

    # --- content -------------------------------------------------------------------------

    @rule(person=name)
    def upload(self, person: str) -> None:
        made = self.call(
            person in self.m.active, services.attachment_upload, actor=self.user(person),
            upload=io.BytesIO(b"figures\n"), name="notes.txt",
        )  # fmt: skip
        if made is not NO:
            self.m.files[made.pk] = FileFact(person)

    @rule(data=st.data(), where=st.sampled_from(("community", "community", "profile", "company")),
          tag=st.booleans(), attach=st.booleans())  # fmt: skip
    def post(self, data: st.DataObject, where: str, tag: bool, attach: bool) -> None:
        community, kind, target = None, "post", None
        if where == "community":
            community = self.pick(data, self.m.places, "community")
            author = self.pick(data, {*self.m.places[community].roles, "admin"}, "author")
            kind = data.draw(st.sampled_from(("post", ANNOUNCEMENT)), label="kind")
        elif where == "profile":
            author = data.draw(self.name, label="author")
        else:
            author = data.draw(st.sampled_from(("comms", "admin", "member")), label="author")
            kind, target = ANNOUNCEMENT, data.draw(st.sampled_from(TARGETS), label="target")
        named = data.draw(st.none() | self.name, label="mention")
        link = data.draw(st.sampled_from([None, *sorted(self.m.posts)]), label="link")
        fact = PostFact(author, community, kind, target, tag, link)
        self.write_post(fact, self.pending(author, attach), named)

    @precondition(lambda self: self.m.posts)
    @rule(data=st.data(), author=name, attach=st.booleans())
    def comment(self, data: st.DataObject, author: str, attach: bool) -> None:
        post = self.pick(data, self.m.posts, "post")
        live = [c for c, f in self.m.comments.items() if f.post == post and not f.deleted]
        parent = data.draw(st.sampled_from([None, *live]), label="parent")
        named = data.draw(st.none() | self.name, label="mention")
        self.write_comment(author, post, parent, self.pending(author, attach), named)

    @precondition(lambda self: self.m.posts)
    @rule(data=st.data(), person=name, kind=st.sampled_from(("like", None)), on=st.booleans())
    def react(self, data: st.DataObject, person: str, kind: str | None, on: bool) -> None:
        if on and self.m.comments:  # on a comment
            pk = self.pick(data, self.m.comments, "comment")
            comment, allowed = Comment.objects.get(pk=pk), self.m.comment_actions(person, pk)
            post = comment.post
        else:
            post, comment = Post.objects.get(pk=self.pick(data, self.m.posts, "post")), None
            allowed = self.m.post_actions(person, post.pk)
        self.call(
            "react" in allowed, services.react, actor=self.user(person), post=post, kind=kind,
            comment=comment,
        )  # fmt: skip

    @precondition(lambda self: self.m.posts)
    @rule(data=st.data(), action=st.sampled_from(("edit", "delete", "pin", "unpin")))
    def change_post(self, data: st.DataObject, action: str) -> None:
        pk = self.pick(data, self.m.posts, "post")
        actor = self.pick(data, {self.m.posts[pk].author, *NAMES}, "actor")
        by = {"actor": self.user(actor), "post": Post.objects.get(pk=pk)}
        allowed = action.removeprefix("un") in self.m.post_actions(actor, pk)
        if action == "edit":  # the right to publish there is asked again
            body = "News again #alpha" if self.m.posts[pk].tag else "News again"
            if self.call(allowed, services.post_edit, **by, body=body) is not NO:
                self.m.posts[pk].link = None
        elif action == "delete":
            if self.call(allowed, services.post_delete, **by, origin=CLI) is not NO:
                self.m.posts[pk].deleted = True
        else:
            self.call(allowed, services.post_pin, **by, pinned=action == "pin")

    @precondition(lambda self: self.m.comments)
    @rule(data=st.data(), delete=st.booleans())
    def change_comment(self, data: st.DataObject, delete: bool) -> None:
        pk = self.pick(data, self.m.comments, "comment")
        actor = self.pick(data, {self.m.comments[pk].author, *NAMES}, "actor")
        by = {"actor": self.user(actor), "comment": Comment.objects.get(pk=pk)}
        allowed = ("delete" if delete else "edit") in self.m.comment_actions(actor, pk)
        if not delete:
            self.call(allowed, services.comment_edit, **by, body="Yes again")
        elif self.call(allowed, services.comment_delete, **by, origin=CLI) is not NO:
            for c, fact in self.m.comments.items():  # its replies go with it
                fact.deleted = fact.deleted or c == pk or fact.parent == pk

    # --- the check -----------------------------------------------------------------------

    @invariant()
    def every_surface_agrees(self) -> None:
        Posts.steps += self.position is not None  # not the check after set-up
        if self.position is not None and not self.changed:
            return  # every write was refused: the answers are those of the last check
        self.changed, Posts.checked = False, Posts.checked + 1
        events.publish()  # what on_commit does, outside the test's transaction
        start = self.position or 0
        written = Event.objects.filter(seq__gt=start).values_list("data", flat=True)
        about_posts = any("post" in data for data in written)  # only those are checked
        objects = {
            "post": Post.objects.select_related("community").in_bulk(),
            "comment": Comment.objects.select_related("post__community").in_bulk(),
            "file": Attachment.objects.select_related("post__community", "comment").in_bulk(),
        }
        checks = self.audiences(objects, start if about_posts else None)
        index_pending()
        for name in NAMES:
            found = self.surfaces(name, self.user(name), objects, start if about_posts else None)
            checks += [((name, what), got, wanted) for what, got, wanted in found]
        for what, got, wanted in checks:
            assert got == wanted, (what, got, wanted)
        Posts.probes += len(checks)
        self.position = events.head_now()

    def surfaces(
        self, name: str, user: User, objects: dict[str, dict[int, Any]], start: int | None
    ) -> list[tuple[Any, Any, Any]]:
        """(what, what the app says, what the model says) for every surface of ``name``."""
        m, posts = self.m, objects["post"]
        seen = {pk for pk in m.posts if m.sees_post(name, pk)}
        tagged = {pk for pk in seen if m.posts[pk].tag}
        sees = {"post": m.sees_post, "comment": m.sees_comment, "file": m.sees_file}
        home = selectors.feed_page(user, selectors.Feed("home"), size=100).posts
        tag = selectors.post_queryset(user, selectors.Feed("hashtag", hashtag="alpha"))  # its posts
        visible = {"comment": ids(access.visible(user, Comment.objects.all())),
                   "file": ids(access.visible(user, Attachment.objects.all()))}  # fmt: skip
        checks = [
            ("posts", ids(selectors.posts(user)), seen),
            ("comments", visible["comment"], {c for c in m.comments if m.sees_comment(name, c)}),
            ("files", visible["file"], {f for f in m.files if m.sees_file(name, f)}),
            ("home", {p.pk for p in home}, m.home(name, seen)),
            ("#alpha", ids(tag), tagged),
        ]
        for kind, word in SEARCHED.items():  # every post says "news", comment "yes" …
            wanted = {pk for pk in objects[kind] if sees[kind](name, pk)}
            if kind == "file":  # … and file "notes": attached ones (the others are not indexed)
                wanted = {pk for pk in wanted if m.files[pk].post is not None}
            checks.append((("search", kind), searched(user, kind, word), wanted))
        for shown in home:  # a link to a post: a card for its readers only
            link = m.posts[shown.pk].link
            card = link is not None and m.sees_post(name, link)
            checks.append((("card", shown.pk), shown.internal_card is not None, card))  # type: ignore[attr-defined]
        for kind, found in objects.items():
            checks += [((kind, pk), access.can(user, "view", o), sees[kind](name, pk))
                       for pk, o in found.items()]  # fmt: skip
        allowed = access.post_permissions(user, [posts[pk] for pk in sorted(seen)])
        readable = [c for c in objects["comment"].values() if c.pk in visible["comment"]]
        for pk in sorted(seen):  # what a page says one may do to a post and its comments
            checks.append((("actions", pk), allowed[pk] & POST_ACTIONS, m.post_actions(name, pk)))
            on_post = [c for c in readable if c.post_id == pk]
            rights = access.comment_permissions(user, on_post, allowed[pk])
            checks += [(("comment actions", c.pk), rights[c.pk] & COMMENT_ACTIONS,
                        m.comment_actions(name, c.pk)) for c in on_post]  # fmt: skip
        commented = sorted({c.post_id for c in objects["comment"].values()} & seen)
        for pk in commented[Posts.checked % max(len(commented), 1) :][:1]:  # one, in turn
            listed = [
                r for c in selectors.comments_of(user, posts[pk]) for r in [c, *c.replies_list]
            ]
            wanted = {c for c, f in m.comments.items() if f.post == pk and m.sees_comment(name, c)}
            checks.append((("comments of", pk), {c.pk for c in listed}, wanted))
        with_files = sorted(
            {m.posts[f.post].community for f in m.files.values() if f.post} - {None}
        )
        for pk in with_files[Posts.checked % max(len(with_files), 1) :][:1]:  # one, in turn
            shown = ids(selectors.community_files(user, Community(pk=pk)))
            inside = {f for f, x in m.files.items() if x.post and m.posts[x.post].community == pk}
            wanted = {f for f in inside if m.sees_file(name, f)}
            checks.append((("files of", pk), shown, wanted))
        if start is not None:  # no event about a post or comment they may not read now
            batch = events.after(user, start, limit=1000)
            checks.append(("resync", batch.resync, False))
            checks += [
                ((e.type, e.seq), m.receives(name, e.type, e.data), True) for e in batch.events
            ]
        return checks

    def audiences(self, objects: dict[str, dict[int, Any]], start: int | None) -> list[Any]:
        """The policy's third form: who receives each object; and what the WebSocket hub
        delivers (events.fan_out) of the events written since the last check."""
        m, pks = self.m, {self.people[n].pk: n for n in NAMES}
        sees = {"post": m.sees_post, "comment": m.sees_comment, "file": m.sees_file}
        checks = []
        for kind, found in objects.items():
            for pk, obj in found.items():
                wanted = {p for p, n in pks.items() if sees[kind](n, pk)}
                got = ids(access.audience(obj)) & set(pks)
                checks.append((("audience", kind, pk), got, wanted))
        for event, users in events.fan_out(start, pks).deliveries if start is not None else []:
            for name in (pks[u] for u in users):
                said = m.receives(name, event.type, event.data)
                checks.append((("delivered", event.type, event.seq, name), said, True))
        return checks


def ids(found: Any) -> set[int]:
    return set(found.values_list("pk", flat=True))


SEARCHED = {"post": "news", "comment": "yes", "file": "notes"}


def searched(user: User, kind: str, word: str) -> set[int]:
    """What the search index answers ``user`` (before any reading again through the
    policy), with the count of every match."""
    keys = access.search_keys(user, kinds=[kind])
    result = engine().search(Request(parse(word), keys, Filters(kinds=[kind]), limit=500))
    assert result.total == len(result.hits), (kind, result.total)
    return {hit.pk for hit in result.hits}


def cast(personas: Personas) -> None:
    """The people of every run: the personas, a communications officer and a second
    customer; a unit under another, a site."""
    hr = personas.hr
    top = directory_services.org_unit_save(actor=hr, origin=CLI, name="Top", parent=None)
    sales = directory_services.org_unit_save(actor=hr, origin=CLI, name="Sales", parent=top)
    lyon = directory_services.site_save(actor=hr, origin=CLI, name="Lyon", city="Ly", country="FR")
    Profile.objects.filter(user=personas.member).update(org_unit=sales)
    Profile.objects.filter(user=personas.owner).update(org_unit=top)
    Profile.objects.filter(user=personas.hr).update(site=lyon)
    comms, guest = make_user("comms"), make_user("guest", kind=UserKind.EXTERNAL)
    UserRole.objects.create(user=comms, role=GlobalRole.COMMUNICATIONS)
    users = {**dict(personas.items()), "comms": comms, "guest": guest}
    Posts.people = {
        name: Person(u.pk, u.kind == UserKind.EMPLOYEE, u.is_admin,
                     frozenset(UserRole.objects.filter(user=u).values_list("role", flat=True)))
        for name, u in users.items()
    }  # fmt: skip
    Posts.targets = {"top": {"org_unit": top}, "sales": {"org_unit": sales}, "lyon": {"site": lyon}}


@pytest.mark.django_db
def test_posts_state_machine(personas: Personas, settings: Any, tmp_path: Any) -> None:
    settings.FILES_DIR = tmp_path / "files"
    cast(personas)
    Posts.steps = Posts.checked = Posts.probes = 0
    wanted = int(os.environ.get("ESSAIM_POSTS_STEPS") or MIN_STEPS)
    run_machine(
        Posts, replay="ESSAIM_POSTS_SEED", enough=lambda: Posts.steps >= wanted,
        examples=12, steps=STEPS_PER_RUN,  # examples: the first, Hypothesis's simplest
    )  # fmt: skip
    print(f"posts: {Posts.steps} steps, {Posts.checked} states checked, {Posts.probes} probes")
