"""The web pages of posts: what an outsider never sees through them (post page, its
fragments, feeds, hashtag and profile pages, files), and the forms that write."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.test import Client
from PIL import Image

from essaim.accounts.models import Role as GlobalRole
from essaim.accounts.models import User, UserRole
from essaim.communities.models import Community, Visibility
from essaim.content import services
from essaim.content.models import Attachment, Comment, Post, Reaction
from essaim.directory.models import OrgUnit, Profile
from tests.conftest import Personas
from tests.test_communities import build as build_community
from tests.verify import unmasked

pytestmark = pytest.mark.django_db
SECRET_TEXT = "Merger with Globex #confidential"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def secret_post(personas: Personas) -> Post:
    community = build_community(personas, Visibility.SECRET)
    upload = services.attachment_upload(
        actor=personas.member, upload=io.BytesIO(b"figures\n"), name="plan.txt"
    )
    post = services.post_create(
        actor=personas.member, community=community, body=SECRET_TEXT, attachments=[upload.pk]
    )
    services.comment_create(actor=personas.owner, post=post, body="Keep it quiet")
    return post


def test_an_outsider_sees_nothing_of_a_secret_post(personas: Personas, secret_post: Post) -> None:
    outsider = signed_in(personas.outsider)
    file = Attachment.objects.get(post=secret_post)
    comment = Comment.objects.get(post=secret_post)
    for path in (
        f"/posts/{secret_post.pk}/",
        f"/posts/{secret_post.pk}/?fragment=card",
        f"/posts/{secret_post.pk}/?fragment=comments",
        f"/posts/{secret_post.pk}/edit/",
        f"/posts/{secret_post.pk}/tracking/",
        f"/posts/{secret_post.pk}/history/",
        f"/files/{file.pk}/",
        f"/files/{file.pk}/?thumbnail=1",
        f"/c/{secret_post.community.slug}/files/",  # type: ignore[union-attr]
    ):
        response = outsider.get(path)
        assert response.status_code == 404, path
        absent = re.sub(
            r"/\d+/|/c/[-\w]+/",
            lambda m: "/999999/" if m[0][1].isdigit() else "/c/nowhere/",
            path,
            count=1,
        )
        missing = outsider.get(absent)
        assert unmasked(response.content, path) == unmasked(missing.content, absent), path
    for path in (f"/posts/{secret_post.pk}/react/", f"/comments/{comment.pk}/react/"):
        assert outsider.post(path, {"kind": "like"}).status_code == 404
    assert outsider.post(f"/posts/{secret_post.pk}/comment/", {"body": "x"}).status_code == 404
    assert not Reaction.objects.exists() and Comment.objects.count() == 1
    for path in ("/", "/tags/confidential/", f"/people/{personas.member.pk}/", "/saved/"):
        page = outsider.get(path)
        assert page.status_code == 200, path
        assert b"Globex" not in page.content and b"plan.txt" not in page.content, path


def test_readers_see_the_post_its_files_and_comments(personas: Personas, secret_post: Post) -> None:
    member = signed_in(personas.owner)
    page = member.get(f"/posts/{secret_post.pk}/")
    assert page.status_code == 200
    assert b"Globex" in page.content and b"Keep it quiet" in page.content
    file = Attachment.objects.get(post=secret_post)
    download = member.get(f"/files/{file.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"figures\n"  # type: ignore[attr-defined]
    assert b"Globex" in member.get("/tags/confidential/").content
    # A member removed from the community loses it all at once.
    secret_post.community.memberships.filter(user=personas.owner).delete()  # type: ignore[union-attr]
    assert member.get(f"/posts/{secret_post.pk}/").status_code == 404
    assert member.get(f"/files/{file.pk}/").status_code == 404


def test_the_composer_posts_text_files_and_polls(personas: Personas) -> None:
    community = build_community(personas, Visibility.PUBLIC)
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "red.png"
    member = signed_in(personas.member)
    response = member.post(
        "/posts/new/",
        {
            "where": community.pk,
            "body": "Which day? #offsite",
            "files": [buffer],
            "option": ["Monday", "Friday", ""],
            "next": f"/c/{community.slug}/",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/c/{community.slug}/"
    post = Post.objects.get()
    assert post.kind == "poll" and post.attachments.get().kind == "image"
    assert b"Which day?" in member.get(f"/c/{community.slug}/").content
    # A reader of the community may not post there: an error, nothing written.
    reader = signed_in(personas.hr)
    response = reader.post("/posts/new/", {"where": community.pk, "body": "x"}, follow=True)
    assert b"You may not publish this there." in response.content
    assert Post.objects.count() == 1


def test_company_announcements_from_the_composer(personas: Personas) -> None:
    unit = OrgUnit.objects.create(name="Sales", path="")
    unit.path = f"/{unit.pk}/"
    unit.save()
    Profile.objects.filter(user=personas.member).update(org_unit=unit)
    UserRole.objects.create(user=personas.animator, role=GlobalRole.COMMUNICATIONS)
    comms = signed_in(personas.animator)
    assert b"Company announcement" in comms.get("/").content
    comms.post(
        "/posts/new/",
        {"where": "", "body": "Sales kick-off", "announcement": "1", "must_read": "1",
         "audience": f"unit:{unit.pk}"},
    )  # fmt: skip
    post = Post.objects.get()
    assert (post.kind, post.org_unit_id, post.must_read) == ("announcement", unit.pk, True)
    assert b"Sales kick-off" in signed_in(personas.member).get("/").content
    assert b"Sales kick-off" not in signed_in(personas.owner).get("/").content
    tracking = comms.get(f"/posts/{post.pk}/tracking/")
    assert tracking.status_code == 200 and personas.member.display_name.encode() in tracking.content
    assert b"Company announcement" not in signed_in(personas.member).get("/").content


def test_only_the_author_edits_and_history_is_kept(personas: Personas) -> None:
    community = build_community(personas, Visibility.PUBLIC)
    post = services.post_create(actor=personas.member, community=community, body="first")
    assert signed_in(personas.owner).get(f"/posts/{post.pk}/edit/").status_code == 403
    member = signed_in(personas.member)
    response = member.post(f"/posts/{post.pk}/edit/", {"body": "second"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.body == "second" and post.revisions.get().body == "first"
    assert member.post(f"/posts/{post.pk}/edit/", {"body": ""}).status_code == 400
    # Every reader finds the earlier texts from the card's "edited", shown as written.
    services.post_edit(actor=personas.member, post=post, body="<script>alert(1)</script>")
    reader = signed_in(personas.outsider)
    assert (
        f'href="/posts/{post.pk}/history/"'.encode()
        in reader.get("/c/" + community.slug + "/").content
    )
    page = reader.get(f"/posts/{post.pk}/history/").text
    assert page.index("&lt;script&gt;alert(1)") < page.index("second") < page.index("first")
    assert "<script>alert" not in page


def test_the_feed_pages_and_filters(personas: Personas) -> None:
    community = build_community(personas, Visibility.PUBLIC)
    for index in range(25):
        services.post_create(actor=personas.owner, community=community, body=f"Note {index}")
    member = signed_in(personas.member)
    first = member.get("/")
    assert b"Note 24" in first.content and b"Note 4" not in first.content
    found = re.search(r'class="button button-secondary feed-more" href="([^"]+)"', first.text)
    assert found is not None
    more = html.unescape(found[1])
    rest = member.get(more)
    assert b"Note 4" in rest.content and b"Note 24" not in rest.content
    assert member.get("/?cursor=forged").status_code == 404
    assert b"Note" not in member.get("/?kind=poll").content
    assert member.get(f"/?community={Community.objects.get().pk}&order=relevant").status_code == 200
