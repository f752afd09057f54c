"""The directory: profiles, organisation, search, expertise, endorsements, follows."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from essaim import access
from essaim.accounts.models import User, UserKind
from essaim.accounts.services import (
    ServiceError,
    user_deactivate,
    user_reactivate,
    user_update_self,
)
from essaim.directory import selectors, services
from essaim.directory.models import (
    FieldKind,
    OrgUnit,
    PersonToken,
    Profile,
    Site,
    TopicKind,
    Visibility,
)
from essaim.governance.models import AuditEntry
from essaim.http import CLI
from tests.conftest import Personas, make_user


def search(viewer: User, text: str = "", **filters: object) -> list[str]:
    query = selectors.PeopleQuery(text=text, **filters)  # type: ignore[arg-type]
    return [u.display_name for u in selectors.people_search(viewer, query, limit=50).results]


def org(hr: User, *names: str) -> list[OrgUnit]:
    """A chain of units, each under the previous one."""
    units: list[OrgUnit] = []
    for name in names:
        parent = units[-1] if units else None
        units.append(services.org_unit_save(actor=hr, origin=CLI, name=name, parent=parent))
    return units


def set_manager(hr: User, person: User, manager: User | None) -> None:
    services.profile_update(actor=hr, person=person, origin=CLI, changes={"manager": manager})


# --- Profiles and permissions ------------------------------------------------------------


def test_a_person_edits_their_own_profile_and_hr_the_organisational_fields(
    personas: Personas,
) -> None:
    member, hr = personas.member, personas.hr
    services.profile_update(
        actor=member,
        person=member,
        origin=CLI,
        changes={
            "pronouns": "elle",
            "phone": "+33 4 72 00 00 00",
            "timezone": "Europe/Paris",
            "bio": "Data engineer in Lyon.",
        },
    )
    with pytest.raises(access.Forbidden):
        services.profile_update(
            actor=member, person=member, origin=CLI, changes={"job_title": "CEO"}
        )
    with pytest.raises(access.Forbidden):
        services.profile_update(
            actor=personas.owner, person=member, origin=CLI, changes={"bio": "hacked"}
        )
    services.profile_update(actor=hr, person=member, origin=CLI, changes={"job_title": "Analyst"})
    profile = Profile.objects.get(user=member)
    assert (profile.pronouns, profile.job_title, profile.bio) == (
        "elle",
        "Analyst",
        "Data engineer in Lyon.",
    )
    # HR changing someone else's profile is an administrative action.
    entry = AuditEntry.objects.get(action="profile.update")
    assert entry.actor_id == hr.pk and entry.target_id == str(member.pk)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"phone": "<script>"}, "phone"),
        ({"bio": "x" * 2001}, "bio"),
        ({"pronouns": 42}, "pronouns"),
    ],
)
def test_bad_profile_input_is_refused_and_changes_nothing(
    personas: Personas, changes: dict[str, object], field: str
) -> None:
    member = personas.member
    with pytest.raises(ServiceError) as refused:
        services.profile_update(actor=member, person=member, origin=CLI, changes=changes)
    assert refused.value.field == field
    profile = Profile.objects.get(user=member)
    assert (profile.timezone, profile.phone, profile.bio, profile.pronouns) == ("", "", "", "")


def test_the_manager_chain_follows_moves_and_refuses_loops(personas: Personas) -> None:
    hr, ceo, boss, member = personas.hr, personas.owner, personas.animator, personas.member
    set_manager(hr, boss, ceo)
    set_manager(hr, member, boss)
    assert Profile.objects.get(user=member).manager_ids() == [ceo.pk, boss.pk]
    # Moving a manager moves everyone below.
    set_manager(hr, boss, personas.moderator)
    assert Profile.objects.get(user=member).manager_ids() == [personas.moderator.pk, boss.pk]
    with pytest.raises(ServiceError, match="loop"):
        set_manager(hr, personas.moderator, member)
    with pytest.raises(ServiceError, match="loop"):
        set_manager(hr, member, member)
    with pytest.raises(ServiceError):  # an external customer manages nobody
        set_manager(hr, member, personas.external)
    assert Profile.objects.get(user=personas.moderator).manager is None


def test_org_units_move_with_their_subtree_and_never_under_themselves(
    personas: Personas,
) -> None:
    hr = personas.hr
    top, it, dev = org(hr, "Direction", "IT", "Dev")
    sales = services.org_unit_save(actor=hr, origin=CLI, name="Sales", parent=top)
    services.org_unit_save(actor=hr, origin=CLI, name="IT", parent=sales, unit=it)
    dev.refresh_from_db()
    assert dev.ancestor_ids() == [top.pk, sales.pk, it.pk]
    with pytest.raises(ServiceError):
        services.org_unit_save(actor=hr, origin=CLI, name="IT", parent=dev, unit=it)
    with pytest.raises(access.Forbidden):
        services.org_unit_save(actor=personas.member, origin=CLI, name="X", parent=None)


def test_org_chart_shows_chain_peers_and_reports_in_a_fixed_number_of_queries(
    personas: Personas,
) -> None:
    hr, ceo, boss = personas.hr, personas.owner, personas.animator
    set_manager(hr, boss, ceo)
    reports = [make_user(f"report{i}") for i in range(3)]
    for person in reports:
        set_manager(hr, person, boss)
    set_manager(hr, personas.member, ceo)
    chart = selectors.org_chart(personas.member, boss.pk)
    assert [u.pk for u in chart.chain] == [ceo.pk]
    assert [u.pk for u in chart.peers] == [personas.member.pk]
    assert {u.pk for u in chart.reports} == {u.pk for u in reports}
    assert chart.report_counts == {boss.pk: 3}

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            selectors.org_chart(personas.member, boss.pk)
        return len(captured)

    few = queries()
    for i in range(20):
        set_manager(hr, make_user(f"more{i}"), boss)
    assert queries() == few
    with pytest.raises(access.NotFound):  # the organisation is not for customers
        selectors.org_chart(personas.external, boss.pk)


# --- Search -------------------------------------------------------------------------------


@pytest.fixture
def staff(personas: Personas) -> dict[str, User]:
    """A few colleagues with accents, places, skills and languages."""
    hr = personas.hr
    _, it = org(hr, "Direction", "Informatique")
    lyon = services.site_save(actor=hr, origin=CLI, name="Lyon", city="Lyon", country="FR")
    paris = services.site_save(actor=hr, origin=CLI, name="Paris", city="Paris", country="FR")
    people = {}
    for name, site, skills, languages in [
        ("Éloïse Dubois-Martin", lyon, [("Python", 4), ("SQL", 3)], [("de", "fluent")]),
        ("Camille Laurent", paris, [("Python", 2)], [("en", "fluent")]),
        ("Laurent Camus", lyon, [("Négociation", 3)], [("de", "basic")]),
    ]:
        person = make_user(name.split()[0].lower())
        person.display_name = name
        person.save()
        services.profile_update(
            actor=hr,
            person=person,
            origin=CLI,
            changes={
                "site": site,
                "org_unit": it,
                "job_title": "Ingénieur",
            },
        )
        services.topics_set(
            actor=person, person=person, origin=CLI, kind=TopicKind.SKILL, items=skills
        )
        services.languages_set(actor=person, person=person, origin=CLI, items=languages)
        people[name.split()[0]] = person
    return people


def test_search_ignores_accents_and_case_matches_prefixes_and_tolerates_a_typo(
    personas: Personas, staff: dict[str, User]
) -> None:
    member = personas.member
    assert search(member, "eloise") == ["Éloïse Dubois-Martin"]
    assert search(member, "ÉLOÏSE dubois") == ["Éloïse Dubois-Martin"]
    assert search(member, "dubois martin") == ["Éloïse Dubois-Martin"]
    assert search(member, "elo") == ["Éloïse Dubois-Martin"]
    assert search(member, "Camile") == ["Camille Laurent"]  # one letter missing
    assert search(member, "Laurnet") == ["Camille Laurent", "Laurent Camus"]  # two swapped
    page = selectors.people_search(member, selectors.PeopleQuery(text="Camile"))
    assert page.corrections == {"camile": ["camille"]}
    assert page.facets  # and none asked while typing, the same people found
    typing = selectors.people_search(member, selectors.PeopleQuery(text="Camile"), facets=False)
    assert (typing.results, typing.total, typing.facets) == (page.results, page.total, {})
    assert search(member, "zzzz") == []


def test_relevance_puts_names_before_other_fields_and_all_words_must_match(
    personas: Personas, staff: dict[str, User]
) -> None:
    member = personas.member
    # "Laurent" is Camille's surname and Laurent Camus's first name: both are names.
    assert set(search(member, "laurent")) == {"Camille Laurent", "Laurent Camus"}
    assert search(member, "camille laurent") == ["Camille Laurent"]
    # A skill matches too, below a name.
    assert set(search(member, "python")) == {"Éloïse Dubois-Martin", "Camille Laurent"}
    assert search(member, "lyon python") == ["Éloïse Dubois-Martin"]


def test_filters_and_facets_count_the_whole_match(
    personas: Personas, staff: dict[str, User]
) -> None:
    member = personas.member
    lyon = Site.objects.get(name="Lyon")
    python = staff["Éloïse"].topics.get(topic__key="python").topic
    assert search(member, sites=[lyon.pk]) == ["Éloïse Dubois-Martin", "Laurent Camus"]
    assert search(member, sites=[lyon.pk], skills=[python.pk]) == ["Éloïse Dubois-Martin"]
    assert search(member, languages=["de"]) == ["Éloïse Dubois-Martin", "Laurent Camus"]
    direction = OrgUnit.objects.get(name="Direction")
    assert len(search(member, org_units=[direction.pk])) == 3  # units below count
    page = selectors.people_search(member, selectors.PeopleQuery(), limit=1)
    assert {(f.label, f.count) for f in page.facets["site"]} == {("Lyon", 2), ("Paris", 1)}
    assert ("Python", 2) in {(f.label, f.count) for f in page.facets["skill"]}
    assert ("German", 2) in {(f.label, f.count) for f in page.facets["language"]}


def test_a_new_name_sorts_at_once(personas: Personas, staff: dict[str, User]) -> None:
    member = personas.member
    assert search(member, "lyon", sort="name") == ["Éloïse Dubois-Martin", "Laurent Camus"]
    user_update_self(user=staff["Laurent"], display_name="Albert Camus")
    assert search(member, "lyon", sort="name") == ["Albert Camus", "Éloïse Dubois-Martin"]


def test_a_word_of_one_or_two_letters_matches_the_start_of_names_only(
    personas: Personas, staff: dict[str, User]
) -> None:
    member = personas.member
    assert search(member, "py") == []  # Python is a skill, not a name
    assert search(member, "ca") == ["Camille Laurent", "Laurent Camus"]
    assert search(member, "l") == ["Camille Laurent", "Laurent Camus"]  # not Lyon
    assert search(member, "é d") == ["Éloïse Dubois-Martin"]
    assert len(search(member, "ing")) == 3  # three letters match titles too


def test_past_the_facet_window_counts_are_over_the_first_results(
    personas: Personas, staff: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "FACET_IDS_MAX", 2)
    member = personas.member
    lyon = Site.objects.get(name="Lyon")
    direction = OrgUnit.objects.get(name="Direction")
    for query in (
        selectors.PeopleQuery(text="ingenieur"),
        selectors.PeopleQuery(org_units=[direction.pk]),
    ):
        page = selectors.people_search(member, query, limit=2)
        assert page.facets_partial and page.total >= 3
        assert sum(f.count for f in page.facets["site"]) == 2
        rest = selectors.people_search(member, query, offset=2, limit=2)
        assert rest.results and not {u.pk for u in rest.results} & {u.pk for u in page.results}
    page = selectors.people_search(member, selectors.PeopleQuery(sites=[lyon.pk]))
    assert page.total == 2 and not page.facets_partial


def test_search_takes_a_fixed_number_of_queries(personas: Personas, staff: dict[str, User]) -> None:
    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            found = selectors.people_search(
                personas.member, selectors.PeopleQuery(text="ing"), limit=limit
            )
        assert len(found.results) == min(limit, found.total)
        return len(captured)

    queries(1)  # the viewer's roles load once per request
    assert queries(1) == queries(50)


def test_deactivated_people_leave_the_directory(personas: Personas, staff: dict[str, User]) -> None:
    laurent = staff["Laurent"]
    user_deactivate(actor=personas.admin, origin=CLI, user=laurent)
    assert search(personas.member, "laurent") == ["Camille Laurent"]
    # Out of the index itself: access.PersonTokenRule counts on it.
    assert not PersonToken.objects.filter(user=laurent).exists()
    user_reactivate(actor=personas.admin, origin=CLI, user=laurent)
    assert search(personas.member, "laurent") == ["Camille Laurent", "Laurent Camus"]


def test_an_external_customer_finds_nobody_inside_and_no_internal_word_matches(
    personas: Personas, staff: dict[str, User]
) -> None:
    external = personas.external
    assert search(external, "camille") == []
    assert search(external, "") == ["External"]
    assert search(external, "lyon") == []
    page = selectors.people_search(external, selectors.PeopleQuery())
    assert page.facets == {}
    assert selectors.experts(external, "python") == ([], [])
    assert list(selectors.org_units(external)) == list(selectors.sites(external)) == []


def test_profile_field_words_match_only_for_viewers_who_read_the_field(
    personas: Personas,
) -> None:
    admin, member = personas.admin, personas.member
    services.profile_field_save(
        actor=admin,
        origin=CLI,
        key="badge",
        label="Badge",
        kind=FieldKind.TEXT,
        visibility=Visibility.ADMINS,
    )
    services.field_values_set(actor=member, person=member, origin=CLI, values={"badge": "X9Q7"})
    assert search(admin, "x9q7") == ["Member"]
    assert search(personas.owner, "x9q7") == []
    assert search(personas.hr, "x9q7") == ["Member"]


# --- Expertise, endorsements, follows --------------------------------------------------------


def test_who_knows_ranks_by_declared_level_and_endorsements(
    personas: Personas, staff: dict[str, User]
) -> None:
    eloise, camille = staff["Éloïse"], staff["Camille"]
    topics, experts = selectors.experts(personas.member, "pyth")
    assert [t.name for t in topics] == ["Python"]
    assert [e.person for e in experts] == [eloise, camille]
    python = topics[0]
    for colleague in (personas.owner, personas.member, personas.animator):
        services.endorse(actor=colleague, person=camille, topic=python)
    services.endorse(actor=personas.owner, person=camille, topic=python)  # once per person
    _, experts = selectors.experts(personas.member, "python")
    assert experts[0].person == eloise  # declared expert (4) beats 2 + 3 endorsements (1.5)
    assert [e.kind for e in experts[1].evidence] == ["skill", "endorsements"]
    assert experts[1].evidence[1].label == "3"
    for colleague in (personas.hr, personas.admin):
        services.endorse(actor=colleague, person=camille, topic=python)
    _, experts = selectors.experts(personas.member, "python")
    assert experts[0].person == camille  # colleagues vouch: 2 + 5 * 0.5 = 4.5
    services.endorsement_withdraw(actor=personas.owner, person=camille, topic=python)
    view = selectors.person_view(personas.member, camille.pk)
    assert view.endorsements == {python.pk: 4}
    assert python.pk in view.endorsed_by_viewer


def test_endorsements_need_a_declared_skill_and_another_person(
    personas: Personas, staff: dict[str, User]
) -> None:
    eloise = staff["Éloïse"]
    sql = eloise.topics.get(topic__key="sql").topic
    with pytest.raises(ServiceError):
        services.endorse(actor=eloise, person=eloise, topic=sql)
    with pytest.raises(ServiceError):
        services.endorse(actor=personas.member, person=staff["Laurent"], topic=sql)
    with pytest.raises(access.Forbidden):
        services.endorse(actor=personas.external, person=eloise, topic=sql)


def test_following_needs_no_request_and_lists_only_visible_people(
    personas: Personas,
) -> None:
    member, owner = personas.member, personas.owner
    services.follow(actor=member, person=owner)
    services.follow(actor=member, person=owner)  # idempotent
    services.follow(actor=personas.animator, person=owner)
    assert {u.pk for u in selectors.followers(member, owner)} == {member.pk, personas.animator.pk}
    assert [u.pk for u in selectors.following(owner, member)] == [owner.pk]
    user_deactivate(actor=personas.admin, origin=CLI, user=personas.animator)
    assert [u.pk for u in selectors.followers(member, owner)] == [member.pk]
    services.unfollow(actor=member, person=owner)
    assert not selectors.followers(owner, owner).exists()
    with pytest.raises(ServiceError):
        services.follow(actor=member, person=member)
    with pytest.raises(access.Forbidden):
        services.follow(actor=personas.external, person=owner)


def test_custom_field_values_are_checked_by_kind(personas: Personas) -> None:
    admin, member = personas.admin, personas.member
    for key, kind, choices in [
        ("team", FieldKind.CHOICE, ["Red", "Blue"]),
        ("blog", FieldKind.LINK, []),
        ("since", FieldKind.DATE, []),
    ]:
        services.profile_field_save(
            actor=admin,
            origin=CLI,
            key=key,
            label=key.title(),
            kind=kind,
            visibility=Visibility.EVERYONE,
            choices=choices,
        )
    for values in (
        {"team": "Green"},
        {"blog": "javascript:alert(1)"},
        {"blog": "ftp://example.com"},
        {"since": "31/12/2024"},
        {"unknown": "x"},
        {"team": "x" * 501},
    ):
        with pytest.raises(ServiceError):
            services.field_values_set(actor=member, person=member, origin=CLI, values=values)
    services.field_values_set(
        actor=member,
        person=member,
        origin=CLI,
        values={
            "team": "Red",
            "blog": "https://blog.example.com",
            "since": "2024-12-31",
        },
    )
    assert dict(member.field_values.values_list("field__key", "value")) == {
        "team": "Red",
        "blog": "https://blog.example.com",
        "since": "2024-12-31",
    }
    with pytest.raises(access.Forbidden):
        services.profile_field_save(
            actor=personas.hr,
            origin=CLI,
            key="x",
            label="X",
            kind=FieldKind.TEXT,
            visibility=Visibility.EVERYONE,
        )


def test_topics_are_one_vocabulary_whatever_the_case_or_accents(personas: Personas) -> None:
    member = personas.member
    services.topics_set(
        actor=member,
        person=member,
        origin=CLI,
        kind=TopicKind.EXPERTISE,
        items=[("Négociation", None), ("negociation", None)],
    )
    assert member.topics.count() == 1
    with pytest.raises(ServiceError):
        services.topics_set(
            actor=member, person=member, origin=CLI, kind=TopicKind.SKILL, items=[("Python", None)]
        )
    with pytest.raises(ServiceError):
        services.topics_set(
            actor=member, person=member, origin=CLI, kind=TopicKind.SKILL, items=[("x" * 81, 2)]
        )
    with pytest.raises(ServiceError):
        services.languages_set(actor=member, person=member, origin=CLI, items=[("xx", "fluent")])


def test_people_like_this_share_skills_or_a_unit(
    personas: Personas, staff: dict[str, User]
) -> None:
    similar = selectors.people_like(personas.member, staff["Éloïse"])
    assert similar[0] == staff["Camille"]  # shares Python and the unit
    assert staff["Laurent"] in similar  # shares the unit
    assert selectors.people_like(personas.external, personas.external) == []


def test_a_new_account_has_a_profile_and_is_findable(personas: Personas) -> None:
    from essaim.accounts.services import user_create

    person = user_create(
        actor=personas.admin,
        origin=CLI,
        email="zoe@essaim.test",
        display_name="Zoé Zélie",
        kind=UserKind.EMPLOYEE,
    )
    assert Profile.objects.get(user=person).manager_path == f"/{person.pk}/"
    assert search(personas.member, "zoe") == ["Zoé Zélie"]


def test_did_you_mean_never_proposes_a_word_the_viewer_may_not_read(personas: Personas) -> None:
    admin, member = personas.admin, personas.member
    services.profile_field_save(
        actor=admin,
        origin=CLI,
        key="badge",
        label="Badge",
        kind=FieldKind.TEXT,
        visibility=Visibility.ADMINS,
    )
    services.field_values_set(actor=member, person=member, origin=CLI, values={"badge": "zorglub"})
    for viewer in (personas.owner, personas.external):
        page = selectors.people_search(viewer, selectors.PeopleQuery(text="zorglb"))
        assert (page.total, page.corrections) == (0, {})
    page = selectors.people_search(admin, selectors.PeopleQuery(text="zorglb"))
    assert page.corrections == {"zorglb": ["zorglub"]} and page.total == 1


def test_reindex_people_rebuilds_the_index_and_drops_dead_words(personas: Personas) -> None:
    from django.core.management import call_command

    from essaim.directory.models import PersonToken, TokenVariant

    member = personas.member
    services.profile_update(
        actor=personas.hr, person=member, origin=CLI, changes={"job_title": "Zeppelinist"}
    )
    services.profile_update(
        actor=personas.hr, person=member, origin=CLI, changes={"job_title": "Pilot"}
    )
    assert TokenVariant.objects.filter(token="zeppelinist").exists()
    PersonToken.objects.all().delete()
    call_command("reindex_people", stdout=io.StringIO())
    assert not TokenVariant.objects.filter(token="zeppelinist").exists()
    assert search(personas.owner, "pilot") == ["Member"]
