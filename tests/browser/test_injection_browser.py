"""The script-injection corpus in the surfaces the posts' test does not open: chat
(names, messages, a message arriving live), the notification centre (names and titles,
refreshed live), the directory (names, job titles), search (snippets, suggestions) and
keyword watches (titles). None may run, raise a dialog or trip the Content-Security-Policy
(SECURITY.md #25, #26)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from essaim.accounts.models import User
from essaim.chat import services as chat
from essaim.communities import services as community_services
from essaim.communities.models import Visibility
from essaim.content import services as content
from essaim.directory.models import Profile
from essaim.http import CLI
from essaim.search import services as search
from essaim.search.indexer import index_pending
from tests.browser.test_shell_browser import dialogs_of, probe_for_scripts, sign_in
from tests.conftest import Personas, make_user
from tests.xss_corpus import XSS

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
LIVE = 15_000  # ms: an event crosses the server; a loaded CI machine can take seconds


def test_the_injection_corpus_never_runs_in_chat_notifications_directory_and_search(
    new_page: NewPage, personas: Personas, console_errors: list[str]
) -> None:
    me = personas.member
    lab = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Lab", visibility=Visibility.PUBLIC
    )
    community_services.join(actor=me, community=lab)
    writers, conversations = [], []
    for index, payload in enumerate(XSS):
        # Each payload is a person's name and job title, a message, a post that mentions
        # the member (its title in their notifications), and a watch's title.
        name = payload.replace("\x00", "")[:100]
        writer = make_user(f"writer{index}")
        User.objects.filter(pk=writer.pk).update(display_name=name)
        Profile.objects.filter(user=writer).update(job_title=name)
        writer.refresh_from_db()
        community_services.join(actor=writer, community=lab)
        direct, _new = chat.direct_open(actor=writer, person=me)
        chat.message_send(actor=writer, conversation=direct, body=f"{payload} zorro")
        content.post_create(
            actor=writer, community=lab, body=f"{payload} zorro @**Member|{me.pk}**"
        )
        writers.append(writer)
        conversations.append(direct)
    search.watch_create(actor=me, title=XSS[1][:200], text="zorro", shared=True)
    group = chat.group_create(actor=me, title=XSS[0][:100], people=[w.pk for w in writers[:8]])
    for writer in writers[:8]:
        chat.message_send(actor=writer, conversation=group, body=XSS[writers.index(writer) + 8])
    index_pending()

    page = new_page(1280, 900)
    dialogs = dialogs_of(page)
    sign_in(page, me.email)
    pages = [
        "/chat/", f"/chat/{group.pk}/", "/notifications/", "/people/", "/people/?q=writer",
        "/search/?q=zorro", "/search/?q=zorro&kind=post",
        "/search/watches/",
    ]  # fmt: skip
    pages += [f"/chat/{c.pk}/" for c in conversations[::7]]
    pages += [f"/people/{w.pk}/" for w in writers[::7]]
    for path in pages:
        probe_for_scripts(page, path)
    # Suggestions while typing: the people's names (the writers' payloads).
    page.locator("#topsearch-q").press_sequentially("writer", delay=20)
    expect(page.locator("#search-suggestions a").first).to_be_visible(timeout=LIVE)
    page.mouse.move(200, 60)
    assert page.evaluate("typeof window.__xss") == "undefined"
    # Live: a message arriving in an open conversation, a notification in the open centre.
    page.goto(f"/chat/{conversations[3].pk}/")
    chat.message_send(actor=writers[3], conversation=conversations[3], body=f"{XSS[4]} live")
    expect(page.get_by_text("live", exact=False).last).to_be_visible(timeout=LIVE)
    page.goto("/notifications/")
    content.post_create(actor=writers[5], community=lab, body=f"{XSS[6]} @**Member|{me.pk}**")
    expect(page.locator("[data-notification-list] li").first).to_contain_text(
        "mentioned you", timeout=LIVE
    )
    page.mouse.move(200, 300)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []
    assert console_errors == []
