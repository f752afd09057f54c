"""The demo organisation: a French company generated with Faker, for trials and benchmarks.

``build_organisation`` creates an org-unit tree (Direction générale at the root, departments,
their services and, for large sizes, teams so that no unit holds more than about 45 people),
sites, a manager tree without cycles (everyone reports up to the CEO), job titles in each
person's language and phones. About 15 % of the staff are international (English names,
titles and language). Fixed sign-in personas come first, all with the password
``DEMO_PASSWORD``:

- ``camille.laurent@essaim.test`` — administrator, communications role (DEMO_ADMIN_EMAIL);
- ``nathalie.girard@essaim.test`` — compliance officer;
- ``thomas.moreau@essaim.test`` — moderator / referent;
- ``sophie.bernard@essaim.test`` — human resources;
- five external customers at customer domains (``…@client-exemple.test`` …).

The same seed gives the same people. Everything is written in one transaction with
``bulk_create`` in batches: 100,000 people take about half a minute and under 200 MB.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from faker import Faker

from essaim.accounts.models import Role, User, UserKind, UserRole
from essaim.directory import index as directory_index
from essaim.directory import services as directory_services
from essaim.directory.models import OrgUnit, Profile, Site

DEMO_ADMIN_EMAIL = "camille.laurent@essaim.test"
DEMO_PASSWORD = "essaim-demo"  # noqa: S105  (documented, demo only)
EMAIL_DOMAIN = "essaim.test"
TEAM_MAX = 45  # people under one manager before a unit is split into teams
BRANCH_MAX = 8  # teams under one unit
DG_STAFF_MAX = 4  # assistants and chargés de mission beside the CEO
INTERNATIONAL_SHARE = 0.08  # English speakers at French sites; München adds about 7 %
BATCH = 2000
DASH = "\N{EN DASH}"


class DemoError(Exception):
    """The demo organisation cannot be built (too small, or already loaded)."""


@dataclass(frozen=True)
class SiteSpec:
    name: str
    city: str
    country: str
    dial: str  # the phone prefix of the site


SITES = (
    SiteSpec("Paris – Siège", "Paris", "FR", "+33 1"),  # noqa: RUF001
    SiteSpec("Lyon", "Lyon", "FR", "+33 4"),
    SiteSpec("Nantes", "Nantes", "FR", "+33 2"),
    SiteSpec("Toulouse", "Toulouse", "FR", "+33 5"),
    SiteSpec("Lille", "Lille", "FR", "+33 3"),
    SiteSpec("Bordeaux", "Bordeaux", "FR", "+33 5"),
    SiteSpec("München", "München", "DE", "+49 89"),
)
PARIS, LYON, NANTES, TOULOUSE, LILLE, BORDEAUX, MUNICH = range(len(SITES))

# A job title: (French "masculine|feminine" or one epicene form, English).
Title = tuple[str, str]


@dataclass(frozen=True)
class Dept:
    """A department or one of its services: who heads it, who works there, where."""

    name: str
    head: Title
    titles: tuple[Title, ...]
    weight: int
    sites: tuple[int, ...]
    units: tuple[Dept, ...] = ()


ROOT = Dept(
    name="Direction générale",
    head=("Président-directeur général|Présidente-directrice générale", "Chief Executive Officer"),
    titles=(
        ("Assistant de direction|Assistante de direction", "Executive Assistant"),
        ("Chargé de mission|Chargée de mission", "Chief of Staff"),
    ),
    weight=0,
    sites=(PARIS,),
)
LEAD: Title = ("Chef d'équipe|Cheffe d'équipe", "Team Lead")
GROUP: Title = ("Responsable de pôle", "Group Manager")

SALES_FRANCE = Dept(
    name="Ventes France",
    head=("Responsable des ventes France", "Head of Sales France"),
    titles=(
        ("Ingénieur commercial|Ingénieure commerciale", "Account Executive"),
        ("Chargé d'affaires|Chargée d'affaires", "Business Developer"),
        ("Assistant commercial|Assistante commerciale", "Sales Assistant"),
    ),
    weight=9,
    sites=(PARIS, LYON, NANTES, TOULOUSE, LILLE, BORDEAUX),
)
EXPORT = Dept(
    name="Export",
    head=("Responsable export", "Head of Export"),
    titles=(
        ("Responsable de zone export", "Export Area Manager"),
        ("Chargé d'affaires international|Chargée d'affaires internationale", "Business Developer"),
        ("Assistant export|Assistante export", "Export Assistant"),
    ),
    weight=5,
    sites=(PARIS, MUNICH),
)
SOFTWARE = Dept(
    name="Logiciel",
    head=("Responsable développement logiciel", "Software Engineering Manager"),
    titles=(
        ("Développeur|Développeuse", "Software Developer"),
        ("Ingénieur logiciel|Ingénieure logicielle", "Software Engineer"),
        ("Architecte logiciel|Architecte logicielle", "Software Architect"),
        ("Testeur|Testeuse", "QA Engineer"),
    ),
    weight=10,
    sites=(TOULOUSE, NANTES, PARIS, MUNICH),
)
ELECTRONICS = Dept(
    name="Électronique",
    head=("Responsable électronique", "Electronics Engineering Manager"),
    titles=(
        ("Ingénieur électronicien|Ingénieure électronicienne", "Electronics Engineer"),
        ("Technicien de laboratoire|Technicienne de laboratoire", "Lab Technician"),
        ("Concepteur de cartes électroniques|Conceptrice de cartes électroniques", "PCB Designer"),
    ),
    weight=6,
    sites=(TOULOUSE, MUNICH),
)
DEPARTMENTS = (
    Dept(
        name="Ventes",
        head=("Directeur commercial|Directrice commerciale", "Sales Director"),
        titles=(),
        weight=14,
        sites=(PARIS,),
        units=(SALES_FRANCE, EXPORT),
    ),
    Dept(
        name="Marketing & Communication",
        head=(
            "Directeur marketing et communication|Directrice marketing et communication",
            "Marketing & Communications Director",
        ),
        titles=(
            ("Chef de produit|Cheffe de produit", "Product Manager"),
            ("Chargé de communication|Chargée de communication", "Communications Officer"),
            ("Responsable marketing digital", "Digital Marketing Manager"),
            ("Graphiste", "Graphic Designer"),
        ),
        weight=6,
        sites=(PARIS,),
    ),
    Dept(
        name="Recherche & Développement",
        head=("Directeur R&D|Directrice R&D", "R&D Director"),
        titles=(),
        weight=16,
        sites=(TOULOUSE,),
        units=(SOFTWARE, ELECTRONICS),
    ),
    Dept(
        name="Production",
        head=("Directeur de production|Directrice de production", "Head of Manufacturing"),
        titles=(
            ("Opérateur de production|Opératrice de production", "Production Operator"),
            ("Technicien de maintenance|Technicienne de maintenance", "Maintenance Technician"),
            ("Chef d'atelier|Cheffe d'atelier", "Workshop Supervisor"),
            ("Gestionnaire logistique", "Logistics Coordinator"),
            ("Technicien méthodes|Technicienne méthodes", "Manufacturing Engineer"),
        ),
        weight=24,
        sites=(LYON, LILLE, BORDEAUX),
    ),
    Dept(
        name="Qualité",
        head=("Directeur qualité|Directrice qualité", "Quality Director"),
        titles=(
            ("Ingénieur qualité|Ingénieure qualité", "Quality Engineer"),
            ("Technicien contrôle qualité|Technicienne contrôle qualité", "QC Technician"),
            ("Auditeur qualité|Auditrice qualité", "Quality Auditor"),
        ),
        weight=5,
        sites=(LYON, LILLE, TOULOUSE),
    ),
    Dept(
        name="Ressources humaines",
        head=(
            "Directeur des ressources humaines|Directrice des ressources humaines",
            "HR Director",
        ),
        titles=(
            ("Chargé de recrutement|Chargée de recrutement", "Recruiter"),
            ("Gestionnaire paie", "Payroll Specialist"),
            ("Responsable formation", "Learning & Development Manager"),
            ("Chargé de développement RH|Chargée de développement RH", "HR Business Partner"),
        ),
        weight=4,
        sites=(PARIS, LYON),
    ),
    Dept(
        name="Finance",
        head=(
            "Directeur administratif et financier|Directrice administrative et financière",
            "Chief Financial Officer",
        ),
        titles=(
            ("Contrôleur de gestion|Contrôleuse de gestion", "Financial Controller"),
            ("Comptable", "Accountant"),
            ("Trésorier|Trésorière", "Treasury Analyst"),
            ("Acheteur|Acheteuse", "Buyer"),
        ),
        weight=5,
        sites=(PARIS,),
    ),
    Dept(
        name="Juridique",
        head=("Directeur juridique|Directrice juridique", "General Counsel"),
        titles=(
            ("Juriste", "Legal Counsel"),
            ("Juriste propriété intellectuelle", "IP Counsel"),
            ("Assistant juridique|Assistante juridique", "Paralegal"),
        ),
        weight=2,
        sites=(PARIS,),
    ),
    Dept(
        name="Service client",
        head=(
            "Directeur du service client|Directrice du service client",
            "Head of Customer Service",
        ),
        titles=(
            ("Conseiller clientèle|Conseillère clientèle", "Customer Service Representative"),
            ("Technicien support|Technicienne support", "Support Technician"),
            ("Chargé de relation client|Chargée de relation client", "Customer Success Manager"),
        ),
        weight=11,
        sites=(LILLE, NANTES, BORDEAUX),
    ),
    Dept(
        name="Systèmes d'information",
        head=(
            "Directeur des systèmes d'information|Directrice des systèmes d'information",
            "Chief Information Officer",
        ),
        titles=(
            ("Administrateur systèmes|Administratrice systèmes", "Systems Administrator"),
            ("Chef de projet informatique|Cheffe de projet informatique", "IT Project Manager"),
            ("Technicien support informatique|Technicienne support informatique", "IT Technician"),
            ("Ingénieur sécurité|Ingénieure sécurité", "Security Engineer"),
        ),
        weight=8,
        sites=(PARIS, NANTES),
    ),
)


@dataclass(frozen=True)
class Persona:
    """A fixed, documented sign-in account (password DEMO_PASSWORD)."""

    email: str
    name: str
    title: str
    dept: str  # the department whose head they report to; "" for external users
    role: Role | None = None
    is_admin: bool = False
    kind: UserKind = UserKind.EMPLOYEE
    language: str = "fr"


PERSONAS = (
    Persona(
        DEMO_ADMIN_EMAIL,
        "Camille Laurent",
        "Responsable communication interne",
        "Marketing & Communication",
        Role.COMMUNICATIONS,
        is_admin=True,
    ),
    Persona(
        "nathalie.girard@essaim.test",
        "Nathalie Girard",
        "Responsable conformité et protection des données",
        "Juridique",
        Role.COMPLIANCE,
    ),
    Persona(
        "thomas.moreau@essaim.test",
        "Thomas Moreau",
        "Référent réseau social d'entreprise",
        "Marketing & Communication",
        Role.MODERATOR,
    ),
    Persona(
        "sophie.bernard@essaim.test",
        "Sophie Bernard",
        "Chargée de développement RH",
        "Ressources humaines",
        Role.HR,
    ),
)
EXTERNALS = tuple(
    Persona(email, name, title, "", kind=UserKind.EXTERNAL, language=language)
    for email, name, title, language in (
        ("julie.martin@client-exemple.test", "Julie Martin", "Acheteuse", "fr"),
        ("marc.dubois@client-exemple.test", "Marc Dubois", "Responsable technique", "fr"),
        ("antoine.roux@batiplus.test", "Antoine Roux", "Directeur des achats", "fr"),
        ("emily.carter@globex-example.test", "Emily Carter", "Procurement Manager", "en"),
        ("lena.schmidt@kunde-beispiel.test", "Lena Schmidt", "Project Engineer", "en"),
    )
)


@dataclass(frozen=True)
class DemoSummary:
    users: int
    employees: int
    externals: int
    units: int
    sites: int  # sites created (existing ones of the same name are reused)


@dataclass(frozen=True)
class _Slot:
    """A position to fill: a unit, the slot of the manager, the rank that gives the title."""

    unit: int
    manager: int | None
    dept: Dept
    rank: str  # "head", "group", "lead" or "staff"


@dataclass
class _Plan:
    units: list[tuple[str, int | None, int]] = field(default_factory=list)  # name, parent, depth
    slots: list[_Slot] = field(default_factory=list)
    heads: dict[str, tuple[int, int]] = field(default_factory=dict)  # dept → (unit, slot)

    def unit(self, name: str, parent: int | None) -> int:
        depth = 0 if parent is None else self.units[parent][2] + 1
        self.units.append((name, parent, depth))
        return len(self.units) - 1

    def slot(self, unit: int, manager: int | None, dept: Dept, rank: str) -> int:
        self.slots.append(_Slot(unit, manager, dept, rank))
        return len(self.slots) - 1


@dataclass(slots=True)
class _Person:
    email: str
    name: str
    language: str
    title: str
    unit: int | None = None
    site: int | None = None
    manager: int | None = None  # index in the people list
    phone: str = ""
    persona: Persona | None = None


def _minimum(dept: Dept) -> int:
    """People a department needs: its head and the managers of its services."""
    return 1 + sum(_minimum(unit) for unit in dept.units)


MIN_USERS = len(PERSONAS) + len(EXTERNALS) + 1 + sum(_minimum(d) for d in DEPARTMENTS)


def _split(total: int, weights: list[int], minimums: list[int]) -> list[int]:
    """Share ``total`` by weight (largest remainders), each share at least its minimum."""
    left = total - sum(minimums)
    exact = [left * w / sum(weights) for w in weights]
    shares = [m + int(x) for m, x in zip(minimums, exact, strict=True)]
    by_remainder = sorted(range(len(weights)), key=lambda i: int(exact[i]) - exact[i])
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _plan_unit(
    plan: _Plan,
    dept: Dept,
    name: str,
    parent: int,
    manager: int,
    people: int,
    rank: str,
    path: str = "",
) -> None:
    """Plan a unit of ``people`` people: its manager, then services, teams or staff."""
    unit = plan.unit(name, parent)
    head = plan.slot(unit, manager, dept, rank)
    if not path:
        plan.heads[dept.name] = (unit, head)
    rest = people - 1
    if dept.units:
        shares = _split(rest, [u.weight for u in dept.units], [_minimum(u) for u in dept.units])
        for sub, share in zip(dept.units, shares, strict=True):
            _plan_unit(plan, sub, sub.name, unit, head, share, "head")
    elif rest > TEAM_MAX:
        count = min(BRANCH_MAX, math.ceil(rest / TEAM_MAX))
        for i, share in enumerate(_split(rest, [1] * count, [1] * count), 1):
            sub_path = f"{path}.{i}" if path else str(i)
            group = share - 1 > TEAM_MAX
            noun = "Pôle" if group else "Équipe"
            _plan_unit(
                plan,
                dept,
                f"{dept.name} {DASH} {noun} {sub_path}",
                unit,
                head,
                share,
                "group" if group else "lead",
                sub_path,
            )
    else:
        for _ in range(rest):
            plan.slot(unit, head, dept, "staff")


def _plan_company(employees: int) -> _Plan:
    """Plan ``employees`` positions: the CEO, a few people beside them, the departments."""
    plan = _Plan()
    root = plan.unit(ROOT.name, None)
    ceo = plan.slot(root, None, ROOT, "head")
    rest = employees - 1
    beside = min(DG_STAFF_MAX, rest // 40)
    for _ in range(beside):
        plan.slot(root, ceo, ROOT, "staff")
    shares = _split(
        rest - beside, [d.weight for d in DEPARTMENTS], [_minimum(d) for d in DEPARTMENTS]
    )
    for dept, share in zip(DEPARTMENTS, shares, strict=True):
        _plan_unit(plan, dept, dept.name, root, ceo, share, "head")
    return plan


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded.replace("'", "")).strip("-")


class _Emails:
    """Unique ``firstname.lastname[N]@essaim.test`` addresses."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.next: dict[str, int] = {}

    def make(self, first: str, last: str) -> str:
        base = f"{_ascii(first)}.{_ascii(last)}"
        n = self.next.get(base, 1)
        email = f"{base}@{EMAIL_DOMAIN}"
        while email in self.taken:
            n += 1
            email = f"{base}{n}@{EMAIL_DOMAIN}"
        self.next[base] = n
        self.taken.add(email)
        return email


def _phone(rng: random.Random, site: int) -> str:
    spec = SITES[site]
    if spec.country == "DE":
        return f"{spec.dial} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    dial = rng.choice(("+33 6", "+33 7")) if rng.random() < 0.3 else spec.dial
    return dial + "".join(f" {rng.randint(0, 99):02d}" for _ in range(4))


def _title(slot: _Slot, rng: random.Random, english: bool, female: bool) -> str:
    ranks = {"head": slot.dept.head, "group": GROUP, "lead": LEAD}
    title = ranks.get(slot.rank) or rng.choice(slot.dept.titles)
    if english:
        return title[1]
    masculine, _, feminine = title[0].partition("|")
    return feminine if female and feminine else masculine


def _employee(
    slot: _Slot, offset: int, rng: random.Random, fakers: dict[str, Faker], emails: _Emails
) -> _Person:
    site = rng.choice(slot.dept.sites)
    english = SITES[site].country != "FR" or rng.random() < INTERNATIONAL_SHARE
    female = rng.random() < 0.5
    fake = fakers["en" if english else "fr"]
    first = fake.first_name_female() if female else fake.first_name_male()
    last = fake.last_name()
    manager = None if slot.manager is None else slot.manager + offset
    return _Person(
        email=emails.make(first, last),
        name=f"{first} {last}",
        language="en" if english else "fr",
        title=_title(slot, rng, english, female),
        unit=slot.unit,
        site=site,
        manager=manager,
        phone=_phone(rng, site),
    )


def _people(plan: _Plan, seed: int, taken: set[str]) -> list[_Person]:
    """Personas and external users first, then one person per planned slot."""
    rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
    fakers = {"fr": Faker("fr_FR"), "en": Faker("en_US")}
    fakers["fr"].seed_instance(seed)
    fakers["en"].seed_instance(seed + 1)
    fixed = [*PERSONAS, *EXTERNALS]
    emails = _Emails(taken | {p.email for p in fixed})
    people = []
    for persona in fixed:
        person = _Person(
            persona.email, persona.name, persona.language, persona.title, persona=persona
        )
        if persona.dept:
            person.unit, head = plan.heads[persona.dept]
            person.manager, person.site = head + len(fixed), PARIS
            person.phone = _phone(rng, PARIS)
        people.append(person)
    people.extend(_employee(slot, len(fixed), rng, fakers, emails) for slot in plan.slots)
    return people


def _create_sites() -> tuple[list[int], int]:
    ids, created = [], 0
    for spec in SITES:
        site, new = Site.objects.get_or_create(
            name=spec.name, defaults={"city": spec.city, "country": spec.country}
        )
        ids.append(site.pk)
        created += new
    return ids, created


def _create_units(units: list[tuple[str, int | None, int]]) -> list[int]:
    """Create the units one depth at a time, so that every parent has its id first."""
    ids = [0] * len(units)
    for depth in range(max(d for _, _, d in units) + 1):
        indexes = [i for i, (_, _, d) in enumerate(units) if d == depth]
        rows = []
        for i in indexes:
            name, parent, _ = units[i]
            rows.append(OrgUnit(name=name, parent_id=None if parent is None else ids[parent]))
        OrgUnit.objects.bulk_create(rows, batch_size=BATCH)
        for i, row in zip(indexes, rows, strict=True):
            ids[i] = row.pk
    return ids


def _create_users(people: list[_Person], password_hash: str) -> list[int]:
    """Bulk-create the accounts in batches; all share one password hash (argon2 is slow)."""
    ids: list[int] = []
    for start in range(0, len(people), BATCH):
        rows = [
            User(
                email=p.email,
                display_name=p.name,
                language=p.language,
                password=password_hash,
                kind=p.persona.kind if p.persona else UserKind.EMPLOYEE,
                is_admin=bool(p.persona and p.persona.is_admin),
            )
            for p in people[start : start + BATCH]
        ]
        User.objects.bulk_create(rows)
        ids.extend(row.pk for row in rows)  # SQLite >= 3.35 and PostgreSQL return the ids
    return ids


def _create_profiles(
    people: list[_Person], user_ids: list[int], unit_ids: list[int], site_ids: list[int]
) -> None:
    for start in range(0, len(people), BATCH):
        Profile.objects.bulk_create(
            Profile(
                user_id=user_ids[i],
                job_title=p.title,
                phone=p.phone,
                org_unit_id=None if p.unit is None else unit_ids[p.unit],
                site_id=None if p.site is None else site_ids[p.site],
                manager_id=None if p.manager is None else user_ids[p.manager],
            )
            for i, p in enumerate(people[start : start + BATCH], start)
        )


def _grant_roles(people: list[_Person], user_ids: list[int]) -> None:
    UserRole.objects.bulk_create(
        UserRole(user_id=user_ids[i], role=p.persona.role)
        for i, p in enumerate(people)
        if p.persona and p.persona.role
    )


def demo_exists() -> bool:
    """Whether the demo organisation is loaded (its administrator exists)."""
    return User.objects.filter(email=DEMO_ADMIN_EMAIL).exists()


def build_organisation(
    *, users: int = 200, seed: int = 2026, password: str = DEMO_PASSWORD
) -> DemoSummary:
    """Create the demo company of ``users`` accounts (personas and external users included)
    in one transaction. Raises DemoError when ``users`` is below MIN_USERS or the demo is
    already loaded. Existing e-mails are avoided; existing sites of the same name reused."""
    if users < MIN_USERS:
        raise DemoError(f"The demo organisation needs at least {MIN_USERS} users, not {users}.")
    password_hash = make_password(password)  # once: argon2 is slow on purpose
    with transaction.atomic():
        if demo_exists():
            raise DemoError(f"The demo organisation is already loaded ({DEMO_ADMIN_EMAIL}).")
        taken = set(
            User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").values_list("email", flat=True)
        )
        plan = _plan_company(users - len(PERSONAS) - len(EXTERNALS))
        people = _people(plan, seed, taken)
        site_ids, sites_created = _create_sites()
        unit_ids = _create_units(plan.units)
        user_ids = _create_users(people, password_hash)
        _create_profiles(people, user_ids, unit_ids, site_ids)
        _grant_roles(people, user_ids)
        directory_services.rebuild_paths()
        directory_index.reindex(user_ids)
    return DemoSummary(
        users=len(people),
        employees=len(people) - len(EXTERNALS),
        externals=len(EXTERNALS),
        units=len(unit_ids),
        sites=sites_created,
    )
