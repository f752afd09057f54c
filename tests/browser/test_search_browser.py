"""Search in a real browser, at desktop and phone widths: a misspelt French query finds
the right article, suggestions come while typing, a phrase and a filter narrow the
results; a shared keyword watch shows a new matching post live to a subscriber, while
the indexer runs as in production (a thread woken by each commit)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from essaim.communities import services as community_services
from essaim.communities.models import Visibility
from essaim.content import services as content
from essaim.http import CLI
from essaim.knowledge import services as knowledge
from essaim.search import services
from essaim.search.indexer import Indexer, index_pending
from tests.browser.test_shell_browser import fits_the_width, sign_in
from tests.conftest import Personas

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]
Screenshot = Callable[[Page, str], Path]
LIVE = 15_000  # ms


@pytest.fixture
def indexer() -> Iterator[Indexer]:
    running = Indexer.start()
    yield running
    running.running = False
    running.woken.set()
    Indexer.instance = None


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_a_misspelt_query_phrases_filters_and_suggestions(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    width: int,
    height: int,
) -> None:
    rh = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Ressources humaines", visibility=Visibility.PUBLIC
    )
    knowledge.article_create(
        actor=personas.owner,
        community=rh,
        title="Télétravail : la charte de l'entreprise",
        body="Chaque équipe choisit ses jours de télétravail avec son responsable.",
        publish=True,
    )
    knowledge.article_create(
        actor=personas.owner,
        community=None,
        title="Notes de frais",
        body="Le télétravail ne donne pas droit à des notes de frais de transport.",
        publish=True,
    )
    knowledge.question_ask(
        actor=personas.owner, community=rh, title="Combien de jours de télétravail par semaine ?"
    )
    index_pending()
    page = new_page(width, height)
    sign_in(page, personas.member.email)

    # Typo in French: "télétravial" finds "télétravail", and says so.
    page.goto("/search/?q=t%C3%A9l%C3%A9travial")
    expect(page.locator("[data-suggestion]")).to_contain_text("télétravail")
    results = page.locator(".search-result")
    expect(results).to_have_count(3)
    expect(page.locator(".search-result-title").first).to_be_visible()
    expect(page.locator(".search-result-snippet mark").first).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, f"search-results-{width}")

    # A phrase, then a filter by type.
    page.goto('/search/?q="notes de frais"')
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Notes de frais")
    page.goto("/search/?q=t%C3%A9l%C3%A9travail")
    expect(results).to_have_count(3)
    if width < 800:
        page.locator(".facets-box > summary").click()
    page.locator("#facet-kind-question").check()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Combien de jours")
    assert "kind=question" in page.url

    # Suggestions while typing in the top bar.
    box = page.locator("#topsearch-q")
    box.fill("ressou")
    expect(page.locator("#search-suggestions .suggestion").first).to_contain_text(
        "Ressources humaines"
    )
    assert fits_the_width(page)
    screenshot(page, f"search-suggestions-{width}")
    assert console_errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 740)])
def test_a_shared_watch_shows_a_new_matching_post_live(
    new_page: NewPage,
    personas: Personas,
    screenshot: Screenshot,
    console_errors: list[str],
    indexer: Indexer,
    width: int,
    height: int,
) -> None:
    energy = community_services.community_create(
        actor=personas.owner, origin=CLI, name="Énergie", visibility=Visibility.PUBLIC
    )
    watch = services.watch_create(
        actor=personas.animator,
        title="Hydrogène",
        text="hydrogène OR H2",
        shared=True,
        language="fr",
    )
    page = new_page(width, height)
    sign_in(page, personas.member.email)
    page.goto("/search/watches/")
    page.get_by_role("link", name="Hydrogène").click()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".page-head")).to_contain_text("2 subscribers")
    expect(page.locator("[data-watch][data-events-state='open']")).to_have_count(1, timeout=LIVE)

    content.post_create(
        actor=personas.owner, community=energy, body="Le premier bus à hydrogène roule à Lyon"
    )
    match = page.locator("#watch-matches .search-result")
    expect(match).to_have_count(1, timeout=LIVE)
    expect(match.first.locator("mark")).to_have_text("hydrogène")
    services.watch_comment(actor=personas.animator, watch=watch, body="Qui l'a essayé ?")
    expect(page.locator("#watch-comments")).to_contain_text("Qui l'a essayé ?", timeout=LIVE)
    assert fits_the_width(page)
    screenshot(page, f"search-watch-{width}")
    assert console_errors == []
