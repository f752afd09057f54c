"""Posts in a real browser: a member publishes a post with a picture and a mention in a
community; a colleague sees it arrive live on their home page, comments and reacts; the
author sees both on their open page, without reloading. And the script-injection corpus,
pasted into posts, comments, names and file names, never runs. At desktop and phone
widths."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from essaim.accounts.models import User
from essaim.communities import services as community_services
from essaim.communities.models import Community, Visibility
from essaim.content import services
from essaim.content.models import PostState
from essaim.http import CLI
from tests.browser.test_shell_browser import dialogs_of, fits_the_width, probe_for_scripts, sign_in
from tests.conftest import Personas, make_user
from tests.xss_corpus import XSS

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
LIVE = 15_000  # ms: an event crosses the server; a loaded CI machine can take seconds
Screenshot = Callable[[Page, str], Path]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (14, 116, 144)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_a_post_with_a_picture_and_a_mention_lives(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    design = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Design guild", visibility=Visibility.PUBLIC
    )
    for person in (personas.member, personas.animator):
        community_services.join(actor=person, community=design)

    colleague = new_page(width, height)
    sign_in(colleague, personas.animator.email)
    feed = colleague.get_by_role("region", name="Your feed")
    expect(feed).to_have_attribute("data-events-state", "open")

    author = new_page(width, height)
    sign_in(author, personas.member.email)
    author.goto(f"/c/{design.slug}/")
    body = author.get_by_label("Your post")
    body.fill("Launch day! Thanks ")
    body.press_sequentially("@Anim")  # the typeahead proposes whom to mention
    author.get_by_role("option", name="Animator").click()
    body.press_sequentially("#launch")
    expect(body).to_have_value(f"Launch day! Thanks @**Animator|{personas.animator.pk}** #launch")
    author.get_by_label("Files").set_input_files(
        {"name": "mock-up.png", "mimeType": "image/png", "buffer": png()}
    )
    author.get_by_role("button", name="Publish").click()
    post = author.locator("article.post").first
    expect(post).to_contain_text("Launch day!")
    expect(post.get_by_role("link", name=f"@{personas.animator.display_name}")).to_be_visible()
    expect(post.get_by_role("link", name="#launch")).to_be_visible()
    expect(post.get_by_role("img", name="mock-up.png")).to_be_visible()
    expect(author.locator("[data-events-state]").first).to_have_attribute(
        "data-events-state", "open"
    )

    # The colleague's open home page announces it, and shows it on demand.
    banner = colleague.get_by_role("link", name="1 new post")
    expect(banner).to_be_visible(timeout=LIVE)
    banner.click()
    card = colleague.locator("article.post").filter(has_text="Launch day!")
    expect(card).to_be_visible()
    card.get_by_role("link", name="0 comments").click()
    colleague.get_by_label("Your comment").fill("Superb work")
    colleague.get_by_role("button", name="Comment", exact=True).click()
    expect(colleague.get_by_text("Superb work")).to_be_visible()
    reacting = colleague.locator("article.post")
    reacting.locator(".reaction-picker summary").click()
    reacting.get_by_role("button", name="Celebrate").click()
    expect(reacting.get_by_role("button", name="Celebrate 1")).to_have_attribute(
        "aria-pressed", "true"
    )

    # The author's page follows, without a reload.
    expect(post.get_by_role("link", name="1 comment")).to_be_visible(timeout=LIVE)
    expect(post.get_by_role("button", name="Celebrate 1")).to_be_visible(timeout=LIVE)
    assert fits_the_width(author) and fits_the_width(colleague)
    screenshot(author, f"post-live-author-{width}")
    screenshot(colleague, f"post-live-colleague-{width}")
    assert console_errors == []


def test_the_injection_corpus_never_runs(
    new_page: NewPage, personas: Personas, console_errors: list[str]
) -> None:
    """Each payload as a post, a comment, a person's name and a file name; the pages that
    show them (home feed, post page, community files, hashtag page) run none, raise no
    dialog, and trip no Content-Security-Policy report (console_errors)."""
    lab = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Lab", visibility=Visibility.PUBLIC
    )
    community_services.join(actor=personas.member, community=lab)
    Community.objects.filter(pk=lab.pk).update(name=XSS[2][:100])
    posts = []
    for index, payload in enumerate(XSS):
        # Each payload is also a writer's name: posts, comments and file lists show it.
        writer = make_user(f"writer{index}")
        # (NUL aside: display names refuse control characters, PostgreSQL refuses NUL.)
        name = payload.replace("\x00", "")[:100]
        User.objects.filter(pk=writer.pk).update(display_name=name)
        community_services.join(actor=writer, community=lab)
        upload = io.BytesIO(b"notes\n")
        attachment = services.attachment_upload(
            actor=writer, upload=upload, name=f"{payload[:60]}.txt"
        )
        post = services.post_create(
            actor=writer, community=lab, body=f"{payload} #t{index}", attachments=[attachment.pk]
        )
        services.comment_create(actor=writer, post=post, body=payload)
        services.react(actor=personas.member, post=post, kind="like")
        posts.append(post)
    assert len(XSS) >= 100

    page = new_page(1280, 900)
    dialogs = dialogs_of(page)
    sign_in(page, personas.member.email)
    pages = ["/", f"/c/{lab.slug}/", f"/c/{lab.slug}/files/", "/tags/t1/", "/?order=relevant"]
    pages += [f"/posts/{p.pk}/" for p in posts]
    for path in pages:
        probe_for_scripts(page, path)
    assert dialogs == []
    assert console_errors == []


def test_posts_a_feed_showed_are_marked_read(
    new_page: NewPage, personas: Personas, console_errors: list[str]
) -> None:
    lab = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Lab", visibility=Visibility.PUBLIC
    )
    community_services.join(actor=personas.member, community=lab)
    shown = services.post_create(actor=personas.owner, community=lab, body="Seen in the feed")
    page = new_page(1280, 900)
    sign_in(page, personas.member.email)
    expect(page.get_by_text("Seen in the feed")).to_be_visible()
    deadline = time.monotonic() + 15
    while not PostState.objects.filter(
        post=shown, user=personas.member, read_at__isnull=False
    ).exists():
        assert time.monotonic() < deadline, "the post shown was never marked read"
        time.sleep(0.2)
    page.goto("/?unread=1")
    expect(page.get_by_text("Nothing here yet.")).to_be_visible()
    assert console_errors == []
