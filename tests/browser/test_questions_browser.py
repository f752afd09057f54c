"""Knowledge in a real browser, at desktop and phone widths: a member types a question
and sees a similar one already asked and who may know, asks it in a community and asks
that expert for an answer; the expert opens it and answers; the asker sees the answer
arrive without reloading, votes for it and accepts it, and the expert sees that live. A
case study written with a co-author, an old revision restored. The injection corpus
never runs on the knowledge pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from essaim.accounts.models import User
from essaim.communities import services as community_services
from essaim.communities.models import Visibility
from essaim.directory import services as directory_services
from essaim.directory.models import TopicKind
from essaim.http import CLI
from essaim.knowledge import services
from essaim.knowledge.models import Question
from tests.browser.test_shell_browser import dialogs_of, fits_the_width, probe_for_scripts, sign_in
from tests.conftest import Personas, make_user
from tests.xss_corpus import XSS

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Screenshot = Callable[[Page, str], Path]
LIVE = 15_000  # ms: an event crosses the server; a loaded CI machine can take seconds


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_ask_see_similar_answer_live_and_accept(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    helpdesk = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Help desk", visibility=Visibility.PUBLIC
    )
    for person in (personas.member, personas.animator):
        community_services.join(actor=person, community=helpdesk)
    services.question_ask(
        actor=personas.owner, community=None, title="How do I book a meeting room in Lyon?"
    )
    directory_services.topics_set(
        actor=personas.hr, person=personas.hr, origin=CLI, kind=TopicKind.SKILL,
        items=[("Rooms", 4)],
    )  # fmt: skip

    asker = new_page(width, height)
    sign_in(asker, personas.member.email)
    asker.goto(f"/questions/ask/?community={helpdesk.pk}")
    asker.get_by_label("Your question, in one sentence").press_sequentially(
        "Booking a meeting room for visitors?"
    )
    similar = asker.get_by_role("status").filter(has_text="Similar questions already asked")
    expect(
        similar.get_by_role("link", name="How do I book a meeting room in Lyon?")
    ).to_be_visible()
    asker.get_by_label("Details (Markdown)").fill("Customers come on **Tuesday**.")
    asker.get_by_label("Tags").fill("rooms, visitors")
    asker.get_by_label("Files").set_input_files(
        {"name": "visitors.txt", "mimeType": "text/plain", "buffer": b"Tuesday: 6 people\n"}
    )
    experts = asker.get_by_role("status").filter(has_text="People who may know")
    expect(experts.get_by_role("link", name="Hr")).to_be_visible()
    expect(experts).to_contain_text("Skill: Rooms (Expert)")
    expect(asker.get_by_label("Where")).to_have_value(str(helpdesk.pk))
    assert fits_the_width(asker)
    screenshot(asker, f"question-ask-{width}")
    asker.get_by_role("button", name="Ask", exact=True).click()
    expect(
        asker.get_by_role("heading", name="Booking a meeting room for visitors?")
    ).to_be_visible()
    question = Question.objects.get(title="Booking a meeting room for visitors?")
    assert question.community == helpdesk and question.tags == ["rooms", "visitors"]
    expect(asker.get_by_role("link", name="visitors.txt")).to_be_visible()
    expect(asker.locator("[data-events-state]").first).to_have_attribute(
        "data-events-state", "open"
    )
    asker.get_by_role("button", name="Ask Hr for an answer").click()
    expect(asker.get_by_text("Hr is asked for an answer.")).to_be_visible()
    expect(asker.get_by_role("region", name="People who may know")).to_contain_text("Asked")
    assert fits_the_width(asker)
    screenshot(asker, f"question-experts-{width}")

    expert = new_page(width, height)
    sign_in(expert, personas.hr.email)  # the expert the asker asked
    expert.goto(f"/questions/{question.pk}/")
    expect(expert.locator("[data-events-state]").first).to_have_attribute(
        "data-events-state", "open"
    )
    expert.get_by_label("Your answer (Markdown)").fill("Book **room 4** at the front desk.")
    expert.get_by_role("button", name="Answer", exact=True).click()
    expect(expert.locator(".answer")).to_contain_text("Book room 4 at the front desk.")

    # The asker's open page shows the answer without a reload.
    answer = asker.locator(".answer").first
    expect(answer).to_contain_text("Book room 4 at the front desk.", timeout=LIVE)
    expect(asker.get_by_role("heading", name="1 answer")).to_be_visible()
    answer.get_by_role("button", name="Vote up").click()
    expect(asker.locator(".answer .score").first).to_have_text("1")
    asker.get_by_role("button", name="Accept this answer").click()
    expect(asker.get_by_text("Accepted answer")).to_be_visible()
    expect(asker.locator("#question-head")).to_contain_text("Accepted")
    assert fits_the_width(asker)
    screenshot(asker, f"question-accepted-{width}")

    # The colleague sees the vote and the acceptance arrive.
    expect(expert.get_by_text("Accepted answer")).to_be_visible(timeout=LIVE)
    expect(expert.locator(".answer .score").first).to_have_text("1")
    question.refresh_from_db()
    assert question.state == "accepted"
    asker.goto("/questions/")
    expect(asker.get_by_role("link", name="Booking a meeting room for visitors?")).to_be_visible()
    assert fits_the_width(asker)
    screenshot(asker, f"question-list-{width}")
    assert console_errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_write_a_case_study_with_a_co_author_and_restore_a_revision(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    page = new_page(width, height)
    sign_in(page, personas.member.email)
    page.goto("/knowledge/")
    page.get_by_role("link", name="Articles").click()
    page.get_by_role("link", name="Write a case study").click()
    body = page.get_by_label("Text (Markdown)")
    expect(body).to_have_value(re.compile(r"^## Context\n\n\n## Problem"))
    page.get_by_label("Title").fill("Moving the warehouse")
    body.fill("## Context\nThe first version.")
    page.get_by_role("button", name="Save as a draft").click()
    expect(page.get_by_role("heading", name="Moving the warehouse")).to_be_visible()
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()
    page.get_by_label("Add a co-author (their e-mail address)").fill(personas.owner.email)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Owner is a co-author now.")).to_be_visible()

    coauthor = new_page(width, height)
    sign_in(coauthor, personas.owner.email)
    coauthor.goto(page.url)
    coauthor.get_by_role("link", name="Edit").click()
    coauthor.get_by_label("Text (Markdown)").fill("## Context\nA second version.")
    coauthor.get_by_role("button", name="Save").click()
    expect(coauthor.get_by_text("A second version.")).to_be_visible()

    page.reload()
    page.get_by_role("link", name="2 revisions").click()
    expect(page.locator(".diff-added")).to_have_text("+ A second version.")
    page.get_by_role("link", name="Revision 1").click()
    expect(page.get_by_role("button", name="Restore revision 1")).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, f"article-history-{width}")
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.get_by_text("The revision is restored.")).to_be_visible()
    expect(page.locator(".prose")).to_contain_text("The first version.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Draft", exact=True)).to_have_count(0)
    assert fits_the_width(page)
    screenshot(page, f"article-{width}")
    assert console_errors == []


def test_the_injection_corpus_never_runs_in_knowledge(
    new_page: NewPage, personas: Personas, console_errors: list[str]
) -> None:
    """Each payload as a question's title and text, an answer, a comment on it, an
    article's title and text, and the name of who wrote them: the knowledge pages that
    show them (lists, question, article, history, knowledge base, similar questions) run
    none, raise no dialog and trip no Content-Security-Policy report."""
    questions, articles = [], []
    for index, payload in enumerate(XSS):
        writer = make_user(f"writer{index}")
        User.objects.filter(pk=writer.pk).update(display_name=payload.replace("\x00", "")[:100])
        writer.refresh_from_db()
        question = services.question_ask(
            actor=writer, community=None, title=payload[:200] or "?", body=payload,
            tags=[f"t{index}"],
        )  # fmt: skip
        answer = services.answer_create(actor=personas.owner, question=question, body=payload)
        services.answer_comment_create(actor=writer, answer=answer, body=payload[:2000])
        services.question_accept(actor=writer, question=question, answer_id=answer.pk)
        questions.append(question)
        article = services.article_create(
            actor=writer, community=None, title=payload[:200] or "?", body=payload, publish=True
        )
        services.article_edit(actor=writer, article=article, body=f"{payload}\nagain")
        articles.append(article)
    assert len(XSS) >= 100

    page = new_page(1280, 900)
    dialogs = dialogs_of(page)
    sign_in(page, personas.member.email)
    pages = ["/knowledge/", "/questions/", "/articles/", "/questions/?tag=t1"]
    pages += [f"/questions/{q.pk}/" for q in questions[::4]]
    pages += [f"/articles/{a.pk}/" for a in articles[::4]]
    pages += [f"/articles/{a.pk}/history/" for a in articles[::8]]
    for path in pages:
        probe_for_scripts(page, path)
    page.goto("/questions/ask/")
    for payload in XSS[:20]:
        page.get_by_label("Your question, in one sentence").fill(f"{payload} again?")
        page.wait_for_timeout(300)  # the similar questions, fetched as they are typed
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []
    assert console_errors == []
