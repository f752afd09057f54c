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

Everyone has skills with levels, areas of expertise, interests, projects, "ask me about"
topics and spoken languages that fit their department and role (KNOWLEDGE, ROLE_SKILLS).

Their communities (essaim.communities.demo) then get about fifteen posts per employee, with
comments, reactions, polls, announcements and files (essaim.content.demo), and a few hundred
questions with their answers, votes and comments, some accepted, in the communities and
company-wide, and articles and case studies (essaim.knowledge.demo); ``content_scale`` scales both.

The people are written as an HR export would list them (CSV, in memory) and loaded by the
people import (essaim.directory.importer), in one transaction; the password, languages
and roles, which an export does not carry, are set in bulk afterwards. The same seed
gives the same people (the knowledge has its own random stream, so adding it changed no
name). 20,000 people take about 30 s on SQLite, three quarters of it building the
search index; 100,000 about 3 minutes and 730 MB.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from faker import Faker

from essaim.accounts.models import Role, User, UserKind, UserRole
from essaim.chat.demo import build_chat
from essaim.communities.demo import build_communities
from essaim.content.demo import build_posts
from essaim.directory import importer
from essaim.http import Origin
from essaim.knowledge.demo import QuestionsSummary, build_questions
from essaim.search.demo import build_search

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
    communities: int
    # Posts, comments, reactions … written by essaim.content.demo.build_posts.
    content: dict[str, int] = field(default_factory=dict)
    # Questions, answers, votes … written by essaim.knowledge.demo.build_questions.
    questions: QuestionsSummary = field(default_factory=QuestionsSummary)
    # Conversations, messages and help requests written by essaim.chat.demo.build_chat.
    chat: dict[str, int] = field(default_factory=dict)
    # The index built and the keyword watches of essaim.search.demo.build_search.
    search: dict[str, int] = field(default_factory=dict)


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
    dept: str = ""  # the department or service whose knowledge the person has
    role: str = ""  # the English job title, which picks the role's own skills
    rank: str = "staff"


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


def _title(slot: _Slot, rng: random.Random, english: bool, female: bool) -> tuple[str, str]:
    """The title in the person's language, and in English (which picks their skills)."""
    ranks = {"head": slot.dept.head, "group": GROUP, "lead": LEAD}
    title = ranks.get(slot.rank) or rng.choice(slot.dept.titles)
    if english:
        return title[1], title[1]
    masculine, _, feminine = title[0].partition("|")
    return (feminine if female and feminine else masculine), title[1]


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
    email = emails.make(first, last)
    title, role = _title(slot, rng, english, female)
    return _Person(
        email=email,
        name=f"{first} {last}",
        language="en" if english else "fr",
        title=title,
        unit=slot.unit,
        site=site,
        manager=manager,
        phone=_phone(rng, site),
        dept=slot.dept.name,
        role=role,
        rank=slot.rank,
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


# --- What people know -------------------------------------------------------------------
# Skills, areas of expertise and projects of each department or service, and those of some
# roles (by English title), so that "who knows IFRS?" and the directory's facets find the
# right colleagues. Topic names are French, as the company's vocabulary is.


@dataclass(frozen=True)
class Know:
    skills: tuple[str, ...]
    expertise: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()


KNOWLEDGE: dict[str, Know] = {
    ROOT.name: Know(
        ("Stratégie", "Management", "Leadership", "Conduite du changement", "Gouvernance"),
        ("Stratégie d'entreprise", "Fusions-acquisitions", "Relations investisseurs"),
        ("Plan stratégique 2030", "Transformation digitale"),
    ),
    "Ventes": Know(
        ("Négociation", "CRM", "Salesforce", "Management", "Prévisions des ventes"),
        ("Vente B2B", "Grands comptes"),
        ("Refonte CRM", "Salon Industrie Lyon"),
    ),
    SALES_FRANCE.name: Know(
        ("Négociation", "Prospection", "CRM", "Salesforce", "Appels d'offres", "Grands comptes"),
        ("Vente B2B", "Grands comptes", "Marchés publics"),
        ("Refonte CRM", "Salon Industrie Lyon", "Programme fidélité"),
    ),
    EXPORT.name: Know(
        ("Négociation", "Commerce international", "Incoterms", "Douane", "CRM"),
        ("Commerce international", "Marché DACH", "Distribution indirecte"),
        ("Ouverture filiale Espagne", "Partenariats distributeurs"),
    ),
    "Marketing & Communication": Know(
        ("Marketing digital", "SEO", "Rédaction", "Réseaux sociaux", "Google Analytics"),
        ("Communication interne", "Stratégie de marque", "Marketing produit", "Relations presse"),
        ("Lancement gamme 2026", "Refonte site web", "Convention annuelle"),
    ),
    "Recherche & Développement": Know(
        ("Gestion de projet", "Innovation", "Management", "Propriété intellectuelle"),
        ("Innovation", "Feuille de route produit"),
        ("Plateforme IoT", "Capteur connecté V3"),
    ),
    SOFTWARE.name: Know(
        ("Python", "Java", "SQL", "Kubernetes", "Docker", "TypeScript", "React", "Git"),
        ("Architecture logicielle", "DevOps", "API REST", "Sécurité applicative"),
        ("Plateforme IoT", "Migration cloud", "Application mobile terrain"),
    ),
    ELECTRONICS.name: Know(
        ("Systèmes embarqués", "Langage C", "VHDL", "Altium Designer", "Compatibilité CEM"),
        ("Électronique de puissance", "Systèmes embarqués", "Capteurs"),
        ("Capteur connecté V3", "Certification CE"),
    ),
    "Production": Know(
        ("Lean manufacturing", "Maintenance préventive", "GMAO", "SAP", "Conduite de ligne"),
        ("Amélioration continue", "TPM", "Supply chain", "Sécurité au travail"),
        ("Usine 4.0", "Nouvelle ligne Lille", "Réduction des déchets"),
    ),
    "Qualité": Know(
        ("ISO 9001", "Audit qualité", "AMDEC", "Six Sigma", "Métrologie", "Méthode 8D"),
        ("Management de la qualité", "Certification ISO", "Maîtrise statistique des procédés"),
        ("Certification ISO 14001", "Zéro défaut 2026"),
    ),
    "Ressources humaines": Know(
        ("Paie", "Droit social", "Recrutement", "Formation", "SIRH", "GPEC"),
        ("Droit social", "Relations sociales", "Gestion des talents", "Qualité de vie au travail"),
        ("Onboarding digital", "Accord télétravail", "Marque employeur"),
    ),
    "Finance": Know(
        ("IFRS", "Consolidation", "Contrôle de gestion", "Excel", "SAP", "Trésorerie"),
        ("Consolidation", "Contrôle de gestion", "Normes IFRS", "Fiscalité"),
        ("Clôture rapide", "Budget 2027", "Dématérialisation des factures"),
    ),
    "Juridique": Know(
        ("Droit des contrats", "Propriété intellectuelle", "RGPD", "Droit de la concurrence"),
        ("Propriété intellectuelle", "Protection des données", "Conformité", "Contentieux"),
        ("Programme Sapin II", "Dépôt de brevets"),
    ),
    "Service client": Know(
        ("Relation client", "Zendesk", "Support technique", "Gestion des réclamations", "CRM"),
        ("Expérience client", "Support niveau 2", "Satisfaction client"),
        ("Nouveau portail client", "Chatbot support"),
    ),
    "Systèmes d'information": Know(
        ("Linux", "Windows Server", "Réseaux", "Cybersécurité", "ITIL", "Azure", "Python", "SQL"),
        ("Cybersécurité", "Infrastructure", "Cloud", "Gestion de projet informatique"),
        ("Migration Microsoft 365", "Plan de continuité informatique", "Déploiement Essaim"),
    ),
}
ROLE_SKILLS: dict[str, tuple[str, ...]] = {
    "QA Engineer": ("Tests automatisés", "Playwright"),
    "Software Architect": ("Architecture logicielle", "Microservices", "Kubernetes"),
    "Payroll Specialist": ("Paie", "DSN"),
    "Recruiter": ("Recrutement", "Sourcing"),
    "Learning & Development Manager": ("Formation", "Ingénierie pédagogique"),
    "HR Business Partner": ("Droit social", "Relations sociales"),
    "Accountant": ("Comptabilité générale", "Clôture comptable"),
    "Financial Controller": ("Contrôle de gestion", "Reporting"),
    "Treasury Analyst": ("Trésorerie", "Cash management"),
    "Buyer": ("Achats", "Négociation"),
    "Graphic Designer": ("Design graphique", "Adobe Creative Suite"),
    "Digital Marketing Manager": ("Marketing digital", "SEO", "Google Analytics"),
    "Security Engineer": ("Cybersécurité", "Tests d'intrusion"),
    "Systems Administrator": ("Linux", "Windows Server", "Active Directory"),
    "IT Project Manager": ("Gestion de projet", "Méthodes agiles"),
    "IP Counsel": ("Propriété intellectuelle", "Brevets"),
    "Support Technician": ("Support technique", "Diagnostic"),
    "PCB Designer": ("Altium Designer", "Conception de cartes électroniques"),
    "Lab Technician": ("Métrologie", "Essais en laboratoire"),
    "Maintenance Technician": ("Maintenance préventive", "GMAO", "Électrotechnique"),
    "Logistics Coordinator": ("Logistique", "Gestion des stocks"),
    "Export Area Manager": ("Commerce international", "Négociation"),
    "Team Lead": ("Management",),
    "Group Manager": ("Management", "Conduite du changement"),
}
INTERESTS = (
    "Photographie", "Randonnée", "Course à pied", "Cuisine", "Jardinage", "Musique",
    "Cyclisme", "Œnologie", "Lecture", "Théâtre", "Voyages", "Échecs", "Bénévolat",
    "Développement durable", "Jeux de société", "Football", "Rugby", "Yoga", "Cinéma",
)  # fmt: skip
# The personas' own profiles, for the demonstrations that use them.
PERSONA_KNOWLEDGE: dict[str, dict[str, str]] = {
    DEMO_ADMIN_EMAIL: {
        "skills": "Communication interne:4, Rédaction:4, Réseaux sociaux:3",
        "expertise": "Communication interne, Réseau social d'entreprise",
        "projects": "Déploiement Essaim",
        "ask_me_about": "Essaim, Communication interne",
    },
    "nathalie.girard@essaim.test": {
        "skills": "RGPD:4, Conformité:4, Droit des contrats:3",
        "expertise": "Protection des données, Conformité",
        "projects": "Programme Sapin II",
        "ask_me_about": "RGPD, Durées de conservation",
    },
    "thomas.moreau@essaim.test": {
        "skills": "Animation de communautés:4, Modération:4, Rédaction:3",
        "expertise": "Réseau social d'entreprise, Animation de communautés",
        "projects": "Déploiement Essaim",
        "ask_me_about": "Charte d'utilisation, Animation de communautés",
    },
    "sophie.bernard@essaim.test": {
        "skills": "Droit social:4, Paie:3, Recrutement:3, SIRH:3",
        "expertise": "Droit social, Qualité de vie au travail",
        "projects": "Onboarding digital, Accord télétravail",
        "ask_me_about": "Onboarding, Télétravail",
    },
}
TIMEZONES = {"FR": "Europe/Paris", "DE": "Europe/Berlin"}


def _level(rng: random.Random, rank: str) -> int:
    """Skill levels: mostly intermediate and advanced; managers know their field well."""
    if rank in ("head", "group"):
        return rng.choice((3, 3, 4, 4))
    return rng.choice((1, 2, 2, 2, 3, 3, 3, 4))


def _pick(rng: random.Random, pool: tuple[str, ...], low: int, high: int) -> list[str]:
    return rng.sample(pool, min(len(pool), rng.randint(low, high)))


def _languages(rng: random.Random, person: _Person) -> str:
    """French staff speak French and often English; international staff English; the
    München site German."""
    if person.site is not None and SITES[person.site].country == "DE":
        spoken = {"de": "native", "en": rng.choice(("fluent", "fluent", "working"))}
        if rng.random() < 0.2:
            spoken["fr"] = rng.choice(("working", "basic"))
    elif person.language == "en":
        spoken = {"en": "native", "fr": rng.choice(("fluent", "working", "working", "basic"))}
    else:
        spoken = {"fr": "native"}
        if rng.random() < 0.8:
            spoken["en"] = rng.choice(("fluent", "working", "working", "basic"))
        if rng.random() < 0.2:
            other = rng.choice(("es", "de", "it", "pt", "ar"))
            spoken[other] = rng.choice(("native", "fluent", "working", "basic"))
    return ", ".join(f"{code}:{level}" for code, level in spoken.items())


def _knowledge(rng: random.Random, person: _Person) -> dict[str, str]:
    """The topics and languages of an employee, from their department and role."""
    know = KNOWLEDGE[person.dept]
    skills = list(ROLE_SKILLS.get(person.role, ()))
    skills += [s for s in _pick(rng, know.skills, 2, 4) if s not in skills]
    skills = skills[: rng.randint(2, 5)]
    expertise = _pick(rng, know.expertise, 0 if person.rank == "staff" else 1, 2)
    asked = list(dict.fromkeys([*skills[:2], *expertise[:1]]))
    return {
        "skills": ", ".join(f"{s}:{_level(rng, person.rank)}" for s in skills),
        "expertise": ", ".join(expertise),
        "interests": ", ".join(_pick(rng, INTERESTS, 0, 3)),
        "projects": ", ".join(_pick(rng, know.projects, 0, 2)),
        "ask_me_about": ", ".join(rng.sample(asked, rng.randint(0, min(2, len(asked))))),
        "languages": _languages(rng, person),
    }


# --- Loading -------------------------------------------------------------------------------

CSV_COLUMNS = (
    "email", "display_name", "kind", "job_title", "org_unit", "site", "site_city",
    "site_country", "manager_email", "phone", "timezone", "languages", "skills", "expertise",
    "interests", "projects", "ask_me_about",
)  # fmt: skip
DEMO_ORIGIN = Origin(user_agent="essaim demo")


def _unit_paths(units: list[tuple[str, int | None, int]]) -> list[str]:
    paths: list[str] = []
    for name, parent, _depth in units:  # parents come before their children
        paths.append(name if parent is None else paths[parent] + importer.UNIT_SEPARATOR + name)
    return paths


def _csv(people: list[_Person], plan: _Plan, seed: int) -> str:
    """The people as an HR export would list them (in memory)."""
    rng = random.Random(f"{seed}:knowledge")  # noqa: S311  (its own stream: same names as before)
    paths = _unit_paths(plan.units)
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for person in people:
        persona = person.persona
        row = {
            "email": person.email,
            "display_name": person.name,
            "kind": persona.kind if persona else UserKind.EMPLOYEE,
            "job_title": person.title,
            "phone": person.phone,
        }
        if person.unit is not None:
            row["org_unit"] = paths[person.unit]
        if person.site is not None:
            spec = SITES[person.site]
            row.update(site=spec.name, site_city=spec.city, site_country=spec.country)
            row["timezone"] = TIMEZONES[spec.country]
        if person.manager is not None:
            row["manager_email"] = people[person.manager].email
        if persona is None:
            row.update(_knowledge(rng, person))
        else:
            native = "fr" if persona.language == "fr" else "en"
            row["languages"] = f"{native}:native" + (", en:fluent" if native == "fr" else "")
            row.update(PERSONA_KNOWLEDGE.get(persona.email, {}))
        writer.writerow(row)
    return out.getvalue()


def _finish_accounts(people: list[_Person], password_hash: str) -> None:
    """What an HR export does not carry: the demo password, languages, the administrator
    and the roles of the personas."""
    by_language: dict[str, list[str]] = {}
    for person in people:
        by_language.setdefault(person.language, []).append(person.email)
    for language, emails in by_language.items():
        for start in range(0, len(emails), BATCH):
            User.objects.filter(email__in=emails[start : start + BATCH]).update(
                password=password_hash, language=language
            )
    admins = [p.email for p in people if p.persona and p.persona.is_admin]
    User.objects.filter(email__in=admins).update(is_admin=True)
    ids = dict(
        User.objects.filter(email__in=[p.email for p in people if p.persona]).values_list(
            "email", "id"
        )
    )
    UserRole.objects.bulk_create(
        UserRole(user_id=ids[p.email], role=p.persona.role)
        for p in people
        if p.persona and p.persona.role
    )


def demo_exists() -> bool:
    """Whether the demo organisation is loaded (its administrator exists)."""
    return User.objects.filter(email=DEMO_ADMIN_EMAIL).exists()


def build_organisation(
    *,
    users: int = 200,
    seed: int = 2026,
    password: str = DEMO_PASSWORD,
    progress: importer.Progress | None = None,
    content_scale: float = 1.0,
) -> DemoSummary:
    """Create the demo company of ``users`` accounts (personas and external users included)
    in one transaction, with its communities, their posts and the questions
    (``content_scale`` times essaim.content.demo's and essaim.knowledge.demo's amounts; 0
    for none). Raises DemoError when ``users`` is below MIN_USERS or the demo is already
    loaded. Existing e-mails are avoided; existing sites of the same name reused."""
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
        sheet = importer.parse(_csv(people, plan, seed))
        try:
            loaded = importer.apply(sheet, actor=None, origin=DEMO_ORIGIN, progress=progress)
        except importer.ImportRefused as exc:  # a bug of the generator, not of the caller
            raise DemoError("; ".join(map(str, exc.plan.errors[:5]))) from exc
        _finish_accounts(people, password_hash)
        communities = build_communities(seed=seed, admin=User.objects.get(email=DEMO_ADMIN_EMAIL))
        content = build_posts(seed=seed, scale=content_scale)
        questions = build_questions(seed=seed, scale=content_scale)
        chat = build_chat(seed=seed, scale=content_scale)
        search = build_search(seed=seed)
    counts = loaded.summary()
    return DemoSummary(
        users=len(people),
        employees=len(people) - len(EXTERNALS),
        externals=len(EXTERNALS),
        units=counts["units_created"],
        sites=counts["sites_created"],
        communities=communities,
        content=content,
        questions=questions,
        chat=chat,
        search=search,
    )
