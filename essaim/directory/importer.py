"""Import people from an HR export (CSV): accounts, profiles, org units, sites, managers,
skills and languages. The same file imported twice changes nothing the second time.

    sheet = importer.parse(data)                        # never raises: errors in sheet.errors
    plan = importer.plan(sheet, actor=actor)            # the dry run: changes and row errors
    plan = importer.apply(sheet, actor=actor, origin=origin, progress=callback)

``apply`` plans again inside its transaction, because the database may have changed
since the dry run, and refuses (ImportRefused) when any row has an error: nothing is ever
half-applied. Every error names its row as a spreadsheet shows it (the header is row 1)
and its column.

Columns (COLUMNS) are matched case-insensitively; only ``email`` is required. A column
absent from the file leaves that field untouched; an empty cell clears it (``active``
excepted: empty leaves the account as it is). People are matched by e-mail, org units by
``org_unit_code`` or else by name under their parent, sites by name; units and sites are
created as needed. The command's help (import_people.EPILOG) describes each column.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from essaim import access, bulk
from essaim.accounts.models import ApiToken, Role, User, UserKind, UserSession, normalize_email

# The rule of a display name lives in accounts.services; reused here rather than copied
# so that an import and the settings page can never disagree about a name.
from essaim.accounts.services import ServiceError, _clean_display_name
from essaim.communities import services as community_services
from essaim.governance.services import audit_record
from essaim.http import Origin

from . import index
from .models import (
    LanguageLevel,
    OrgUnit,
    Profile,
    ProfileTopic,
    Site,
    SkillLevel,
    SpokenLanguage,
    Topic,
    TopicKind,
)
from .services import MAX_LANGUAGES, MAX_TOPICS, PHONE, TIMEZONES
from .text import LANGUAGES, normalize

TOPIC_COLUMNS: dict[str, TopicKind] = {
    "skills": TopicKind.SKILL,
    "expertise": TopicKind.EXPERTISE,
    "interests": TopicKind.INTEREST,
    "projects": TopicKind.PROJECT,
    "ask_me_about": TopicKind.ASK_ME_ABOUT,
}
PROFILE_TEXT = ("job_title", "phone", "mobile_phone", "timezone", "pronouns")
COLUMNS = (
    "email",
    "display_name",
    "kind",
    "job_title",
    "org_unit",
    "org_unit_code",
    "site",
    "site_city",
    "site_country",
    "manager_email",
    "phone",
    "mobile_phone",
    "timezone",
    "pronouns",
    "languages",
    *TOPIC_COLUMNS,
    "active",
)
# What a column changes on a person (the others only describe units and sites).
PERSON_COLUMNS = tuple(
    c for c in COLUMNS if c not in {"email", "org_unit_code", "site_city", "site_country"}
)
UNIT_SEPARATOR = " / "
# A slash between spaces (or at an end) separates units; "R&D/Innovation" is one name.
SEPARATOR = re.compile(r"(?:^|\s)/(?:\s|$)")
TOPIC_MAX = Topic._meta.get_field("name").max_length or 80
EMAIL_MAX = User._meta.get_field("email").max_length or 254
NAME_MAX = User._meta.get_field("display_name").max_length or 150
UNIT_NAME_MAX = OrgUnit._meta.get_field("name").max_length or 150
UNIT_CODE_MAX = OrgUnit._meta.get_field("code").max_length or 64
SITE_NAME_MAX = Site._meta.get_field("name").max_length or 150
SITE_CITY_MAX = Site._meta.get_field("city").max_length or 100
TEXT_LIMITS = {
    "job_title": Profile._meta.get_field("job_title").max_length or 150,
    "pronouns": Profile._meta.get_field("pronouns").max_length or 40,
}
BATCH = 2000  # rows per query: well under the bound parameters SQLite and PostgreSQL take
# Computed once: an enum's .values builds a new list on every call.
SKILL_LEVELS = frozenset(SkillLevel.values)
LANGUAGE_LEVELS = tuple(LanguageLevel.values)
KINDS = frozenset({UserKind.EMPLOYEE, UserKind.EXTERNAL})  # bots are made in chat
YES = {"yes", "y", "true", "1", "oui", "o"}
NO = {"no", "n", "false", "0", "non"}

# Called with (work done, total work) as the import goes; the total may grow once the
# plan tells how much there is to write.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet shows it: the header is row 1
    column: str  # "" when the whole row or file is at fault
    message: str

    def __str__(self) -> str:
        where = _("row %(row)d") % {"row": self.row}
        return (
            f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, str]  # column → stripped cell, for the file's columns only


@dataclass
class Sheet:
    """A parsed file: its columns, its rows and what was wrong with the file itself."""

    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    delimiter: str = ","


@dataclass(frozen=True)
class Change:
    column: str
    old: str
    new: str


class ImportRefused(Exception):
    """The file has errors (or the database changed so that it has now): nothing written."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(f"{len(plan.errors)} errors")
        self.plan = plan


class _CellError(Exception):
    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


# --- Reading the file ------------------------------------------------------------------


def parse(source: bytes | str | IO[bytes] | IO[str]) -> Sheet:
    """Read a CSV file: UTF-8 with or without BOM, ``,`` or ``;`` (whichever the header
    uses more), a header row. Never raises: what is wrong goes to ``errors``."""
    data = source if isinstance(source, bytes | str) else source.read()
    sheet = Sheet()
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            row = data.count(b"\n", 0, exc.start) + 1
            sheet.errors.append(
                RowError(
                    row,
                    "",
                    _(
                        "The file is not UTF-8 text (the first character it cannot read is "
                        "on row %(row)d). Save it as “CSV UTF-8” and try again."
                    )
                    % {"row": row},
                )
            )
            return sheet
    else:
        text = data.removeprefix("\ufeff")
    if not text.strip():
        sheet.errors.append(RowError(1, "", _("The file is empty: a header row is needed.")))
        return sheet
    if "\x00" in text:  # a binary file; PostgreSQL would refuse the character anyway
        row = text.count("\n", 0, text.index("\x00")) + 1
        sheet.errors.append(
            RowError(row, "", _("This is not a CSV file that can be read (a NUL character)."))
        )
        return sheet
    header_line = text.split("\n", 1)[0]
    sheet.delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sheet.delimiter, strict=True)
    number = 0
    try:
        for number, cells in enumerate(reader, 1):
            if number == 1:
                _read_header(sheet, cells)
                if sheet.errors:
                    return sheet
                continue
            stripped = [cell.strip() for cell in cells]
            if not any(stripped):
                continue  # blank lines, often left at the end of an export
            if len(stripped) != len(sheet.columns):
                sheet.errors.append(
                    RowError(
                        number,
                        "",
                        _("This row has %(cells)d cells where the header has %(columns)d.")
                        % {"cells": len(stripped), "columns": len(sheet.columns)},
                    )
                )
                continue
            sheet.rows.append(Row(number, dict(zip(sheet.columns, stripped, strict=True))))
    except csv.Error as exc:
        sheet.errors.append(
            RowError(
                number + 1,
                "",
                _("This is not a CSV file that can be read (%(reason)s).") % {"reason": exc},
            )
        )
    return sheet


def _read_header(sheet: Sheet, cells: list[str]) -> None:
    columns = [cell.strip().lower() for cell in cells]
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        sheet.errors.append(
            RowError(
                1,
                "",
                _("Unknown columns: %(unknown)s. The columns an import knows are: %(known)s.")
                % {"unknown": ", ".join(unknown) or '""', "known": ", ".join(COLUMNS)},
            )
        )
    for name in sorted({c for c in columns if columns.count(c) > 1}):
        sheet.errors.append(RowError(1, name, _("This column appears twice.")))
    if "email" not in columns:
        sheet.errors.append(RowError(1, "email", _("The email column is required.")))
    for detail, main in (
        ("org_unit_code", "org_unit"),
        ("site_city", "site"),
        ("site_country", "site"),
    ):
        if detail in columns and main not in columns:
            sheet.errors.append(
                RowError(
                    1, detail, _("This column goes with the %(column)s column.") % {"column": main}
                )
            )
    sheet.columns = columns


# --- Checking cells ----------------------------------------------------------------------


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def _text(value: str, limit: int) -> str:
    if len(value) > limit:
        raise _CellError(_("At most %(limit)d characters.") % {"limit": limit})
    return value


def _email(value: str) -> str:
    email = normalize_email(value)
    try:
        _text(email, EMAIL_MAX)
        validate_email(email)
    except ValidationError as exc:
        raise _CellError(_("Enter a valid e-mail address.")) from exc
    return email


def _phone(value: str) -> str:
    if not PHONE.match(_text(value, 40)):
        raise _CellError(_("A phone number has digits, spaces and + ( ) . - only."))
    return value


def _timezone(value: str) -> str:
    if value and value not in TIMEZONES:
        raise _CellError(
            _("Unknown time zone: %(zone)s (write it like Europe/Paris).") % {"zone": value}
        )
    return value


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _languages(value: str) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for item in _items(value):
        code, _sep, level = (part.strip().lower() for part in item.partition(":"))
        if code not in LANGUAGES:
            raise _CellError(_("Unknown language: %(code)s.") % {"code": code})
        if level not in LANGUAGE_LEVELS:
            raise _CellError(
                _("Write each language as code:level, e.g. fr:native (levels: %(levels)s).")
                % {"levels": ", ".join(LANGUAGE_LEVELS)}
            )
        if code in found:
            raise _CellError(_("%(item)s is listed twice.") % {"item": code})
        found[code] = level
    if len(found) > MAX_LANGUAGES:
        raise _CellError(_("At most %(n)d items.") % {"n": MAX_LANGUAGES})
    return tuple(sorted(found.items()))


def _topics(value: str, skills: bool, names: dict[str, str]) -> tuple[tuple[str, int | None], ...]:
    """(topic key, level) pairs; ``names`` learns the spelling of each new key."""
    found: dict[str, int | None] = {}
    for item in _items(value):
        name, level = item, None
        if skills:
            name, _sep, written = item.rpartition(":")
            if not written.strip().isdigit() or int(written) not in SKILL_LEVELS:
                raise _CellError(
                    _("Write each skill as name:level with a level from 1 to 4, e.g. Python:3.")
                )
            level = int(written)
        name = " ".join(name.split())
        if not name or len(name) > TOPIC_MAX:
            raise _CellError(_("A topic has 1 to %(n)d characters.") % {"n": TOPIC_MAX})
        key = normalize(name)
        if key in found:
            raise _CellError(_("%(item)s is listed twice.") % {"item": name})
        found[key] = level
        names.setdefault(key, name)
    if len(found) > MAX_TOPICS:
        raise _CellError(_("At most %(n)d items.") % {"n": MAX_TOPICS})
    return tuple(sorted(found.items()))


def _display_name(value: str) -> str:
    try:
        return _text(_clean_display_name(value), NAME_MAX)
    except ServiceError as exc:
        raise _CellError(exc.message) from exc


# --- Org units and sites, as they will be ------------------------------------------------


@dataclass
class _Unit:
    key: int  # the database id, or a negative number for a unit to create
    name: str
    parent: int | None
    code: str
    path: str = ""  # the materialised path in the database
    before: tuple[str, int | None, str] | None = None  # (name, parent, code); None: new
    old_label: str = ""
    row: int = 0  # the first row that created or changed it


class _Units:
    """The org-unit tree with this file's changes applied in memory."""

    def __init__(self) -> None:
        self.nodes: dict[int, _Unit] = {}
        self.index: dict[tuple[int | None, str], int] = {}
        self.by_code: dict[str, int] = {}
        self.code_rows: dict[str, int] = {}
        self.next_key = -1
        for pk, name, parent, code, path in OrgUnit.objects.order_by("id").values_list(
            "id", "name", "parent_id", "code", "path"
        ):
            self.nodes[pk] = _Unit(pk, name, parent, code, path, before=(name, parent, code))
            self.index.setdefault((parent, _fold(name)), pk)
            if code:
                self.by_code[code] = pk
        for node in self.nodes.values():
            node.old_label = self.label(node.key)

    def label(self, key: int) -> str:
        names: list[str] = []
        current: int | None = key
        while current is not None and len(names) <= len(self.nodes):
            node = self.nodes[current]
            names.append(node.name)
            current = node.parent
        return UNIT_SEPARATOR.join(reversed(names))

    def _inside(self, key: int, parent: int | None) -> bool:
        """Whether ``parent`` is ``key`` or below it."""
        seen = 0
        while parent is not None and seen <= len(self.nodes):
            if parent == key:
                return True
            parent = self.nodes[parent].parent
            seen += 1
        return False

    def _child(self, parent: int | None, name: str, row: int) -> int:
        key = self.index.get((parent, _fold(name)))
        if key is None:
            key, self.next_key = self.next_key, self.next_key - 1
            self.nodes[key] = _Unit(key, name, parent, "", row=row)
            self.index[(parent, _fold(name))] = key
        return key

    def resolve(self, value: str, code: str, row: int) -> int | None:
        """The unit a row names: by its code first, then by names from the root. A unit
        found by code takes the name and place the path gives it (HR renamed or moved it)."""
        if not value:
            if code:
                raise _CellError(_("A unit code needs the unit's path."), "org_unit")
            return None
        parts = [" ".join(part.split()) for part in SEPARATOR.split(value)]
        if not all(parts):
            raise _CellError(
                _("A unit name is empty: write the path as “Parent / Unit / Team”."), "org_unit"
            )
        for part in parts:
            _text(part, UNIT_NAME_MAX)
        if len(code) > UNIT_CODE_MAX:
            raise _CellError(
                _("At most %(limit)d characters.") % {"limit": UNIT_CODE_MAX}, "org_unit_code"
            )
        parent: int | None = None
        for part in parts[:-1]:
            parent = self._child(parent, part, row)
        name = parts[-1]
        if code in self.code_rows:
            key = self.by_code[code]
            if (self.nodes[key].parent, _fold(self.nodes[key].name)) != (parent, _fold(name)):
                raise _CellError(
                    _("Row %(row)d gives this unit code to another unit.")
                    % {"row": self.code_rows[code]},
                    "org_unit_code",
                )
            return key
        key_by_code = self.by_code.get(code) if code else None
        if key_by_code is None:
            key = self._child(parent, name, row)
            node = self.nodes[key]
            if code and node.code and node.code != code:
                raise _CellError(
                    _("This unit has the code %(code)s already.") % {"code": node.code},
                    "org_unit_code",
                )
        else:
            key, node = key_by_code, self.nodes[key_by_code]
            if self._inside(key, parent):
                raise _CellError(_("A unit cannot be placed inside itself."), "org_unit")
            taken = self.index.get((parent, _fold(name)))
            if taken is not None and taken != key:
                raise _CellError(
                    _("Another unit has this name there already: %(unit)s.")
                    % {"unit": self.label(taken)},
                    "org_unit",
                )
            if self.index.get((node.parent, _fold(node.name))) == key:
                del self.index[(node.parent, _fold(node.name))]
            node.name, node.parent = name, parent
            self.index[(parent, _fold(name))] = key
        if code:
            node.code = code
            self.by_code[code] = key
            self.code_rows[code] = row
        if node.before is not None and (node.name, node.parent, node.code) != node.before:
            node.row = node.row or row
        return key

    def created(self) -> list[_Unit]:
        return [n for n in self.nodes.values() if n.before is None]

    def changed(self) -> list[_Unit]:
        return [
            n
            for n in self.nodes.values()
            if n.before is not None and (n.name, n.parent, n.code) != n.before
        ]


@dataclass
class _Site:
    key: int
    name: str
    city: str
    country: str
    before: tuple[str, str] | None = None  # (city, country); None: new
    row: int = 0
    city_row: int = 0
    country_row: int = 0


class _Sites:
    def __init__(self) -> None:
        self.nodes: dict[int, _Site] = {}
        self.exact: dict[str, int] = {}
        self.folded: dict[str, int] = {}
        self.next_key = -1
        for pk, name, city, country in Site.objects.order_by("id").values_list(
            "id", "name", "city", "country"
        ):
            self.nodes[pk] = _Site(pk, name, city, country, before=(city, country))
            self.exact[name] = pk
            self.folded.setdefault(_fold(name), pk)

    def resolve(self, name: str, city: str, country: str, row: int) -> int | None:
        if not name:
            return None
        name = _text(" ".join(name.split()), SITE_NAME_MAX)
        key = self.exact.get(name, self.folded.get(_fold(name)))
        if key is None:
            key, self.next_key = self.next_key, self.next_key - 1
            site = _Site(key, name, city or name, country or "FR", row=row)
            self.nodes[key] = site
            self.exact[name] = self.folded[_fold(name)] = key
        site = self.nodes[key]
        # A city or country in the file is the site's: two rows must not disagree.
        if city and city != site.city:
            if site.city_row:
                raise _CellError(
                    _("Row %(row)d gives this site another city.") % {"row": site.city_row},
                    "site_city",
                )
            site.city = city
        if country and country != site.country:
            if site.country_row:
                raise _CellError(
                    _("Row %(row)d gives this site another country.") % {"row": site.country_row},
                    "site_country",
                )
            site.country = country
        site.city_row = site.city_row or (row if city else 0)
        site.country_row = site.country_row or (row if country else 0)
        if site.before is not None and (site.city, site.country) != site.before:
            site.row = site.row or row
        return key

    def created(self) -> list[_Site]:
        return [s for s in self.nodes.values() if s.before is None]

    def changed(self) -> list[_Site]:
        return [
            s
            for s in self.nodes.values()
            if s.before is not None and (s.city, s.country) != s.before
        ]


# --- The plan -----------------------------------------------------------------------------


@dataclass(slots=True)
class PersonPlan:
    row: int
    email: str
    key: int  # the user id, or a negative number for an account to create
    wanted: dict[str, Any]  # column → value as it will be (columns of the file only)
    before: dict[str, Any] | None  # the same columns as they are; None for a new account
    changed: tuple[str, ...] = ()
    has_profile: bool = True

    @property
    def action(self) -> str:
        if self.before is None:
            return "create"
        return "update" if self.changed else "unchanged"


@dataclass
class Plan:
    """What an import would do. ``errors`` empty means it can be applied."""

    sheet: Sheet
    people: list[PersonPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    topic_names: dict[str, str] = field(default_factory=dict)  # key → spelling
    units: _Units | None = None
    sites: _Sites | None = None
    # Every person's manager as it will be (keys as in PersonPlan.key), when the file
    # has a manager column.
    managers: dict[int, int | None] | None = None
    deactivate: list[int] = field(default_factory=list)
    reactivate: list[int] = field(default_factory=list)
    emails: dict[int, str] = field(default_factory=dict)  # key → e-mail, for reports

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for p in self.people if p.action == action)

    def summary(self) -> dict[str, int]:
        units, sites = self.units, self.sites
        return {
            "rows": len(self.sheet.rows),
            "created": self.count("create"),
            "updated": self.count("update"),
            "unchanged": self.count("unchanged"),
            "deactivated": len(self.deactivate),
            "reactivated": len(self.reactivate),
            "units_created": len(units.created()) if units else 0,
            "units_updated": len(units.changed()) if units else 0,
            "sites_created": len(sites.created()) if sites else 0,
            "sites_updated": len(sites.changed()) if sites else 0,
            "errors": len(self.errors),
        }

    @property
    def has_changes(self) -> bool:
        counts = self.summary()
        return any(counts[k] for k in counts if k not in {"rows", "unchanged", "errors"})

    def show(self, column: str, value: Any, *, before: bool = False) -> str:
        """A value as the file would write it."""
        if value is None:
            return ""
        if column == "org_unit" and self.units:
            unit = self.units.nodes[value]
            return unit.old_label if before and unit.old_label else self.units.label(value)
        if column == "site" and self.sites:
            return self.sites.nodes[value].name
        if column == "active":
            return "yes" if value else "no"
        if column == "languages":
            return ", ".join(f"{code}:{level}" for code, level in value)
        if column in TOPIC_COLUMNS:
            return ", ".join(
                self.topic_names.get(key, key) + ("" if level is None else f":{level}")
                for key, level in value
            )
        return str(value)

    def changes(self, person: PersonPlan) -> list[Change]:
        """Per column: the value before and after (every non-empty one for a new person)."""
        if person.before is None:
            shown = ((c, self.show(c, v)) for c, v in person.wanted.items())
            return [Change(c, "", text) for c, text in shown if text]
        return [
            Change(c, self.show(c, person.before[c], before=True), self.show(c, person.wanted[c]))
            for c in person.changed
        ]

    def unit_changes(self) -> list[tuple[int, str, str]]:
        """(row, before, after) of each unit to create ("" before) or rename or move."""
        if not self.units:
            return []
        made = [(u.row, "", self.units.label(u.key)) for u in self.units.created()]
        moved = [(u.row, u.old_label, self.units.label(u.key)) for u in self.units.changed()]
        return sorted(made + moved)

    def site_changes(self) -> list[tuple[int, str, str]]:
        if not self.sites:
            return []
        return sorted(
            [(s.row, "", f"{s.name} ({s.city}, {s.country})") for s in self.sites.created()]
            + [
                (
                    s.row,
                    f"{s.name} ({s.before[0]}, {s.before[1]})",
                    f"{s.name} ({s.city}, {s.country})",
                )
                for s in self.sites.changed()
                if s.before
            ]
        )


def _check_actor(actor: User | None) -> None:
    """HR and administrators import; None is the command line."""
    if actor is not None and not access.has_role(actor, Role.HR):
        raise access.Forbidden


def plan(sheet: Sheet, *, actor: User | None) -> Plan:
    """The dry run: what the import would change, and every error. Writes nothing."""
    _check_actor(actor)
    result = Plan(sheet=sheet, errors=list(sheet.errors))
    if sheet.errors:
        return result
    columns = set(sheet.columns)
    errors = result.errors

    def fail(row: Row, column: str, message: str) -> None:
        errors.append(RowError(row.number, column, message))

    # 1. Cells on their own, and e-mails: who is new, who exists.
    first_row: dict[str, int] = {}
    rows: list[tuple[Row, str]] = []
    for row in sheet.rows:
        try:
            email = _email(row.cells["email"])
        except _CellError as exc:
            fail(row, "email", exc.message)
            continue
        if email in first_row:
            fail(
                row,
                "email",
                _("This e-mail is on row %(row)d already.") % {"row": first_row[email]},
            )
            continue
        first_row[email] = row.number
        rows.append((row, email))
    existing: dict[str, tuple[int, str, str, bool, bool]] = {}
    for chunk in bulk.chunks([email for _row, email in rows]):
        for pk, email, name, kind, active, admin in User.objects.filter(
            email__in=chunk
        ).values_list("id", "email", "display_name", "kind", "is_active", "is_admin"):
            existing[email] = (pk, name, kind, active, admin)

    units = _Units() if "org_unit" in columns else None
    sites = _Sites() if "site" in columns else None
    result.units, result.sites = units, sites
    # Rows with a unit code first: a renamed or moved unit is in its new place before
    # other rows look it up by name.
    if units is not None and "org_unit_code" in columns:
        rows.sort(key=lambda pair: (not pair[0].cells["org_unit_code"], pair[0].number))

    keys: dict[str, int] = {}
    row_of: dict[int, int] = {}
    next_key = -1
    wanted_managers: dict[int, tuple[Row, str]] = {}
    for row, email in rows:
        info = existing.get(email)
        if info is None:
            key, next_key = next_key, next_key - 1
        else:
            key = info[0]
        keys[email] = key
        row_of[key] = row.number
        result.emails[key] = email
        wanted: dict[str, Any] = {}
        ok = True
        for column in PERSON_COLUMNS:
            if column not in columns:
                continue
            value = row.cells[column]
            try:
                wanted[column] = _clean_cell(
                    column, value, row, info, actor, units, sites, result.topic_names
                )
            except _CellError as exc:
                fail(row, exc.column or column, exc.message)
                ok = False
        if info is None and "display_name" not in wanted and ok:
            fail(row, "display_name", _("A new person needs a display name."))
            ok = False
        if wanted.get("manager_email"):
            if wanted["manager_email"] == email:
                fail(row, "manager_email", _("A person cannot be their own manager."))
                ok = False
            else:
                wanted_managers[key] = (row, wanted["manager_email"])
        if ok:
            result.people.append(PersonPlan(row.number, email, key, wanted, None))
    result.people.sort(key=lambda p: p.row)

    # 2. Managers: in the file or already in Essaim; no reporting loop.
    if "manager_email" in columns:
        outside = sorted(
            {m for _row, m in wanted_managers.values() if m not in keys} - set(existing)
        )
        for chunk in bulk.chunks(outside):
            for pk, email in User.objects.filter(email__in=chunk).values_list("id", "email"):
                keys[email] = pk
                result.emails[pk] = email
        managers: dict[int, int | None] = dict(Profile.objects.values_list("user_id", "manager_id"))
        for person in result.people:
            managers[person.key] = None
        for key, (row, manager) in wanted_managers.items():
            if manager not in keys:
                fail(
                    row,
                    "manager_email",
                    _("Unknown manager: %(email)s is neither in the file nor in Essaim.")
                    % {"email": manager},
                )
                managers[key] = None
            else:
                managers[key] = keys[manager]
        result.managers = managers
        _find_loops(result, managers, row_of)

    # 3. Compare with what is in the database.
    _fill_before(result, existing)
    errors.sort(key=lambda e: (e.row, e.column))
    return result


def _clean_cell(
    column: str,
    value: str,
    row: Row,
    info: tuple[int, str, str, bool, bool] | None,
    actor: User | None,
    units: _Units | None,
    sites: _Sites | None,
    topic_names: dict[str, str],
) -> Any:
    cells = row.cells
    if column == "display_name":
        return _display_name(value)
    if column == "kind":
        kind = (value or UserKind.EMPLOYEE).lower()
        if kind not in KINDS:
            raise _CellError(_("Write employee or external."))
        return kind
    if column in ("job_title", "pronouns"):
        return _text(value, TEXT_LIMITS[column])
    if column in ("phone", "mobile_phone"):
        return _phone(value)
    if column == "timezone":
        return _timezone(value)
    if column == "org_unit":
        assert units is not None
        return units.resolve(value, cells.get("org_unit_code", ""), row.number)
    if column == "site":
        assert sites is not None
        city = _text(cells.get("site_city", ""), SITE_CITY_MAX)
        country = cells.get("site_country", "").upper()
        if country and not re.fullmatch(r"[A-Z]{2}", country):
            raise _CellError(_("Write a two-letter country code (FR, DE…)."), "site_country")
        return sites.resolve(value, city, country, row.number)
    if column == "manager_email":
        return _email(value) if value else ""
    if column == "languages":
        return _languages(value)
    if column in TOPIC_COLUMNS:
        return _topics(value, column == "skills", topic_names)
    if column == "active":
        answer = value.lower()
        if not answer:
            # Unlike text, an empty cell does not switch an account: it stays as it is.
            return True if info is None else info[3]
        if answer not in YES | NO:
            raise _CellError(_("Write yes or no."))
        active = answer in YES
        if not active and info is not None and info[3]:
            if actor is not None and actor.pk == info[0]:
                raise _CellError(_("You cannot deactivate your own account."))
            if info[4] and actor is not None and not access.is_admin(actor):
                raise _CellError(_("Only an administrator can deactivate an administrator."))
        return active
    raise AssertionError(column)


def _find_loops(result: Plan, managers: dict[int, int | None], rows: dict[int, int]) -> None:
    """Report each reporting loop once, naming every row in it. The database has none
    (the services refuse them), so each loop goes through at least one row of the file."""
    state: dict[int, int] = {}  # 1: being walked, 2: reaches the top
    for start in rows:
        walk: list[int] = []
        node: int | None = start
        while node is not None and state.get(node) is None:
            state[node] = 1
            walk.append(node)
            node = managers.get(node)
        if node is not None and state.get(node) == 1:
            loop = walk[walk.index(node) :]
            in_file = sorted(rows[k] for k in loop if k in rows)
            others = [result.emails.get(k) or str(k) for k in loop if k not in rows]
            listed = ", ".join(str(r) for r in in_file)
            if others:
                message = _(
                    "Rows %(rows)s form a reporting loop with %(people)s (already in Essaim)."
                ) % {"rows": listed, "people": ", ".join(sorted(others))}
            else:
                message = _("Rows %(rows)s form a reporting loop.") % {"rows": listed}
            result.errors.append(RowError(in_file[0], "manager_email", message))
        for walked in walk:
            state[walked] = 2


def _fill_before(result: Plan, existing: dict[str, tuple[int, str, str, bool, bool]]) -> None:
    """Each existing person's values as they are, and what the import changes."""
    columns = set(result.sheet.columns)
    known = [p for p in result.people if p.key > 0]
    before: dict[int, dict[str, Any]] = {}
    for person in known:
        _pk, name, kind, active, _admin = existing[person.email]
        before[person.key] = {"display_name": name, "kind": kind, "active": active}
        before[person.key].update({c: "" for c in PROFILE_TEXT})
        before[person.key].update(
            {"org_unit": None, "site": None, "manager_email": "", "languages": ()}
        )
        before[person.key].update({c: () for c in TOPIC_COLUMNS})
    with_profile: set[int] = set()
    manager_ids: dict[int, int] = {}
    topic_kinds = {str(kind): c for c, kind in TOPIC_COLUMNS.items() if c in columns}
    topics: dict[tuple[int, str], list[tuple[str, int | None]]] = defaultdict(list)
    for chunk in bulk.chunks([p.key for p in known]):
        for pk, *values, unit, site, manager in Profile.objects.filter(
            user_id__in=chunk
        ).values_list("user_id", *PROFILE_TEXT, "org_unit_id", "site_id", "manager_id"):
            with_profile.add(pk)
            before[pk].update(zip(PROFILE_TEXT, values, strict=True))
            before[pk].update({"org_unit": unit, "site": site})
            if manager is not None:
                manager_ids[pk] = manager
        if topic_kinds:
            for pk, kind, key, name, skill_level in ProfileTopic.objects.filter(
                user_id__in=chunk, kind__in=topic_kinds
            ).values_list("user_id", "kind", "topic__key", "topic__name", "level"):
                topics[(pk, topic_kinds[kind])].append((key, skill_level))
                result.topic_names.setdefault(key, name)
        if "languages" in columns:
            spoken: dict[int, list[tuple[str, str]]] = defaultdict(list)
            for pk, code, level in SpokenLanguage.objects.filter(user_id__in=chunk).values_list(
                "user_id", "language", "level"
            ):
                spoken[pk].append((code, level))
            for pk, items in spoken.items():
                before[pk]["languages"] = tuple(sorted(items))
    for (pk, column), held in topics.items():
        before[pk][column] = tuple(sorted(held))
    if "manager_email" in columns:
        missing = sorted(set(manager_ids.values()) - set(result.emails))
        for chunk in bulk.chunks(missing):
            result.emails.update(User.objects.filter(pk__in=chunk).values_list("id", "email"))
        for pk, manager in manager_ids.items():
            before[pk]["manager_email"] = result.emails[manager]
    # Spellings of known topics come from the database, not from the file.
    new_keys = sorted(result.topic_names)
    for chunk in bulk.chunks(new_keys):
        result.topic_names.update(Topic.objects.filter(key__in=chunk).values_list("key", "name"))
    for person in known:
        person.before = {c: before[person.key][c] for c in person.wanted}
        person.changed = tuple(c for c in person.wanted if person.wanted[c] != person.before[c])
        person.has_profile = person.key in with_profile
        if "active" in person.changed:
            (result.reactivate if person.wanted["active"] else result.deactivate).append(person.key)


# --- Applying ---------------------------------------------------------------------------


class _Meter:
    """Work done so far, told to the progress callback."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.done, self.total = progress, 0, total

    def add(self, amount: int) -> None:
        self.done += amount
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)


def apply(
    sheet: Sheet, *, actor: User | None, origin: Origin, progress: Progress | None = None
) -> Plan:
    """Plan and write the import in one transaction; raises ImportRefused (nothing
    written) when any row has an error. Returns the plan that was applied."""
    _check_actor(actor)
    meter = _Meter(progress, 2 * len(sheet.rows) + 1)
    with transaction.atomic():
        result = plan(sheet, actor=actor)
        if result.errors:
            raise ImportRefused(result)
        if not result.has_changes:
            # Nothing to write and so no administrative action to record.
            meter.add(meter.total)
            return result
        meter.add(len(sheet.rows))
        _write(result, actor=actor, origin=origin, meter=meter)
    return result


def _write(result: Plan, *, actor: User | None, origin: Origin, meter: _Meter) -> None:
    now = timezone.now()
    people = [p for p in result.people if p.action != "unchanged"]
    new = [p for p in people if p.before is None]
    # Rough weights so that the bar moves evenly: accounts, profiles, topics, index.
    meter.total = meter.done + 4 * len(people) + 1
    site_ids = _write_sites(result)
    unit_ids, renamed_units = _write_units(result)

    # Accounts. New ones get an unusable password: they choose one through "forgot
    # password" or an invitation.
    ids: dict[int, int] = {p.key: p.key for p in result.people if p.key > 0}
    for chunk in bulk.chunks(new):
        users = [
            User(
                email=p.email,
                display_name=p.wanted["display_name"],
                kind=p.wanted.get("kind", UserKind.EMPLOYEE),
                is_active=p.wanted.get("active", True),
                deactivated_at=None if p.wanted.get("active", True) else now,
                password=UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
            )
            for p in chunk
        ]
        User.objects.bulk_create(users)
        for person, user in zip(chunk, users, strict=True):
            ids[person.key] = user.pk  # SQLite >= 3.35 and PostgreSQL return the ids
        meter.add(len(chunk))
    by_fields: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for person in people:
        names = tuple(c for c in ("display_name", "kind") if c in person.changed)
        if names:
            by_fields[names].append((*(person.wanted[c] for c in names), person.key))
    for names, rows in by_fields.items():
        bulk.update(User, names, "id", rows)
    meter.add(len(people) - len(new))
    _write_activity(result, actor, now)

    _write_profiles(result, people, ids, unit_ids, site_ids, now)
    meter.add(len(people))
    _write_topics(result, people, ids)
    meter.add(len(people))

    counts = result.summary()
    audit_record(
        actor=actor,
        action="people.import",
        target=ContentType.objects.get_for_model(User),
        origin=origin,
        data={
            **{k: v for k, v in counts.items() if k != "errors"},
            "deactivated_ids": sorted(result.deactivate),
            "reactivated_ids": sorted(result.reactivate),
        },
    )
    changed_ids = {ids[p.key] for p in people}
    if renamed_units:
        for chunk in bulk.chunks(renamed_units):
            changed_ids.update(
                Profile.objects.filter(org_unit__in=chunk).values_list("user_id", flat=True)
            )
    changed_sites = [s.key for s in result.sites.changed()] if result.sites else []
    if changed_sites:
        changed_ids.update(
            Profile.objects.filter(site__in=changed_sites).values_list("user_id", flat=True)
        )
    ordered = sorted(changed_ids)
    meter.total = meter.done + len(ordered) + 1
    for chunk in bulk.chunks(ordered):
        index.reindex(chunk)
        community_services.sync_people(chunk)
        meter.add(len(chunk))
    meter.add(1)


def _write_sites(result: Plan) -> dict[int, int]:
    sites = result.sites
    if sites is None:
        return {}
    ids = {key: key for key in sites.nodes if key > 0}
    made = sites.created()
    rows = [Site(name=s.name, city=s.city, country=s.country) for s in made]
    Site.objects.bulk_create(rows)
    ids.update({s.key: row.pk for s, row in zip(made, rows, strict=True)})
    Site.objects.bulk_update(
        [Site(pk=s.key, city=s.city, country=s.country) for s in sites.changed()],
        ["city", "country"],
    )
    return ids


def _write_units(result: Plan) -> tuple[dict[int, int], list[int]]:
    """Create units parents first, rename and move the others, then set the paths of
    every unit whose path changes. Returns key → id and the units renamed or moved."""
    units = result.units
    if units is None:
        return {}, []
    ids = {key: key for key in units.nodes if key > 0}
    waiting = units.created()
    while waiting:
        ready = [u for u in waiting if u.parent is None or u.parent in ids]
        rows = [
            OrgUnit(name=u.name, code=u.code, parent_id=None if u.parent is None else ids[u.parent])
            for u in ready
        ]
        OrgUnit.objects.bulk_create(rows, batch_size=500)
        ids.update({u.key: row.pk for u, row in zip(ready, rows, strict=True)})
        waiting = [u for u in waiting if u.key not in ids]
    changed = units.changed()
    OrgUnit.objects.bulk_update(
        [
            OrgUnit(
                pk=u.key,
                name=u.name,
                code=u.code,
                parent_id=None if u.parent is None else ids[u.parent],
            )
            for u in changed
        ],
        ["name", "code", "parent"],
        batch_size=500,
    )
    # Materialised paths ("/1/4/9/"), computed here for the whole (small) tree.
    paths: dict[int, str] = {}

    def path(key: int) -> str:
        chain: list[int] = []
        current: int | None = key
        while current is not None and current not in paths:
            chain.append(current)
            current = units.nodes[current].parent
        prefix = paths[current] if current is not None else "/"
        for node in reversed(chain):
            prefix = paths[node] = f"{prefix}{ids[node]}/"
        return paths[key]

    stale = [
        OrgUnit(pk=ids[u.key], path=path(u.key))
        for u in units.nodes.values()
        if path(u.key) != u.path
    ]
    OrgUnit.objects.bulk_update(stale, ["path"], batch_size=500)
    return ids, [u.key for u in changed if u.before and u.before[0] != u.name]


def _write_activity(result: Plan, actor: User | None, now: Any) -> None:
    """The effects of accounts.services.user_deactivate and user_reactivate, in bulk for
    all the rows at once (calling them row by row would write one audit entry each, and
    user_deactivate is for administrators while HR imports too): the account switches,
    its API tokens are revoked (deactivation) and its sessions end, in this transaction."""
    for chunk in bulk.chunks(result.deactivate):
        User.objects.filter(pk__in=chunk).update(is_active=False, deactivated_at=now)
        ApiToken.objects.filter(user_id__in=chunk, revoked_at=None).update(revoked_at=now)
        _end_sessions(chunk)
    for chunk in bulk.chunks(result.reactivate):
        User.objects.filter(pk__in=chunk).update(is_active=True, deactivated_at=None)
        # A sign-in that raced an earlier deactivation must not come back to life.
        _end_sessions(chunk)


def _end_sessions(user_ids: list[int]) -> None:
    sessions = UserSession.objects.filter(user_id__in=user_ids)
    keys = list(sessions.values_list("session_key", flat=True))
    for chunk in bulk.chunks(keys):
        Session.objects.filter(session_key__in=chunk).delete()
    sessions.delete()


PROFILE_FIELDS = {
    **{c: c for c in PROFILE_TEXT},
    "org_unit": "org_unit_id",
    "site": "site_id",
    "manager_email": "manager_id",
}


def _write_profiles(
    result: Plan,
    people: list[PersonPlan],
    ids: dict[int, int],
    unit_ids: dict[int, int],
    site_ids: dict[int, int],
    now: Any,
) -> None:
    # Managers and the materialised chains ("/1/7/42/"): computed in memory for the
    # people whose chain may move (rebuild_paths does the same for the whole table).
    managers: dict[int, int | None] | None = None
    current_paths: dict[int, str] = {}
    if result.managers is not None:
        managers = {
            ids.get(k, k): None if m is None else ids.get(m, m) for k, m in result.managers.items()
        }
        current_paths = dict(Profile.objects.values_list("user_id", "manager_path"))
    paths: dict[int, str] = {}

    def path(user_id: int) -> str:
        if managers is None:
            return current_paths.get(user_id) or f"/{user_id}/"
        chain: list[int] = []
        current: int | None = user_id
        while current is not None and current not in paths and len(chain) <= len(managers):
            chain.append(current)
            current = managers.get(current)
        prefix = paths[current] if current is not None and current in paths else "/"
        for node in reversed(chain):
            prefix = paths[node] = f"{prefix}{node}/"
        return paths[user_id]

    def value(person: PersonPlan, column: str) -> Any:
        wanted = person.wanted[column]
        if column == "org_unit":
            return None if wanted is None else unit_ids[wanted]
        if column == "site":
            return None if wanted is None else site_ids[wanted]
        if column == "manager_email":
            assert managers is not None
            return managers.get(ids[person.key])
        return wanted

    columns = [c for c in result.sheet.columns if c in PROFILE_FIELDS]
    made: list[Profile] = []
    for person in people:
        if person.before is None or not person.has_profile:
            user_id = ids[person.key]
            profile = Profile(user_id=user_id, manager_path=path(user_id))
            for column in columns:
                setattr(profile, PROFILE_FIELDS[column], value(person, column))
            made.append(profile)
    bulk.insert_objects(Profile, made)

    # Existing profiles: the columns that changed, grouped by the set of columns.
    by_fields: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    touched: set[int] = set()
    for person in people:
        if person.before is None or not person.has_profile:
            continue
        changed = [c for c in person.changed if c in PROFILE_FIELDS]
        user_id = ids[person.key]
        names = [PROFILE_FIELDS[c] for c in changed]
        values = [value(person, c) for c in changed]
        if managers is not None and path(user_id) != current_paths.get(user_id):
            names.append("manager_path")
            values.append(paths[user_id])
        if names:
            by_fields[(*names, "updated_at")].append((*values, now, user_id))
            touched.add(user_id)
    if managers is not None:
        # People outside the file whose chain runs through someone who moved.
        for user_id, old in current_paths.items():
            if user_id not in touched and path(user_id) != old:
                by_fields[("manager_path",)].append((paths[user_id], user_id))
    for fields, rows in by_fields.items():
        bulk.update(Profile, fields, "user", rows)


def _write_topics(result: Plan, people: list[PersonPlan], ids: dict[int, int]) -> None:
    kinds = [c for c in TOPIC_COLUMNS if c in result.sheet.columns]
    topic_ids: dict[str, int] = {}
    needed = sorted({key for p in people for c in kinds for key, _l in p.wanted.get(c, ())})
    for chunk in bulk.chunks(needed):
        topic_ids.update(Topic.objects.filter(key__in=chunk).values_list("key", "id"))
    missing = [k for k in needed if k not in topic_ids]
    # ignore_conflicts: a topic made meanwhile by someone else is as good as ours.
    Topic.objects.bulk_create(
        [Topic(key=k, name=result.topic_names[k]) for k in missing],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    for chunk in bulk.chunks(missing):
        topic_ids.update(Topic.objects.filter(key__in=chunk).values_list("key", "id"))

    for column in kinds:
        kind = TOPIC_COLUMNS[column]
        holders = [p for p in people if column in p.changed or _new_with(p, column)]
        for chunk in bulk.chunks(holders):
            old = [ids[p.key] for p in chunk if p.before is not None]
            if old:
                ProfileTopic.objects.filter(user_id__in=old, kind=kind).delete()
            bulk.insert(
                ProfileTopic,
                ("user", "topic", "kind", "level"),
                [
                    (ids[p.key], topic_ids[key], str(kind), level)
                    for p in chunk
                    for key, level in p.wanted[column]
                ],
            )
    holders = [p for p in people if "languages" in p.changed or _new_with(p, "languages")]
    for chunk in bulk.chunks(holders):
        old = [ids[p.key] for p in chunk if p.before is not None]
        if old:
            SpokenLanguage.objects.filter(user_id__in=old).delete()
        bulk.insert(
            SpokenLanguage,
            ("user", "language", "level"),
            [(ids[p.key], code, level) for p in chunk for code, level in p.wanted["languages"]],
        )


def _new_with(person: PersonPlan, column: str) -> bool:
    return person.before is None and column in person.wanted


# --- Reports -------------------------------------------------------------------------------


class Throttle:
    """Lets a progress callback act at most ``per_second`` times a second (and always at
    the end)."""

    def __init__(self, per_second: float) -> None:
        self.gap = 1 / per_second
        self.last = 0.0
        self.shown = (-1, -1)

    def ready(self, done: int, total: int) -> bool:
        now = time.monotonic()
        if (done, total) != self.shown and (done >= total or now - self.last >= self.gap):
            self.last, self.shown = now, (done, total)
            return True
        return False
