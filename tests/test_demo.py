"""The demo organisation (essaim/demo.py) and the `essaim demo` command."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from essaim.accounts.models import Role, User, UserKind
from essaim.communities.models import Community, Kind, Visibility
from essaim.demo import (
    DEMO_ADMIN_EMAIL,
    DEMO_PASSWORD,
    DEPARTMENTS,
    EXTERNALS,
    GROUP,
    LEAD,
    PERSONAS,
    ROOT,
    SITES,
    DemoError,
    build_organisation,
    demo_exists,
)
from essaim.directory import selectors
from essaim.directory.models import (
    OrgUnit,
    Profile,
    ProfileTopic,
    Site,
    SkillLevel,
    SpokenLanguage,
    TopicKind,
)
from essaim.governance.models import AuditEntry

pytestmark = pytest.mark.django_db

UNITS = [ROOT, *DEPARTMENTS, *(u for d in DEPARTMENTS for u in d.units)]
ENGLISH_TITLES = {t[1] for u in UNITS for t in (u.head, *u.titles, LEAD, GROUP)}


def employees() -> list[Profile]:
    return list(
        Profile.objects.filter(user__kind=UserKind.EMPLOYEE).select_related("user", "org_unit")
    )


def snapshot() -> list[tuple[object, ...]]:
    return list(
        Profile.objects.order_by("user__email").values_list(
            "user__email", "user__display_name", "user__language", "job_title",
            "org_unit__name", "org_unit__parent__name", "site__name", "manager__email", "phone",
        )
    )  # fmt: skip


def wipe() -> None:
    Community.objects.all().delete()
    User.objects.all().delete()
    while OrgUnit.objects.exists():  # leaves first: a unit's parent is protected
        OrgUnit.objects.filter(children=None).delete()


def test_a_small_organisation_has_the_right_counts() -> None:
    summary = build_organisation(users=60)

    assert (summary.users, summary.externals, summary.sites) == (60, len(EXTERNALS), len(SITES))
    people = User.objects.exclude(kind=UserKind.BOT)  # the chat's bots are no one
    assert people.count() == 60 == Profile.objects.filter(user__in=people).count()
    assert User.objects.filter(kind=UserKind.EXTERNAL).count() == len(EXTERNALS)
    assert OrgUnit.objects.count() == summary.units
    assert Site.objects.count() == len(SITES)
    assert OrgUnit.objects.get(parent=None).name == "Direction générale"
    # Communities of every visibility, one archived project, customers in theirs.
    assert summary.communities == Community.objects.count() >= 25
    assert set(Community.objects.values_list("visibility", flat=True)) == set(Visibility)
    assert Community.objects.filter(kind=Kind.PROJECT, archived_at__isnull=False).exists()
    customers = Community.objects.get(name="Club clients").memberships
    assert customers.filter(user__kind=UserKind.EXTERNAL).exists()
    top = set(
        OrgUnit.objects.filter(parent__parent=None, parent__isnull=False).values_list(
            "name", flat=True
        )
    )
    assert top == {d.name for d in DEPARTMENTS}
    assert all(p.org_unit and p.site_id and p.job_title and p.phone for p in employees())


def test_external_customers_have_no_place_in_the_organisation() -> None:
    build_organisation(users=60)

    externals = Profile.objects.filter(user__kind=UserKind.EXTERNAL).select_related("user")
    assert len(externals) == len(EXTERNALS)
    for profile in externals:
        assert not profile.user.email.endswith("@essaim.test")
        assert (profile.org_unit, profile.site, profile.manager) == (None, None, None)


def test_every_manager_chain_ends_at_the_ceo_without_cycles() -> None:
    build_organisation(users=60)

    manager_of = {p.user_id: p.manager_id for p in employees()}
    [ceo] = [user for user, manager in manager_of.items() if manager is None]
    for person in manager_of:
        seen = set()
        while manager_of[person] is not None:
            assert person not in seen, "the manager tree has a cycle"
            seen.add(person)
            person = manager_of[person]
        assert person == ceo
    assert Profile.objects.get(user_id=ceo).job_title in {
        "Président-directeur général", "Présidente-directrice générale", "Chief Executive Officer",
    }  # fmt: skip


def test_managers_report_up_the_unit_tree() -> None:
    build_organisation(users=60)

    by_user = {p.user_id: p for p in employees()}
    for profile in by_user.values():
        if profile.manager_id is None:
            continue
        boss = by_user[profile.manager_id]
        assert boss.org_unit_id in {profile.org_unit_id, profile.org_unit.parent_id}


def test_emails_are_unique_ascii_and_lower_case() -> None:
    build_organisation(users=300)

    emails = list(User.objects.filter(kind=UserKind.EMPLOYEE).values_list("email", flat=True))
    assert len(emails) == len(set(emails)) == 300 - len(EXTERNALS)
    for email in emails:
        assert re.fullmatch(r"[a-z0-9-]+\.[a-z0-9-]+[0-9]*@essaim\.test", email), email


def test_french_and_english_people_have_titles_in_their_language() -> None:
    build_organisation(users=1500)  # large enough for team leads too

    people = employees()
    languages = Counter(p.user.language for p in people)
    assert set(languages) == {"fr", "en"}
    assert 0.05 < languages["en"] / len(people) < 0.3
    for p in people:
        is_english_title = p.job_title in ENGLISH_TITLES
        assert is_english_title == (p.user.language == "en"), (p.user.language, p.job_title)


def test_the_admin_persona_can_sign_in_and_is_admin() -> None:
    build_organisation(users=60)

    user = authenticate(None, username=DEMO_ADMIN_EMAIL.upper(), password=DEMO_PASSWORD)
    assert isinstance(user, User)
    assert user.is_admin and user.has_role(Role.COMMUNICATIONS)
    assert user.display_name == "Camille Laurent"
    assert demo_exists()


def test_personas_have_their_roles_and_only_the_admin_is_admin() -> None:
    build_organisation(users=60)

    for persona in PERSONAS:
        user = User.objects.get(email=persona.email)
        assert user.roles == {persona.role}
        assert user.profile.manager is not None
    assert list(User.objects.filter(is_admin=True).values_list("email", flat=True)) == [
        DEMO_ADMIN_EMAIL
    ]
    external = User.objects.get(email=EXTERNALS[0].email)
    assert authenticate(None, username=external.email, password=DEMO_PASSWORD) == external


def test_large_organisations_are_split_into_small_teams() -> None:
    summary = build_organisation(users=1500)

    sizes = OrgUnit.objects.annotate(n=Count("members")).values_list("n", flat=True)
    assert max(sizes) <= 60
    assert OrgUnit.objects.filter(name__contains="Équipe").exists()
    assert summary.units == OrgUnit.objects.count()
    reports = Profile.objects.values("manager").annotate(n=Count("id")).values_list("n", flat=True)
    assert max(reports) <= 60


def test_the_same_seed_gives_the_same_organisation() -> None:
    build_organisation(users=80, seed=7)
    first = snapshot()
    wipe()

    build_organisation(users=80, seed=7)
    assert snapshot() == first
    wipe()

    build_organisation(users=80, seed=8)
    assert snapshot() != first


def test_too_small_or_twice_is_refused() -> None:
    with pytest.raises(DemoError, match="at least"):
        build_organisation(users=5)
    build_organisation(users=60)
    with pytest.raises(DemoError, match="already loaded"):
        build_organisation(users=60)
    assert User.objects.exclude(kind=UserKind.BOT).count() == 60


def test_the_command_with_if_empty_twice_creates_once() -> None:
    out = io.StringIO()
    call_command("demo", "--if-empty", "--users", "40", stdout=out)
    call_command("demo", "--if-empty", "--users", "40", stdout=out)

    assert User.objects.exclude(kind=UserKind.BOT).count() == 40
    text = out.getvalue()
    assert "Demo organisation loaded: 40 accounts" in text
    assert f"{DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}" in text
    assert "not loaded" in text


def test_the_command_refuses_when_the_demo_is_loaded() -> None:
    call_command("demo", "--users", "40", stdout=io.StringIO())

    with pytest.raises(CommandError, match="already loaded"):
        call_command("demo", stdout=io.StringIO())
    assert User.objects.exclude(kind=UserKind.BOT).count() == 40


def test_the_command_refuses_a_too_small_organisation() -> None:
    with pytest.raises(CommandError, match="at least"):
        call_command("demo", "--users", "3", stdout=io.StringIO())
    assert not User.objects.exists()


def test_the_demo_is_loaded_through_the_people_import() -> None:
    build_organisation(users=60)

    entry = AuditEntry.objects.get(action="people.import")
    assert entry.actor is None and entry.data["created"] == 60
    assert entry.data["units_created"] == OrgUnit.objects.count()


def test_people_know_what_fits_their_department_and_speak_their_languages() -> None:
    build_organisation(users=400)

    staff = employees()
    with_skills = set(
        ProfileTopic.objects.filter(kind=TopicKind.SKILL).values_list("user_id", flat=True)
    )
    assert {p.user_id for p in staff} <= with_skills
    assert set(
        ProfileTopic.objects.filter(kind=TopicKind.SKILL).values_list("level", flat=True)
    ) <= set(SkillLevel.values)
    for kind in (
        TopicKind.EXPERTISE,
        TopicKind.INTEREST,
        TopicKind.PROJECT,
        TopicKind.ASK_ME_ABOUT,
    ):
        assert ProfileTopic.objects.filter(kind=kind).exists(), kind
    # "Who knows IFRS?" finds finance people, and "who knows Kubernetes?" engineers.
    finance = OrgUnit.objects.get(name="Finance").path
    viewer = User.objects.get(email=DEMO_ADMIN_EMAIL)
    _topics, experts = selectors.experts(viewer, "IFRS")
    assert experts and all(e.person.profile.org_unit.path.startswith(finance) for e in experts)
    _topics, experts = selectors.experts(viewer, "Kubernetes")
    units = {e.person.profile.org_unit.path.split("/")[2] for e in experts}
    assert units <= {
        str(OrgUnit.objects.get(name=name).pk)
        for name in ("Recherche & Développement", "Systèmes d'information")
    }
    native: dict[int, set[str]] = {}
    for user_id, language in SpokenLanguage.objects.filter(level="native").values_list(
        "user_id", "language"
    ):
        native.setdefault(user_id, set()).add(language)
    for profile in staff:
        expected = "de" if profile.site.country == "DE" else profile.user.language
        assert expected in native[profile.user_id]  # fr, or en for the internationals
