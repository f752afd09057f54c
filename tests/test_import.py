"""The people import (essaim.directory.importer), its command and its page."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import include, path
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from essaim import access
from essaim.accounts import services as account_services
from essaim.accounts.models import ApiToken, Role, TokenScope, User, UserKind, UserRole
from essaim.cli import main as essaim_main
from essaim.directory import import_views, importer, selectors
from essaim.directory.models import (
    OrgUnit,
    PersonToken,
    Profile,
    ProfileTopic,
    Site,
    SpokenLanguage,
    TopicKind,
)
from essaim.governance.models import AuditEntry
from essaim.http import CLI
from essaim.worker import TaskWorker
from tests.conftest import PASSWORD, Personas, with_csrf

# The page's routes, whether or not essaim/urls.py includes them yet.
urlpatterns = [path("", include("essaim.directory.import_views")), path("", include("essaim.urls"))]

pytestmark = pytest.mark.django_db

HEADER = (
    "email,display_name,kind,job_title,org_unit,site,site_city,manager_email,phone,"
    "timezone,languages,skills,expertise,interests,ask_me_about\n"
)
COMPANY = HEADER + (
    "ceo@corp.test,Alice Martin,,Présidente,Direction générale,Paris Siège,Paris,,"
    '+33 1 00 00 00 01,Europe/Paris,"fr:native, en:fluent",Stratégie:4,Gouvernance,'
    "Voile,Stratégie\n"
    "cfo@corp.test,Bruno Petit,,Directeur financier,Direction générale / Finance,"
    'Paris Siège,Paris,ceo@corp.test,,Europe/Paris,fr:native,"IFRS:4, Consolidation:3",'
    "Contrôle de gestion,,IFRS\n"
    "dev@corp.test,Chloé Durand,,Développeuse,Direction générale / SI / Équipe 1,Nantes,,"
    'cfo@corp.test,,,"fr:native, en:working","Python:3, SQL:2",,Escalade,\n'
    "client@other.test,Dana Client,external,Acheteuse,,,,,,,en:native,,,,\n"
)


def run(text: str, actor: User | None = None) -> importer.Plan:
    return importer.apply(importer.parse(text.encode()), actor=actor, origin=CLI)


def dry(text: str | bytes, actor: User | None = None) -> importer.Plan:
    data = text.encode() if isinstance(text, str) else text
    return importer.plan(importer.parse(data), actor=actor)


def errors_of(text: str | bytes) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.message) for e in dry(text).errors]


def test_a_file_creates_people_units_sites_and_managers() -> None:
    done = run(COMPANY)

    assert done.summary() == {
        "rows": 4, "created": 4, "updated": 0, "unchanged": 0, "deactivated": 0,
        "reactivated": 0, "units_created": 4, "units_updated": 0, "sites_created": 2,
        "sites_updated": 0, "errors": 0,
    }  # fmt: skip
    ceo, cfo, dev, client = (
        User.objects.get(email=e)
        for e in ("ceo@corp.test", "cfo@corp.test", "dev@corp.test", "client@other.test")
    )
    assert not ceo.has_usable_password() and ceo.is_active
    assert client.kind == UserKind.EXTERNAL and client.profile.org_unit is None
    assert dev.profile.manager == cfo and cfo.profile.manager == ceo
    assert dev.profile.manager_path == f"/{ceo.pk}/{cfo.pk}/{dev.pk}/"
    team = dev.profile.org_unit
    assert team is not None and team.name == "Équipe 1"
    assert [u.name for u in OrgUnit.objects.filter(pk__in=team.ancestor_ids())] == [
        "Direction générale",
        "SI",
    ]
    assert Site.objects.get(name="Nantes").city == "Nantes"  # the name when no city is given
    assert Site.objects.get(name="Paris Siège").country == "FR"
    skills = ProfileTopic.objects.filter(user=cfo, kind=TopicKind.SKILL)
    assert {(t.topic.name, t.level) for t in skills} == {("IFRS", 4), ("Consolidation", 3)}
    assert set(SpokenLanguage.objects.filter(user=dev).values_list("language", "level")) == {
        ("fr", "native"),
        ("en", "working"),
    }
    # Findable at once: the search index and "who knows …" see the new people.
    assert PersonToken.objects.filter(user=cfo, token="ifrs").exists()
    _topics, experts = selectors.experts(ceo, "IFRS")
    assert [e.person for e in experts] == [cfo]


def test_the_same_file_twice_changes_nothing_the_second_time() -> None:
    run(COMPANY)
    before = list(Profile.objects.order_by("id").values())
    entries = AuditEntry.objects.count()

    again = run(COMPANY)

    assert again.summary()["unchanged"] == 4
    assert not again.has_changes
    assert [p.action for p in again.people] == ["unchanged"] * 4
    assert list(Profile.objects.order_by("id").values()) == before
    assert AuditEntry.objects.count() == entries  # nothing done, nothing to record
    assert OrgUnit.objects.count() == 4 and Site.objects.count() == 2


def test_an_update_changes_only_the_columns_of_the_file(personas: Personas) -> None:
    member = personas.member
    Profile.objects.filter(user=member).update(job_title="Analyste", phone="+33 1 11 11 11 11")
    text = "email,job_title,mobile_phone,skills\nmember@essaim.test,Analyste senior,,Excel:2\n"

    plan = dry(text)
    [person] = plan.people
    assert person.action == "update"
    assert [(c.column, c.old, c.new) for c in plan.changes(person)] == [
        ("job_title", "Analyste", "Analyste senior"),
        ("skills", "", "Excel:2"),
    ]
    run(text)
    profile = Profile.objects.get(user=member)
    assert profile.job_title == "Analyste senior"
    assert profile.phone == "+33 1 11 11 11 11"  # no phone column: untouched
    assert User.objects.get(pk=member.pk).display_name == "Member"

    cleared = run("email,job_title,skills\nmember@essaim.test,,\n")  # empty cells clear
    assert [p.changed for p in cleared.people] == [("job_title", "skills")]
    assert Profile.objects.get(user=member).job_title == ""
    assert not ProfileTopic.objects.filter(user=member).exists()


def test_a_dry_run_writes_nothing() -> None:
    plan = dry(COMPANY)

    assert plan.ok and plan.summary()["created"] == 4
    assert not User.objects.exists() and not OrgUnit.objects.exists()
    assert not Site.objects.exists() and not AuditEntry.objects.exists()


COLUMNS = HEADER.strip().split(",")


def line(**cells: str) -> str:
    """One row of HEADER's columns, quoted as a spreadsheet would."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([cells.get(c, "") for c in COLUMNS])
    return out.getvalue()


ROW_ERRORS = [
    ({"email": "bad-address"}, "email", "valid e-mail"),
    ({"display_name": "\u200b\u200b"}, "display_name", "display name is required"),
    ({"display_name": ""}, "display_name", "display name is required"),
    ({"display_name": "A\x07"}, "display_name", "control characters"),
    ({"display_name": "A" * 151}, "display_name", "At most 150"),
    ({"kind": "chef"}, "kind", "employee or external"),
    ({"job_title": "Ingénieur" + "e" * 150}, "job_title", "At most 150"),
    ({"manager_email": "nobody@corp.test"}, "manager_email", "Unknown manager"),
    ({"manager_email": "x@corp.test"}, "manager_email", "own manager"),
    ({"manager_email": "not an address"}, "manager_email", "valid e-mail"),
    ({"timezone": "Europe/Lutèce"}, "timezone", "Unknown time zone"),
    ({"languages": "fr:courant"}, "languages", "code:level"),
    ({"languages": "xx:native"}, "languages", "Unknown language"),
    ({"languages": "fr:native, FR:basic"}, "languages", "listed twice"),
    ({"skills": "Python:5"}, "skills", "level from 1 to 4"),
    ({"skills": "Python"}, "skills", "level from 1 to 4"),
    ({"expertise": "Droit , droit"}, "expertise", "listed twice"),
    ({"interests": "y" * 81}, "interests", "1 to 80"),
    ({"phone": "+33 (0)1 ext. 5"}, "phone", "digits"),
    ({"org_unit": "Direction générale /  / Finance"}, "org_unit", "empty"),
    ({"org_unit": "U" * 151}, "org_unit", "At most 150"),
    ({"site": "S" * 151}, "site", "At most 150"),
]


@pytest.mark.parametrize(("cells", "column", "message"), ROW_ERRORS)
def test_every_row_error_names_its_row_and_column(
    cells: dict[str, str], column: str, message: str
) -> None:
    good = line(email="ok@corp.test", display_name="Ok")
    text = HEADER + good + "\n" + line(**{"email": "x@corp.test", "display_name": "X", **cells})

    [(row, got_column, got_message)] = errors_of(text)

    assert (row, got_column) == (4, column)  # header 1, good row 2, blank row 3
    assert message in got_message, got_message
    with pytest.raises(importer.ImportRefused):
        run(text)
    assert not User.objects.exists()  # the good row is not written either


def test_a_row_with_the_wrong_number_of_cells_is_named() -> None:
    text = HEADER + line(email="ok@corp.test", display_name="Ok") + "a@corp.test,A\n"
    text += line(email="b@corp.test", display_name="B").strip() + ",extra\n"

    assert errors_of(text) == [
        (3, "", "This row has 2 cells where the header has 15."),
        (4, "", "This row has 16 cells where the header has 15."),
    ]


def test_a_new_person_needs_a_name_and_an_e_mail_appears_once() -> None:
    text = "email,job_title\nnew@corp.test,Dev\n"
    assert errors_of(text) == [(2, "display_name", "A new person needs a display name.")]
    twice = "email,display_name\na@corp.test,A\nb@corp.test,B\nA@Corp.test,A again\n"
    assert errors_of(twice) == [(4, "email", "This e-mail is on row 2 already.")]


@pytest.mark.parametrize(
    ("data", "row", "message"),
    [
        (b"", 1, "empty"),
        (b"\xef\xbb\xbf  \n\n", 1, "empty"),
        (b"email,salary\na@corp.test,1\n", 1, "Unknown columns: salary"),
        (b"display_name\nA\n", 1, "The email column is required"),
        (b"email,email\na@corp.test,b@corp.test\n", 1, "appears twice"),
        (b"email,site_city\na@corp.test,Lyon\n", 1, "goes with the site column"),
        (b'email,display_name\na@corp.test,A\nb@corp.test,"B\n', 3, "not a CSV file"),
        (b"email,display_name\na@corp.test,A\x00\n", 2, "not a CSV file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 1, "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(data: bytes, row: int, message: str) -> None:
    [(got_row, _column, got_message)] = errors_of(data)
    assert got_row == row and message in got_message


def test_a_latin_1_file_is_refused_with_the_row_of_its_first_accent() -> None:
    text = "email;display_name\na@corp.test;Anne\nb@corp.test;Bérénice\n"

    [(row, column, message)] = errors_of(text.encode("latin-1"))

    assert (row, column) == (3, "")
    assert "not UTF-8" in message and "CSV UTF-8" in message


def test_a_semicolon_file_with_a_byte_order_mark_and_odd_header_case() -> None:
    text = '\ufeffEmail; Display_Name ;Skills\r\na@corp.test;Anne;"Python:3, C++:2"\r\n'

    done = run(text)

    assert done.sheet.delimiter == ";"
    anne = User.objects.get(email="a@corp.test")
    assert anne.display_name == "Anne"
    assert set(ProfileTopic.objects.filter(user=anne).values_list("topic__name", "level")) == {
        ("Python", 3),
        ("C++", 2),
    }


def test_a_manager_loop_names_every_row_in_it_and_nothing_is_written() -> None:
    text = (
        "email,display_name,manager_email\n"
        "boss@corp.test,Boss,\n"
        "a@corp.test,A,c@corp.test\n"
        "b@corp.test,B,a@corp.test\n"
        "ok@corp.test,Ok,boss@corp.test\n"
        "c@corp.test,C,b@corp.test\n"
    )

    assert errors_of(text) == [(3, "manager_email", "Rows 3, 4, 6 form a reporting loop.")]
    with pytest.raises(importer.ImportRefused) as refused:
        run(text)
    assert refused.value.plan.errors[0].row == 3
    assert not User.objects.exists() and not AuditEntry.objects.exists()


def test_a_loop_through_someone_already_in_essaim_is_refused_too() -> None:
    run(
        "email,display_name,manager_email\nboss@corp.test,Boss,\nmid@corp.test,Mid,boss@corp.test\n"
    )

    [(row, column, message)] = errors_of("email,manager_email\nboss@corp.test,mid@corp.test\n")

    assert (row, column) == (2, "manager_email")
    assert message == "Rows 2 form a reporting loop with mid@corp.test (already in Essaim)."


def test_moving_a_manager_moves_the_chain_of_everyone_below() -> None:
    run(
        "email,display_name,manager_email\n"
        "a@corp.test,A,\nb@corp.test,B,\nmid@corp.test,Mid,a@corp.test\n"
        "low@corp.test,Low,mid@corp.test\n"
    )
    run("email,manager_email\nmid@corp.test,b@corp.test\n")  # low is not in this file

    ids = dict(User.objects.values_list("email", "id"))
    low = Profile.objects.get(user_id=ids["low@corp.test"])
    assert (
        low.manager_path == f"/{ids['b@corp.test']}/{ids['mid@corp.test']}/{ids['low@corp.test']}/"
    )
    assert selectors.org_chart(User.objects.get(pk=ids["a@corp.test"]), low.user_id).chain[
        0
    ].email == ("b@corp.test")


def test_a_unit_code_renames_the_unit_its_members_keep() -> None:
    run("email,display_name,org_unit,org_unit_code\na@corp.test,A,Groupe / Informatique,IT\n")
    unit = OrgUnit.objects.get(code="IT")

    plan = dry("email,org_unit,org_unit_code\na@corp.test,Groupe / Systèmes d'information,IT\n")
    assert plan.unit_changes() == [(2, "Groupe / Informatique", "Groupe / Systèmes d'information")]
    assert plan.summary()["units_updated"] == 1 and plan.people[0].action == "unchanged"
    importer.apply(plan.sheet, actor=None, origin=CLI)

    unit.refresh_from_db()
    assert unit.name == "Systèmes d'information"
    assert Profile.objects.get(user__email="a@corp.test").org_unit == unit
    # Its members are found under the new name.
    assert PersonToken.objects.filter(user__email="a@corp.test", token="systemes").exists()


def test_active_no_deactivates_and_ends_sessions_and_tokens(
    personas: Personas, signed_in: Callable[[User], Client]
) -> None:
    member = personas.member
    signed_in(member)
    account_services.token_create(user=member, name="t", scope=TokenScope.READ, password=PASSWORD)
    assert Session.objects.count() == 1

    done = run("email,active\nmember@essaim.test,no\ndeactivated@essaim.test,yes\n")

    assert (done.deactivate, done.reactivate) == ([member.pk], [personas.deactivated.pk])
    member.refresh_from_db()
    assert not member.is_active and member.deactivated_at is not None
    assert not ApiToken.objects.filter(user=member, revoked_at=None).exists()
    assert not Session.objects.exists()
    assert User.objects.get(pk=personas.deactivated.pk).is_active
    # The people index holds active people only (access.PersonTokenRule counts on it).
    assert not PersonToken.objects.filter(user=member).exists()
    assert PersonToken.objects.filter(user=personas.deactivated, token="deactivated").exists()
    entry = AuditEntry.objects.get(action="people.import")
    assert entry.data["deactivated_ids"] == [member.pk]
    # An empty cell leaves the account as it is.
    assert not run("email,active\nmember@essaim.test,\n").has_changes


def test_an_import_cannot_deactivate_its_author_and_hr_not_an_administrator(
    personas: Personas,
) -> None:
    hr = personas.owner
    UserRole.objects.create(user=hr, role=Role.HR)
    text = "email,active\nowner@essaim.test,no\nadmin@essaim.test,no\n"

    errors = [(e.row, e.message) for e in dry(text, actor=User.objects.get(pk=hr.pk)).errors]

    assert errors == [
        (2, "You cannot deactivate your own account."),
        (3, "Only an administrator can deactivate an administrator."),
    ]
    assert dry("email,active\nowner@essaim.test,no\n", actor=personas.admin).errors == []


def test_only_hr_and_administrators_import(personas: Personas) -> None:
    for user in (personas.member, personas.compliance, personas.external, personas.deactivated):
        with pytest.raises(access.Forbidden):
            dry(COMPANY, actor=user)
        with pytest.raises(access.Forbidden):
            run(COMPANY, actor=user)
    assert not User.objects.filter(email__endswith="corp.test").exists()


def test_the_audit_entry_has_the_actor_and_the_counts(personas: Personas) -> None:
    run(COMPANY, actor=personas.admin)

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor) == ("people.import", personas.admin)
    assert entry.data["created"] == 4 and entry.data["units_created"] == 4
    assert entry.data["sites_created"] == 2


# --- The command ---------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "people.csv"
    file.write_text(text, encoding="utf-8")
    return file


def test_the_command_shows_the_report_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("import_people", str(write(tmp_path, COMPANY)), "--dry-run", stdout=out)

    text = out.getvalue()
    assert "4 rows read." in text
    assert "row 3: create cfo@corp.test: display_name “Bruno Petit”" in text
    assert "row 2: org unit “Direction générale”" in text
    assert "Dry run: nothing was written." in text
    assert not User.objects.exists()


def test_the_command_applies_with_yes_and_draws_a_progress_bar(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_people", str(write(tmp_path, COMPANY)), "--yes", stdout=out, stderr=err)

    assert "Imported: 4 created, 0 updated, 0 unchanged, 0 deactivated." in out.getvalue()
    assert err.getvalue().startswith("\rImporting [") and "100%" in err.getvalue()
    assert User.objects.count() == 4

    again = io.StringIO()
    call_command("import_people", str(write(tmp_path, COMPANY)), "--yes", stdout=again)
    assert "Nothing to change." in again.getvalue()


def test_the_command_without_yes_outside_a_terminal_asks_for_it(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--yes"):
        call_command("import_people", str(write(tmp_path, COMPANY)), stdout=io.StringIO())
    assert not User.objects.exists()


def test_the_command_lists_every_error_and_exits_with_1(tmp_path: Path) -> None:
    bad = HEADER + "".join(
        line(email=f"p{i}@corp.test", display_name=f"P{i}", skills="Python:9") for i in range(60)
    )
    out = io.StringIO()

    with pytest.raises(CommandError, match="60 errors: nothing was imported") as failed:
        call_command("import_people", str(write(tmp_path, bad)), "--yes", stdout=out)

    assert failed.value.returncode == 1  # what `essaim import-people` exits with
    assert "Errors (60):" in out.getvalue()
    assert "row 61, skills: Write each skill as name:level" in out.getvalue()  # all, not 50
    assert not User.objects.exists()


def test_essaim_import_people_runs_the_import_people_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In-process execute_from_command_line would close the test's database connection.
    seen: list[list[str]] = []
    monkeypatch.setattr(
        "django.core.management.execute_from_command_line", lambda argv: seen.append(argv)
    )
    essaim_main(["import-people", "people.csv", "--dry-run"])
    essaim_main(["migrate", "--run-syncdb"])
    assert seen == [
        ["essaim", "import_people", "people.csv", "--dry-run"],
        ["essaim", "migrate", "--run-syncdb"],
    ]


# --- The page ------------------------------------------------------------------------


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client: Client, text: str | bytes, name: str = "export.csv") -> Any:
    data = text.encode() if isinstance(text, str) else text
    file = io.BytesIO(data)
    file.name = name
    return client.post("/manage/people/import/", {"file": file})


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_apply_queues_the_import_once(
    personas: Personas, signed_in: Callable[[User], Client], media: Path
) -> None:
    admin = signed_in(personas.admin)
    with_csrf(admin)
    report_url = upload(admin, COMPANY)["Location"]
    # The second click's request read the session before the first one wrote it back.
    twin_session = SessionStore()
    twin_session.update(dict(admin.session))
    twin_session.create()
    account_services.session_register(
        user=personas.admin, session_key=twin_session.session_key or "", origin=CLI
    )
    twin = with_csrf(Client())
    twin.cookies[settings.SESSION_COOKIE_NAME] = twin_session.session_key or ""

    assert admin.post(report_url + "apply/").status_code == 302
    assert twin.post(report_url + "apply/").status_code == 302
    assert DBTaskResult.objects.filter(task_path__endswith="import_people").count() == 1
    TaskWorker(batch=True, interval=0).run()
    assert "Import done" in admin.get(report_url).content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_an_administrator_uploads_reads_the_report_and_applies(
    personas: Personas, signed_in: Callable[[User], Client], media: Path
) -> None:
    admin = signed_in(personas.admin)
    with_csrf(admin)
    assert admin.get("/manage/people/import/").status_code == 200

    response = upload(admin, COMPANY, name="../../etc/passwd.csv")
    assert response.status_code == 302
    report_url = response["Location"]
    [stored] = (media / "imports").iterdir()
    assert stored.name.removesuffix(".csv") in report_url and len(stored.stem) == 32
    page = admin.get(report_url).content.decode()
    assert "Alice Martin" in page and "Direction générale / Finance" in page
    assert "Apply" in page
    assert not User.objects.filter(email__endswith="corp.test").exists()

    assert admin.post(report_url + "apply/").status_code == 302
    waiting = admin.get(report_url + "status/").content.decode()
    assert 'hx-trigger="every 2s"' in waiting and "<html" not in waiting
    TaskWorker(batch=True, interval=0).run()

    done = admin.get(report_url).content.decode()
    assert "Import done" in done and 'hx-trigger="every' not in done
    assert User.objects.filter(email__endswith="corp.test").count() == 3
    assert not stored.exists()  # applied: the file is gone
    entry = AuditEntry.objects.get(action="people.import")
    assert entry.actor == personas.admin and entry.data["created"] == 4


@pytest.mark.urls(__name__)
def test_the_page_reports_errors_with_their_rows_and_offers_no_apply(
    personas: Personas, signed_in: Callable[[User], Client], media: Path
) -> None:
    admin = signed_in(personas.admin)
    with_csrf(admin)
    response = upload(admin, HEADER + line(email="bad", display_name="X"))

    page = admin.get(response["Location"]).content.decode()

    assert "Enter a valid e-mail address." in page and '<th scope="row">2</th>' in page
    assert "/apply/" not in page


@pytest.mark.urls(__name__)
def test_hr_may_import_and_everyone_else_gets_404(
    personas: Personas, signed_in: Callable[[User], Client], media: Path
) -> None:
    UserRole.objects.create(user=personas.owner, role=Role.HR)
    assert signed_in(personas.owner).get("/manage/people/import/").status_code == 200
    admin = signed_in(personas.admin)
    with_csrf(admin)
    report_url = upload(admin, COMPANY)["Location"]

    for user in (personas.member, personas.compliance, personas.external, personas.moderator):
        client = signed_in(user)
        with_csrf(client)
        assert client.get("/manage/people/import/").status_code == 404
        assert upload(client, COMPANY).status_code == 404
        assert client.get(report_url).status_code == 404
        assert client.post(report_url + "apply/").status_code == 404
    # Another administrator's session does not know this upload either.
    other = signed_in(
        User.objects.create_user("a2@essaim.test", PASSWORD, display_name="A2", is_admin=True)
    )
    assert other.get(report_url).status_code == 404
    assert Client().get("/manage/people/import/").status_code == 302  # to the sign-in page


@pytest.mark.urls(__name__)
def test_a_file_too_large_is_refused_with_a_clear_message(
    personas: Personas,
    signed_in: Callable[[User], Client],
    media: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(import_views, "MAX_BYTES", 1000)
    admin = signed_in(personas.admin)
    with_csrf(admin)

    response = upload(admin, COMPANY * 3)

    assert response.status_code == 400
    assert "The file is larger than" in response.content.decode()
    # Far too large: refused from its length, before the body is read.
    huge = upload(admin, COMPANY * 200)
    assert huge.status_code == 413 and "The file is larger than" in huge.content.decode()
    assert not (media / "imports").exists()


@pytest.mark.urls(__name__)
def test_an_upload_without_its_csrf_token_is_refused_and_stores_nothing(
    personas: Personas, signed_in: Callable[[User], Client], media: Path
) -> None:
    """The upload view skips Django's CSRF middleware only to refuse an oversized body
    before reading it; the check itself still runs on every upload."""
    admin = signed_in(personas.admin)  # enforces CSRF, and sends no token
    response = upload(admin, COMPANY)
    assert response.status_code == 403
    assert not (media / "imports").exists() or not any((media / "imports").iterdir())
