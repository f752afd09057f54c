"""The demo organisation's communities: one per site and per department (their members
kept in sync by a rule), communities of practice, projects (one archived, one secret and
confidential), customer communities with the external customers, a help community and a
secret steering committee — about thirty, each with owners, animators, members and
readers. The communities, rules, invitations and archives go through the services, as
people would make them; the drawn members are written in bulk, as an import would."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.utils import timezone

from essaim.accounts.models import User, UserKind
from essaim.directory.models import OrgUnit, Profile, Site
from essaim.http import Origin

from . import services
from .models import Community, Kind, Membership, Role, Visibility

ORIGIN = Origin(ip=None, user_agent="essaim demo")

PRACTICES = (
    (
        "Python & data",
        "Scripts, notebooks, pipelines: entraide et bonnes pratiques.",
        ["python", "data"],
    ),
    ("Lean & amélioration continue", "Kaizen, 5S, chantiers d'amélioration partagés.", ["lean"]),
    ("Cybersécurité", "Alertes, réflexes et retours d'expérience.", ["sécurité", "security"]),
    ("Accessibility champions", "Making our tools usable by everyone.", ["accessibility"]),
    ("RSE & climat", "Bilan carbone, achats responsables, initiatives locales.", ["rse", "climat"]),
    ("Managers de proximité", "Pairs, situations délicates, outils du quotidien.", ["management"]),
    ("Innovation", "Idées, prototypes et veille.", ["innovation", "veille"]),
    ("Excel & outils bureautiques", "Astuces, macros, modèles.", ["excel"]),
)
PROJECTS = (
    # name, visibility, confidential, days from today to its end (negative: archived)
    ("Projet Atlas – nouvel ERP", Visibility.PRIVATE, False, 240),  # noqa: RUF001
    ("Déménagement Lyon 2027", Visibility.PRIVATE, False, 120),
    ("Projet Orion – acquisition", Visibility.SECRET, True, 90),  # noqa: RUF001
    ("Salon Industrie 2025", Visibility.PUBLIC, False, -200),
)
CUSTOMERS = (
    (
        "Club clients",
        "Échanges entre clients et équipes produit.",
        ("client-exemple.test", "batiplus.test"),
    ),
    (
        "International customers",
        "Questions and answers with our customers abroad.",
        ("globex-example.test", "kunde-beispiel.test"),
    ),
)


def build_communities(*, seed: int, admin: User) -> int:
    """Create the demo's communities; returns how many."""
    rng = random.Random(f"{seed}-communities")  # noqa: S311  (demo data, not secrets)
    staff = list(
        User.objects.filter(is_active=True, kind=UserKind.EMPLOYEE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    externals = list(User.objects.filter(kind=UserKind.EXTERNAL).order_by("pk"))
    made = 0

    def make(name: str, visibility: str, kind: str, **settings: Any) -> Community:
        nonlocal made
        made += 1
        return services.community_create(
            actor=admin, origin=ORIGIN, name=name, visibility=visibility, kind=kind, **settings
        )

    def people(community: Community, count: int) -> None:
        """An owner, two animators, members and a few readers, drawn from the staff."""
        chosen = rng.sample(staff, min(count, len(staff)))
        present = set(community.memberships.values_list("user_id", flat=True))
        roles = [Role.OWNER, Role.ANIMATOR, Role.ANIMATOR]
        rows = []
        for i, pk in enumerate(p for p in chosen if p not in present):
            role = roles[i] if i < len(roles) else Role.READER if i % 9 == 8 else Role.MEMBER
            rows.append(Membership(community=community, user_id=pk, role=role))
        Membership.objects.bulk_create(rows)

    for site in Site.objects.order_by("name"):
        community = make(
            f"Site de {site.city or site.name}",
            Visibility.PUBLIC,
            Kind.REGION,
            description=f"La vie du site de {site.name} : actualités, entraide, événements.",
            tags=["site", (site.city or site.name).lower()],
        )
        services.membership_rule_set(actor=admin, origin=ORIGIN, community=community, site=site)
        people(community, 3)
    departments = OrgUnit.objects.filter(parent__isnull=False, parent__parent__isnull=True)
    for unit in departments.order_by("name"):
        community = make(
            unit.name,
            Visibility.PUBLIC,
            Kind.TRADE,
            description=f"Le métier {unit.name} : pratiques, outils, nouvelles de l'équipe.",
        )
        services.membership_rule_set(actor=admin, origin=ORIGIN, community=community, org_unit=unit)
        people(community, 3)
    for i, (name, description, tags) in enumerate(PRACTICES):
        visibility = Visibility.PRIVATE if i % 3 == 2 else Visibility.PUBLIC
        community = make(name, visibility, Kind.PRACTICE, description=description, tags=tags)
        people(community, rng.randint(15, 80))
    today = timezone.localdate()
    for name, visibility, confidential, days in PROJECTS:
        community = make(
            name,
            visibility,
            Kind.PROJECT,
            confidential=confidential,
            # An ended one is archived (the services refuse an end date in the past).
            end_date=today + datetime.timedelta(days=days) if days >= 0 else None,
            description="Planning, décisions et livrables du projet.",
        )
        people(community, rng.randint(6, 25))
        if days < 0:
            services.community_archive(actor=admin, origin=ORIGIN, community=community)
    for name, description, domains in CUSTOMERS:
        community = make(name, Visibility.EXTERNAL, Kind.CUSTOMER, description=description)
        people(community, rng.randint(8, 20))
        guests = [u for u in externals if u.email.split("@")[1] in domains]
        services.invite(actor=admin, origin=ORIGIN, community=community, people=guests)
        for invitation in community.invitations.filter(user__in=guests[:-1]):
            services.invitation_answer(actor=invitation.user, invitation=invitation, accept=True)
    help_desk = make(
        "Entraide Essaim",
        Visibility.PUBLIC,
        Kind.HELP,
        description="Une question sur Essaim ? Posez-la ici, les ambassadeurs répondent.",
        rules="Bienveillance, pas de données personnelles, une question par fil.",
    )
    people(help_desk, 40)
    board = make(
        "Comité de direction",
        Visibility.SECRET,
        Kind.OTHER,
        confidential=True,
        description="Ordres du jour et comptes rendus du comité.",
    )
    heads = Profile.objects.filter(org_unit__in=departments, manager__profile__manager__isnull=True)
    Membership.objects.bulk_create(
        [
            Membership(community=board, user_id=pk, role=Role.OWNER if i == 0 else Role.MEMBER)
            for i, pk in enumerate(heads.values_list("user_id", flat=True)[:12])
        ]
    )
    # The administrator made them all: she hands them over and stays in the help community
    # she runs (and, by their rule, in those of her site and department).
    for community in Community.objects.exclude(pk=help_desk.pk).filter(memberships__user=admin):
        if community.memberships.filter(role=Role.OWNER).exclude(user=admin).exists():
            services.leave(actor=admin, community=community)
    services.sync_people([admin.pk])
    return made
