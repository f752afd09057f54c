"""Search: analysis, queries, the index following every change through the outbox, and
what each searcher finds."""

from __future__ import annotations

import gc
import re

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_django import Settings

from essaim import access
from essaim.accounts.services import ServiceError
from essaim.communities import services as community_services
from essaim.communities.models import Visibility
from essaim.content import services as content
from essaim.http import CLI
from essaim.knowledge import services as knowledge
from essaim.notifications.models import Notification
from essaim.realtime.models import Event
from essaim.search import selectors, services
from essaim.search.analysis import analyse, words
from essaim.search.engine import IndexBusy, Request, engine
from essaim.search.indexer import documents_of, index_pending
from essaim.search.models import Pending, Watch
from essaim.search.query import CLAUSES_MAX, QUERY_MAX, parse
from essaim.search.tantivy_engine import TantivyEngine
from tests.conftest import Personas
from tests.test_communities import build
from tests.verify import unmasked


def found(user, text: str, **options) -> list[str]:
    request = Request(parse(text, language="fr"), access.search_keys(user), limit=50, **options)
    return [f"{hit.kind}:{hit.pk}" for hit in engine().search(request).hits]


# Query syntax, French and English words, and what breaks parsers, in any order.
QUERY_PIECES = [*' "«»“”-*()', "OR", " OR ", "l'", "qu\u2019", "é", "\u0301", "x" * 40, '-"', "a*"]
QUERYISH = st.lists(st.sampled_from(QUERY_PIECES), max_size=80).map("".join)


@hypothesis_settings(max_examples=400, deadline=None)
@given(st.one_of(QUERYISH, st.text(max_size=400)), st.booleans())
def test_any_query_parses_into_a_bounded_query(text: str, as_you_type: bool) -> None:
    for language in ("fr", "en"):
        query = parse(text, language=language, as_you_type=as_you_type)
        assert len(query.must) <= CLAUSES_MAX and len(query.must_not) <= CLAUSES_MAX
        assert len(query.text) <= QUERY_MAX


def test_words_fold_case_accents_and_elisions() -> None:
    assert words("L'Entreprise d\u2019Éloïse, aujourd'hui") == [
        "entreprise",
        "eloise",
        "aujourd",
        "hui",
    ]
    assert analyse("Les entreprises du réseau").language == "fr"
    assert analyse("The companies of the network").language == "en"


def test_a_post_is_found_once_indexed_and_lost_once_deleted(personas: Personas) -> None:
    public = build(personas, Visibility.PUBLIC)
    post = content.post_create(
        actor=personas.member, community=public, body="Le réseau social de l'entreprise"
    )
    assert found(personas.outsider, "entreprise") == []  # not before the indexer ran
    index_pending()
    assert found(personas.outsider, "entreprises") == [f"post:{post.pk}"]
    assert found(personas.outsider, '"reseau social"') == [f"post:{post.pk}"]
    assert found(personas.outsider, "entreprise -social") == []
    content.post_delete(actor=personas.member, origin=CLI, post=post)
    index_pending()
    assert found(personas.outsider, "entreprise") == []


def test_secret_content_is_found_by_its_readers_only(personas: Personas) -> None:
    secret = build(personas, Visibility.SECRET)
    question = knowledge.question_ask(
        actor=personas.member, community=secret, title="Budget de la fusion ?"
    )
    index_pending()
    assert found(personas.member, "fusion") == [f"question:{question.pk}"]
    assert found(personas.outsider, "fusion") == []
    assert found(personas.external, "fusion") == []


def test_a_misspelt_word_is_corrected_and_snippets_mark_what_matched(personas: Personas) -> None:
    public = build(personas, Visibility.PUBLIC)
    article = knowledge.article_create(
        actor=personas.member,
        community=public,
        title="Télétravail : la charte",
        body="Chaque équipe choisit ses jours de télétravail avec son responsable.",
        publish=True,
    )
    index_pending()
    page = selectors.search(personas.outsider, "teletravial", language="fr")
    assert page.corrected and page.suggestion == "télétravail"
    assert [f.obj for f in page.results] == [article]
    page = selectors.search(personas.outsider, "équipe congés", language="fr")
    assert page.some_words and not page.corrected  # nobody wrote "congés"
    assert "<mark>équipe</mark>" in page.results[0].snippet
    page = selectors.search(personas.outsider, "jours équipe congés", language="fr")
    assert not page.some_words  # two words of three: a sentence matches what holds most of it
    assert "<mark>jours</mark>" in page.results[0].snippet


def test_the_page_and_the_api_show_what_a_searcher_may_see(
    personas: Personas, signed_in, token_client
) -> None:
    public = build(personas, Visibility.PUBLIC)
    secret = build(personas, Visibility.SECRET)
    shown = content.post_create(
        actor=personas.member, community=public, body="Kickoff du projet Hélios"
    )
    hidden = content.post_create(
        actor=personas.member, community=secret, body="Hélios rachète un concurrent"
    )
    index_pending()
    page = signed_in(personas.outsider).get("/search/", {"q": "helios"})
    assert page.status_code == 200
    assert f'data-result="post:{shown.pk}"' in page.content.decode()
    assert f'data-result="post:{hidden.pk}"' not in page.content.decode()
    assert "rachète" not in page.content.decode()
    answer = token_client(personas.outsider).get("/api/v1/search", {"q": "helios"}).json()
    assert [(r["kind"], r["id"]) for r in answer["results"]] == [("post", shown.pk)]
    assert answer["total"] == 1 and answer["facets"]["community"] == {str(public.pk): 1}
    answer = token_client(personas.member).get("/api/v1/search", {"q": "helios"}).json()
    assert answer["total"] == 2
    suggest = token_client(personas.outsider).get("/api/v1/search/suggest", {"q": "heli"}).json()
    assert suggest["questions"] == [] and suggest["communities"] == []
    bad = token_client(personas.outsider).get("/api/v1/search", {"q": "x", "since": "yesterday"})
    assert bad.status_code == 422


def test_a_customer_is_suggested_only_the_people_of_the_communities_they_share(
    personas: Personas, token_client
) -> None:
    build(personas, Visibility.EXTERNAL)  # the owner, the member… and the customer
    outside = personas.outsider  # an employee in no community the customer shares
    prefix = outside.display_name[:3]
    employee = token_client(personas.member).get("/api/v1/search/suggest", {"q": prefix}).json()
    assert outside.pk in [p["id"] for p in employee["people"]]
    customer = token_client(personas.external)
    assert customer.get("/api/v1/search/suggest", {"q": prefix}).json()["people"] == []
    shared = customer.get("/api/v1/search/suggest", {"q": "Own"}).json()["people"]
    assert [p["id"] for p in shared] == [personas.owner.pk]


def test_searches_without_results_or_clicks_are_counted_for_the_analytics(
    personas: Personas, signed_in
) -> None:
    public = build(personas, Visibility.PUBLIC)
    post = content.post_create(actor=personas.member, community=public, body="Cantine du siège")
    index_pending()
    browser = signed_in(personas.member)
    for text in ("cantine", "Cantine", "parking", "Parking", "parking"):
        browser.get("/search/", {"q": text})
    page = browser.get("/search/", {"q": "cantine"}).content.decode()
    link = re.search(r'href="(/search/open/\?[^"]+)"', page)[1].replace("&amp;", "&")
    assert browser.get(link).url == f"/posts/{post.pk}/"
    assert browser.get("/search/open/?to=post:999999").status_code == 404
    # A secret post's result link answers an outsider exactly as a missing one does.
    secret = build(personas, Visibility.SECRET)
    hidden = content.post_create(actor=personas.member, community=secret, body="Cantine")
    outsider = signed_in(personas.outsider)
    for language in ("en", "fr"):
        answers = [
            outsider.get(f"/search/open/?to=post:{pk}", headers={"Accept-Language": language})
            for pk in (hidden.pk, hidden.pk + 1000)
        ]
        assert [a.status_code for a in answers] == [404, 404]
        paths = [f"/search/open/?to=post:{pk}" for pk in (hidden.pk, hidden.pk + 1000)]
        assert unmasked(answers[0].content, paths[0]) == unmasked(answers[1].content, paths[1])
    assert signed_in(personas.member).get("/manage/search/").status_code == 404
    admin = signed_in(personas.admin).get("/manage/search/").content.decode()
    missed = admin.split("found nothing")[1].split("nobody opened")[0]
    assert "<td>parking</td><td>3</td>" in missed
    unopened = admin.split("nobody opened")[1]
    assert "<td>cantine</td><td>2</td>" in unopened  # two of the three were not opened


def test_a_shared_watch_tells_each_subscriber_of_what_they_may_see(personas: Personas) -> None:
    public = build(personas, Visibility.PUBLIC)
    secret = build(personas, Visibility.SECRET)
    watch = services.watch_create(
        actor=personas.animator, title="Hydrogène", text="hydrogène", shared=True, language="fr"
    )
    services.watch_subscribe(actor=personas.outsider, watch=watch)
    services.watch_subscribe(actor=personas.member, watch=watch, frequency="daily")
    for_all = content.post_create(
        actor=personas.member, community=public, body="Le bus à hydrogène arrive"
    )
    members_only = content.post_create(
        actor=personas.owner, community=secret, body="Budget hydrogène 2027"
    )
    content.post_create(actor=personas.member, community=public, body="Rien à voir")
    index_pending()
    matched = set(watch.matches.values_list("kind", "object_id"))
    assert matched == {("post", for_all.pk), ("post", members_only.pk)}
    told = {
        (e.data["id"], frozenset(e.recipients.values_list("user_id", flat=True)))
        for e in Event.objects.filter(type="watch.matched")
    }
    animator, member, outsider = personas.animator.pk, personas.member.pk, personas.outsider.pk
    assert told == {
        (for_all.pk, frozenset({animator, member, outsider})),
        (members_only.pk, frozenset({animator, member})),  # the secret community's readers
    }
    # Notified: at once for instant subscribers, in the digest for the daily one.
    # Nobody is notified of what they wrote: the member, of the owner's post only.
    notified = {n.user_id: n for n in Notification.objects.filter(kind="watch")}
    assert {(u, n.in_app) for u, n in notified.items()} == {
        (animator, True), (outsider, True), (member, False)
    }  # fmt: skip
    assert notified[member].detail["id"] == members_only.pk
    # Indexed again (an edit), a thing does not match twice.
    content.post_edit(actor=personas.member, post=for_all, body="Le bus à hydrogène est là")
    index_pending()
    assert watch.matches.count() == 2
    # A personal watch is its owner's alone; an external customer shares none.
    mine = services.watch_create(actor=personas.member, title="Moi", text="budget")
    assert not access.can(personas.outsider, "view", mine)
    with pytest.raises(access.Forbidden):
        services.watch_subscribe(actor=personas.outsider, watch=mine)
    with pytest.raises(access.Forbidden):
        services.watch_create(actor=personas.external, title="X", text="x", shared=True)
    with pytest.raises(ServiceError):
        services.watch_create(actor=personas.member, title="Vide", text="le la les")


def test_watch_pages_subscribe_discuss_and_hide_from_outsiders(
    personas: Personas, api_session
) -> None:
    public = build(personas, Visibility.PUBLIC)
    browser = api_session(personas.member)
    made = browser.post("/search/watches/", {"title": "Cloud", "text": "cloud", "shared": "1"})
    watch = Watch.objects.get(title="Cloud")
    assert made.url == f"/search/watches/{watch.pk}/" and watch.shared
    personal = services.watch_create(actor=personas.member, title="Mine", text="secret plan")
    post = content.post_create(actor=personas.owner, community=public, body="Cloud migration")
    index_pending()
    page = browser.get(f"/search/watches/{watch.pk}/").content.decode()
    assert f'data-result="post:{post.pk}"' in page
    other = api_session(personas.outsider)
    assert other.get(f"/search/watches/{personal.pk}/").status_code == 404
    assert other.post(f"/search/watches/{personal.pk}/subscribe/").status_code == 404
    assert (
        other.post(f"/search/watches/{watch.pk}/subscribe/", {"frequency": "weekly"}).status_code
        == 302
    )
    assert watch.subscriptions.get(user=personas.outsider).frequency == "weekly"
    other.post(f"/search/watches/{watch.pk}/comment/", {"body": "Who **leads** it?"})
    page = browser.get(f"/search/watches/{watch.pk}/").content.decode()
    assert "<strong>leads</strong>" in page
    assert other.post(f"/search/watches/{watch.pk}/delete/").status_code == 403
    assert browser.post(f"/search/watches/{watch.pk}/delete/").status_code == 302
    assert not Watch.objects.filter(pk=watch.pk).exists()
    assert personal.title not in other.get("/search/watches/").content.decode()


def test_oversized_searches_and_watches_are_refused_and_change_nothing(
    personas: Personas, api_session, token_client
) -> None:
    too_long = "mot " * 100  # 400 characters: QUERY_MAX is 256
    api = token_client(personas.member)
    for path in ("/api/v1/search", "/api/v1/search/suggest"):
        assert api.get(path, {"q": too_long}).status_code == 422, path
    browser = api_session(personas.member)
    for title, text in (
        ("x" * 201, "cloud"),
        ("Cloud", too_long),
        ("", "cloud"),
        ("Vide", "le la"),
    ):
        refused = browser.post("/search/watches/", {"title": title, "text": text})
        assert refused.status_code == 422 and 'class="messages"' in refused.content.decode()
        assert not title or f'value="{title[:200]}"' in refused.content.decode()  # kept as typed
    assert not Watch.objects.exists()
    watch = services.watch_create(actor=personas.member, title="Cloud", text="cloud", shared=True)
    for body in ("x" * 10_001, "   "):
        refused = browser.post(f"/search/watches/{watch.pk}/comment/", {"body": body})
        assert refused.status_code == 422
    refused = browser.post(f"/search/watches/{watch.pk}/subscribe/", {"frequency": "hourly"})
    assert refused.status_code == 422
    assert (
        not watch.comments.exists()
        and not watch.subscriptions.exclude(user=personas.member).exists()
    )


def test_losing_access_hides_hits_and_watch_matches_at_once(personas: Personas) -> None:
    """A community made secret and a member removed: no hit, count, facet, suggestion or
    watch match at the next search, before the indexer runs (SECURITY.md 4, 6, 14): the
    keys name places, but for the community's own document, written with the change."""
    project = build(personas, Visibility.PUBLIC)
    watch = services.watch_create(
        actor=personas.animator, title="Fusion", text="fusion", shared=True, language="fr"
    )
    services.watch_subscribe(actor=personas.outsider, watch=watch)
    services.watch_subscribe(actor=personas.member, watch=watch)
    content.post_create(actor=personas.owner, community=project, body="Projet de fusion")
    index_pending()
    assert found(personas.outsider, "fusion") != []
    assert selectors.search(personas.outsider, "public live").total == 1  # its name
    community_services.community_update(
        actor=personas.owner, origin=CLI, community=project, changes={"visibility": "secret"}
    )
    for text in ("fusion", "fusi*", "public live"):
        assert found(personas.outsider, text) == []
        page = selectors.search(personas.outsider, text, language="fr")
        assert (page.total, page.facets, page.results) == (0, {}, [])
    for text in ("fusi", "publ"):
        assert selectors.suggest(personas.outsider, text).communities == []
    assert found(personas.member, "fusion") != []
    community_services.member_remove(
        actor=personas.owner, origin=CLI, community=project, person=personas.member
    )
    assert found(personas.member, "fusion") == []
    # A new match reaches none of the two, and their watch page shows nothing.
    before = Event.objects.order_by("-id").values_list("id", flat=True).first()
    content.post_create(actor=personas.owner, community=project, body="La fusion avance")
    index_pending()
    told = {
        user
        for event in Event.objects.filter(type="watch.matched", id__gt=before)
        for user in event.recipients.values_list("user_id", flat=True)
    }
    assert told.isdisjoint({personas.outsider.pk, personas.member.pk})
    assert personas.animator.pk in told  # a member of the secret community still hears
    for person in (personas.outsider, personas.member):
        assert selectors.watch_view(person, watch.pk).matches == []


def test_a_community_made_secret_waits_for_the_worker_that_holds_the_index(
    personas: Personas, settings: Settings
) -> None:
    """With tantivy and a separate worker, the worker holds the index's files: the web
    process cannot write them, and leaves the community to the worker's indexer (through
    the outbox). Run on both databases: tantivy serves PostgreSQL too."""
    settings.SEARCH_ENGINE = "tantivy"
    project = build(personas, Visibility.PUBLIC)
    worker = TantivyEngine(str(settings.SEARCH_INDEX_DIR))  # the other process
    worker.write(*documents_of("community", [project.pk]))  # it keeps the lock
    Pending.objects.all().delete()
    assert selectors.search(personas.outsider, "public live").total == 1
    with pytest.raises(IndexBusy):
        engine().write([], [])
    community_services.community_update(
        actor=personas.owner, origin=CLI, community=project, changes={"visibility": "secret"}
    )
    assert selectors.search(personas.outsider, "public live").results == []
    worker._writer = None  # the worker stops: the index is this process's to write
    gc.collect()
    assert Pending.objects.filter(kind="community", object_id=project.pk).exists()
    index_pending()
    assert selectors.search(personas.outsider, "public live").total == 0
    assert selectors.search(personas.owner, "public live").total == 1


def test_snippets_and_titles_are_escaped_and_dates_filter(personas: Personas, token_client) -> None:
    public = build(personas, Visibility.PUBLIC)
    content.post_create(
        actor=personas.member,
        community=public,
        body="<script>alert(1)</script> <img src=x onerror=alert(2)> hydrogène",
    )
    index_pending()
    page = selectors.search(personas.outsider, "hydrogène", language="fr")
    shown = page.results[0].snippet
    # No markup but the highlighting: every "<" of the text comes out as "&lt;".
    assert "<" not in shown.replace("<mark>", "").replace("</mark>", "")
    assert "&lt;img src=x onerror=alert(2)&gt;" in shown
    assert "<mark>hydrogène</mark>" in shown
    api = token_client(personas.outsider)
    assert api.get("/api/v1/search", {"q": "hydrogène", "until": "2000-01-01"}).json()["total"] == 0
    assert api.get("/api/v1/search", {"q": "hydrogène", "since": "2000-01-01"}).json()["total"] == 1


@pytest.mark.django_db(transaction=True)
def test_suggestions_find_people_on_a_connection_of_their_own(personas: Personas) -> None:
    # Outside a transaction the people are searched on another thread's connection.
    build(personas, Visibility.PUBLIC)
    assert not connection.in_atomic_block
    found = selectors.suggest(personas.member, "Outs")
    assert [p.pk for p in found.people] == [personas.outsider.pk]
    assert selectors.suggest(personas.external, "Outs").people == []  # not shared with them
