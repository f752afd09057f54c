"""Every read of the directory. People come from access.visible, so a search, a facet
count or an org chart never holds someone the viewer may not see, and words of fields
the viewer may not read never match."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Length

from essaim import access, bulk
from essaim.accounts.models import User, UserKind

from .index import WEIGHT_NAME
from .models import (
    Endorsement,
    Follow,
    OrgUnit,
    PersonToken,
    Profile,
    ProfileField,
    ProfileFieldValue,
    ProfileTopic,
    Site,
    SkillLevel,
    SpokenLanguage,
    TokenVariant,
    Topic,
    TopicKind,
    VariantKind,
)
from .text import LANGUAGES, deletions, edit_distance, normalize, typos_allowed, words

MAX_TERMS = 6
FACET_SIZE = 12
FACET_KEYS = ("org_unit", "site", TopicKind.SKILL, TopicKind.EXPERTISE, "language")
EXPERT_KINDS = (TopicKind.SKILL, TopicKind.EXPERTISE)


def people(viewer: access.Viewer) -> QuerySet[User]:
    """The active people the viewer may see."""
    return access.visible(viewer, User.objects.filter(is_active=True))


def with_profile(people: QuerySet[User], *, skills: bool = True) -> QuerySet[User]:
    """What a person card shows, in a fixed number of queries for any page (its skills
    too unless ``skills`` is False, for pages that show none, such as the org chart)."""
    people = people.select_related("profile__org_unit", "profile__site")
    if not skills:
        return people
    return people.prefetch_related(
        Prefetch(
            "topics",
            queryset=ProfileTopic.objects.filter(kind__in=EXPERT_KINDS)
            .select_related("topic")
            .order_by("-level", "topic__name"),
        )
    )


@dataclass
class PeopleQuery:
    text: str = ""
    org_units: list[int] = field(default_factory=list)
    sites: list[int] = field(default_factory=list)
    skills: list[int] = field(default_factory=list)
    expertise: list[int] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    sort: str = "relevance"  # or "name"

    def has_filters(self) -> bool:
        return bool(self.org_units or self.sites or self.skills or self.expertise or self.languages)


@dataclass
class FacetValue:
    value: int | str
    label: str
    count: int


@dataclass
class PeoplePage:
    results: list[User]
    total: int
    facets: dict[str, list[FacetValue]]
    # Words searched as typed and the words they were corrected to, for "did you mean".
    corrections: dict[str, list[str]]
    facets_partial: bool = False  # counted over the best FACET_IDS_MAX matches only


def _filtered(viewer: access.Viewer, query: PeopleQuery) -> QuerySet[User]:
    found = people(viewer).exclude(kind=UserKind.BOT)  # the directory lists people
    if query.org_units:
        paths = OrgUnit.objects.filter(pk__in=query.org_units).values_list("path", flat=True)
        below = Q()
        for path in paths:
            below |= Q(path__startswith=path)
        # The units' ids as a list: PostgreSQL's statistics then see how many people they
        # hold (with a subquery it walked all 50,000 profiles in name order, 50 ms).
        units = list(OrgUnit.objects.filter(below).values_list("id", flat=True)) if paths else []
        found = found.filter(profile__org_unit__in=units)
    if query.sites:
        found = found.filter(profile__site__in=query.sites)
    # EXISTS rather than joins: a person is listed once, without DISTINCT.
    for kind, topic_ids in (
        (TopicKind.SKILL, query.skills),
        (TopicKind.EXPERTISE, query.expertise),
    ):
        for topic_id in topic_ids:  # every one of them
            held = ProfileTopic.objects.filter(user=OuterRef("pk"), kind=kind, topic_id=topic_id)
            found = found.filter(Exists(held))
    if query.languages:
        spoken = SpokenLanguage.objects.filter(user=OuterRef("pk"), language__in=query.languages)
        found = found.filter(Exists(spoken))
    return found


@dataclass
class _Term:
    word: str
    prefixed: list[str]  # index words that start with it (the word itself included)
    fuzzy: list[str]  # index words one typo away
    far: list[str]  # two typos away (long words only)

    @property
    def names_only(self) -> bool:
        """A word of one or two letters matches the start of names only: "m" finds
        Martin, not every manager, and stays cheap while the next letter is typed."""
        return len(self.word) <= NAMES_ONLY_LENGTH

    @property
    def corrections(self) -> list[str]:
        return self.fuzzy + self.far

    @property
    def every(self) -> list[str]:
        return [*self.prefixed, *self.fuzzy, *self.far]


NAMES_ONLY_LENGTH = 2
# A query word that starts more index words than this (one or two letters) matches the
# most common of them only; the next letter typed narrows it.
MAX_PREFIXED = 2000


def _readable_words(viewer: access.Viewer) -> QuerySet[PersonToken]:
    """The index rows the viewer may match: words of fields they read, of people they see."""
    return access.visible(viewer, PersonToken.objects.all())


def _terms(viewer: access.Viewer, text: str) -> list[_Term]:
    """The query's words, each with the index words it matches: those it starts, or when
    none the viewer may read, those a typo or two away. Word lists are resolved here, so
    the search itself is one indexed lookup of literal words; only words the viewer may
    read are proposed, so neither the results nor the "did you mean" reveal a word of a
    field the viewer may not read."""
    terms = []
    readable = _readable_words(viewer)
    for word in list(dict.fromkeys(words(text)))[:MAX_TERMS]:
        prefixed = list(
            TokenVariant.objects.filter(variant=word, kind=VariantKind.PREFIX)
            .order_by(Length("token"), "token")
            .values_list("token", flat=True)[:MAX_PREFIXED]
        )
        near: dict[int, list[str]] = {1: [], 2: []}
        if typos_allowed(word) and not readable.filter(token__in=prefixed).exists():
            candidates = TokenVariant.objects.filter(
                variant__in=deletions(word), kind=VariantKind.DELETION
            ).values_list("token", flat=True)[:1000]
            close = {c for c in candidates if 0 < edit_distance(word, c) <= typos_allowed(word)}
            found = readable.filter(token__in=close).values_list("token", flat=True).distinct()
            for candidate in sorted(found):
                near[edit_distance(word, candidate)].append(candidate)
        terms.append(_Term(word, prefixed, near[1], near[2]))
    return terms


def _hits(viewer: access.Viewer, terms: list[_Term], within: QuerySet[User] | None) -> Any:
    """People matching every term, one row each with its relevance score (for each word
    the best of exact, prefix, one typo or two, times the weight of the field) and the
    number of people matched, counted in the same pass. With filters, the people found are
    kept ``within`` those they select: checked with EXISTS, not IN, so that the planner
    starts from the words (an index lookup) and checks each holder, instead of probing
    every candidate for every word."""
    scores = {}
    # One list of the terms' words (and one of names-only words, in names): a list per
    # term, or'ed, made PostgreSQL scan the whole index table (80 ms at 50,000 people)
    # where one list is an index lookup.
    wide = {word for term in terms if not term.names_only for word in term.every}
    names = {word for term in terms if term.names_only for word in term.every} - wide
    matching = Q(token__in=sorted(wide))
    if names:
        matching |= Q(weight=WEIGHT_NAME, token__in=sorted(names))
    for i, term in enumerate(terms):
        held = Q(weight=WEIGHT_NAME) if term.names_only else Q()
        scores[f"s{i}"] = Max(
            Case(
                When(held & Q(token=term.word), then=F("weight") * 6),
                When(held & Q(token__in=term.prefixed), then=F("weight") * 4),
                When(held & Q(token__in=term.fuzzy), then=F("weight") * 2),
                When(held & Q(token__in=term.far), then=F("weight")),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
    total = ExpressionWrapper(
        sum((F(name) for name in scores), Value(0)), output_field=IntegerField()
    )
    return (
        _readable_words(viewer)
        .filter(matching)
        .filter(Q() if within is None else Exists(within.filter(pk=OuterRef("user_id"))))
        .values("user_id")
        .annotate(**scores)
        .filter(**{f"{name}__gt": 0 for name in scores})
        .annotate(score=total, name=Max("sort_name"), found=Window(Count("*")))
    )


# Facet counts run over at most this many of the first results, given by their ids: past
# it (a word of one or two letters, a big site) they are "about" figures, as a web search
# engine's, and the page says so.
FACET_IDS_MAX = 500


def people_search(
    viewer: access.Viewer,
    query: PeopleQuery,
    *,
    offset: int = 0,
    limit: int = 20,
    facets: bool = True,
) -> PeoplePage:
    """A page of the people ``query`` finds; ``facets=False`` (suggestions while typing)
    leaves the facets out, with the four queries they take."""
    candidates = _filtered(viewer, query)
    terms = _terms(viewer, query.text)
    # The first FACET_IDS_MAX come back, for the facets, and the page is cut from them.
    fetch = max(FACET_IDS_MAX if facets else 0, offset + limit)
    if terms:
        # Ranked and counted in one pass: the count needs every match anyway.
        order = ("name", "user_id") if query.sort == "name" else ("-score", "name", "user_id")
        found = _hits(viewer, terms, candidates if query.has_filters() else None)
        rows = list(found.order_by(*order).values_list("user_id", "found")[:fetch])
        first = [pk for pk, _found in rows]
        total = rows[0][1] if rows else 0
    else:
        # Two queries: walking the name index stops after ``fetch`` people, and counting
        # alone needs no order.
        listed = candidates.order_by("profile__sort_name", "id").values_list("id", flat=True)
        first = list(listed[:fetch])
        total = candidates.count()
    ids = first[offset : offset + limit]
    by_id = {u.pk: u for u in with_profile(User.objects.filter(pk__in=ids))}
    counted = (
        _facets(bulk.id_list(first[:FACET_IDS_MAX]))
        if facets and access.readable_visibilities(viewer) >= {access.PROFILE_FIELDS["site"]}
        else {}
    )
    return PeoplePage(
        results=[by_id[i] for i in ids if i in by_id],
        total=total,
        facets=counted,
        corrections={t.word: t.corrections for t in terms if t.corrections},
        facets_partial=total > FACET_IDS_MAX,
    )


def _facets(matched: Any) -> dict[str, list[FacetValue]]:
    """Counts over these people (the first results, not just the page), in four grouped
    queries."""
    counts: dict[str, Counter[tuple[Any, str]]] = defaultdict(Counter)
    profiles = Profile.objects.filter(user_id__in=matched).order_by()
    for key in ("org_unit", "site"):
        for value, label, n in (
            profiles.values_list(key, f"{key}__name").annotate(n=Count("id")).order_by()
        ):
            if value is not None:
                counts[key][value, label] = n
    topics = (
        ProfileTopic.objects.filter(user_id__in=matched, kind__in=EXPERT_KINDS)
        .values_list("kind", "topic", "topic__name")
        .annotate(n=Count("id"))
        .order_by()
    )
    for kind, topic, name, n in topics:
        counts[kind][topic, name] = n
    languages = (
        SpokenLanguage.objects.filter(user_id__in=matched)
        .values_list("language")
        .annotate(n=Count("id"))
        .order_by()
    )
    for code, n in languages:
        counts["language"][code, LANGUAGES.get(code, code)] = n
    return {
        key: [
            FacetValue(value, label, n)
            for (value, label), n in sorted(
                counts[key].items(), key=lambda item: (-item[1], item[0][1])
            )[:FACET_SIZE]
        ]
        for key in FACET_KEYS
    }


# --- One person ------------------------------------------------------------------------


@dataclass
class PersonView:
    """A profile as one viewer may read it: fields they may not read are left out."""

    person: User
    readable: frozenset[str]  # names of the built-in fields (access.PROFILE_FIELDS)
    topics: dict[str, list[ProfileTopic]]
    languages: list[SpokenLanguage]
    fields: list[ProfileFieldValue]
    endorsements: dict[int, int]  # topic id → number of colleagues who endorsed it
    endorsed_by_viewer: set[int]
    followers: int
    following: int
    viewer_follows: bool

    def shows(self, name: str) -> bool:
        return name in self.readable


def person_view(viewer: access.Viewer, person_id: object) -> PersonView:
    person = access.access_user(viewer, person_id)  # 404 alike for missing and hidden people
    person = (
        with_profile(User.objects.filter(pk=person.pk)).select_related("profile__manager").get()
    )
    readable = frozenset(
        name for name in access.PROFILE_FIELDS if access.sees_field(viewer, person, name)
    )
    topics: dict[str, list[ProfileTopic]] = defaultdict(list)
    languages: list[SpokenLanguage] = []
    endorsements: dict[int, int] = {}
    endorsed: set[int] = set()
    if "topics" in readable:
        for held in (
            ProfileTopic.objects.filter(user=person)
            .select_related("topic")
            .order_by("kind", "-level", "topic__name")
        ):
            topics[held.kind].append(held)
        counts = Endorsement.objects.filter(person=person).filter(
            Exists(people(viewer).filter(pk=OuterRef("endorser_id")))
        )
        endorsements = dict(
            counts.values_list("topic").annotate(n=Count("id")).values_list("topic", "n")
        )
        endorsed = set(counts.filter(endorser_id=viewer.pk).values_list("topic", flat=True))
    if "languages" in readable:
        languages = list(SpokenLanguage.objects.filter(user=person).order_by("language"))
    fields = list(
        access.visible(viewer, ProfileFieldValue.objects.filter(user=person))
        .select_related("field")
        .order_by("field__position", "field_id")
    )
    follows = "follows" in readable
    return PersonView(
        person=person,
        readable=readable,
        topics=dict(topics),
        languages=languages,
        fields=fields,
        endorsements=endorsements,
        endorsed_by_viewer=endorsed,
        followers=people(viewer).filter(following__followed=person).count() if follows else 0,
        following=people(viewer).filter(followers__follower=person).count() if follows else 0,
        viewer_follows=Follow.objects.filter(follower_id=viewer.pk, followed=person).exists(),
    )


def followers(viewer: access.Viewer, person: User) -> QuerySet[User]:
    if not access.sees_field(viewer, person, "follows"):
        raise access.NotFound
    return people(viewer).filter(following__followed=person)


def following(viewer: access.Viewer, person: User) -> QuerySet[User]:
    if not access.sees_field(viewer, person, "follows"):
        raise access.NotFound
    return people(viewer).filter(followers__follower=person)


def people_like(viewer: access.Viewer, person: User, *, limit: int = 8) -> list[User]:
    """People who share the most skills and areas of expertise, then the same unit."""
    if not access.sees_field(viewer, person, "topics"):
        return []
    mine = ProfileTopic.objects.filter(user=person, kind__in=EXPERT_KINDS).values("topic")
    shared = dict(
        ProfileTopic.objects.filter(topic__in=mine, kind__in=EXPERT_KINDS)
        .filter(Exists(people(viewer).filter(pk=OuterRef("user_id"))))
        .exclude(user=person)
        .values("user")
        .annotate(n=Count("topic", distinct=True))
        .order_by("-n")
        .values_list("user", "n")[:200]
    )
    unit = Profile.objects.filter(user=person).values_list("org_unit", flat=True).first()
    colleagues = set(
        people(viewer)
        .filter(profile__org_unit=unit)
        .exclude(pk=person.pk)
        .values_list("id", flat=True)[:200]
        if unit
        else []
    )
    score = {pk: 2 * shared.get(pk, 0) + (pk in colleagues) for pk in set(shared) | colleagues}
    best = sorted(score, key=lambda pk: -score[pk])[: limit * 3]
    found = {u.pk: u for u in with_profile(User.objects.filter(pk__in=best))}
    return sorted(found.values(), key=lambda u: (-score[u.pk], normalize(u.display_name)))[:limit]


# --- Organisation ---------------------------------------------------------------------


@dataclass
class OrgChart:
    person: User
    chain: list[User]  # from the top down to the direct manager
    peers: list[User]
    reports: list[User]
    report_counts: dict[int, int]  # person id → number of direct reports


MAX_PEERS = 100


def org_chart(viewer: access.Viewer, person_id: object, *, skills: bool = False) -> OrgChart:
    person = access.access_user(viewer, person_id)
    if not access.sees_field(viewer, person, "manager"):
        raise access.NotFound
    person = with_profile(User.objects.filter(pk=person.pk), skills=skills).get()
    profile = getattr(person, "profile", None)
    chain_ids = profile.manager_ids() if profile else []
    manager_id = chain_ids[-1] if chain_ids else None
    chain_by_id = {
        u.pk: u for u in with_profile(people(viewer).filter(pk__in=chain_ids), skills=skills)
    }
    peers = list(
        with_profile(
            people(viewer).filter(profile__manager_id=manager_id).exclude(pk=person.pk),
            skills=skills,
        ).order_by("profile__sort_name", "id")[:MAX_PEERS]
        if manager_id
        else []
    )
    reports = list(
        with_profile(people(viewer).filter(profile__manager=person), skills=skills).order_by(
            "profile__sort_name", "id"
        )
    )
    shown = [person.pk, *(u.pk for u in peers), *(u.pk for u in reports)]
    counts = dict(
        people(viewer)
        .filter(profile__manager_id__in=shown)
        .values_list("profile__manager_id")
        .annotate(n=Count("id"))
        .values_list("profile__manager_id", "n")
    )
    return OrgChart(
        person=person,
        chain=[chain_by_id[pk] for pk in chain_ids if pk in chain_by_id],
        peers=peers,
        reports=reports,
        report_counts=counts,
    )


@dataclass
class UnitView:
    unit: OrgUnit
    ancestors: list[OrgUnit]
    children: list[tuple[OrgUnit, int]]  # each child with the number of people below it
    members: list[User]
    total: int  # people in the unit and below


def org_units(viewer: access.Viewer) -> QuerySet[OrgUnit]:
    """The organisation is for employees (and administrators)."""
    if not access.readable_visibilities(viewer) >= {access.PROFILE_FIELDS["org_unit"]}:
        return OrgUnit.objects.none()
    return OrgUnit.objects.all()


def org_unit_tree(viewer: access.Viewer) -> list[tuple[OrgUnit, int, int]]:
    """Every unit in tree order, with its depth and the number of people directly in it."""
    counts = dict(
        people(viewer)
        .filter(profile__org_unit__isnull=False)
        .values_list("profile__org_unit")
        .annotate(n=Count("id"))
        .values_list("profile__org_unit", "n")
    )
    units = list(org_units(viewer))
    by_id = {u.pk: u for u in units}

    def names(unit: OrgUnit) -> list[str]:
        """Tree order with siblings by name: the chain of names from the root."""
        return [normalize(by_id[pk].name) for pk in [*unit.ancestor_ids(), unit.pk] if pk in by_id]

    units.sort(key=names)
    return [(u, len(u.ancestor_ids()), counts.get(u.pk, 0)) for u in units]


def unit_view(viewer: access.Viewer, unit_id: object, *, limit: int = 200) -> UnitView:
    try:
        unit = org_units(viewer).get(pk=str(unit_id))
    except (OrgUnit.DoesNotExist, ValueError, TypeError):
        raise access.NotFound from None
    ancestors = {u.pk: u for u in OrgUnit.objects.filter(pk__in=unit.ancestor_ids())}
    children = list(OrgUnit.objects.filter(parent=unit).order_by("name"))
    visible_people = people(viewer)
    below: dict[int, int] = defaultdict(int)
    rows = (
        visible_people.filter(profile__org_unit__path__startswith=unit.path)
        .values_list("profile__org_unit__path")
        .annotate(n=Count("id"))
        .values_list("profile__org_unit__path", "n")
    )
    for path, n in rows:
        for child in children:
            if path.startswith(child.path):
                below[child.pk] += n
    members = list(
        with_profile(visible_people.filter(profile__org_unit=unit)).order_by(
            "profile__sort_name", "id"
        )[:limit]
    )
    return UnitView(
        unit=unit,
        ancestors=[ancestors[pk] for pk in unit.ancestor_ids() if pk in ancestors],
        children=[(child, below[child.pk]) for child in children],
        members=members,
        total=sum(n for _, n in rows),
    )


def sites(viewer: access.Viewer) -> QuerySet[Site]:
    if not access.readable_visibilities(viewer) >= {access.PROFILE_FIELDS["site"]}:
        return Site.objects.none()
    return Site.objects.order_by("name")


def places(
    viewer: access.Viewer, org_unit_id: int | None, site_id: int | None
) -> tuple[OrgUnit | None, Site | None]:
    """The unit and the site these ids name (None where no id is given); an id of one the
    viewer cannot see, or of none, is a NotFound rather than quietly nothing."""
    unit = site = None
    if org_unit_id is not None:
        unit = org_units(viewer).filter(pk=org_unit_id).first()
        if unit is None:
            raise access.NotFound
    if site_id is not None:
        site = sites(viewer).filter(pk=site_id).first()
        if site is None:
            raise access.NotFound
    return unit, site


# --- Expertise ------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    kind: str  # "skill", "expertise", "endorsements"; later "answers", "articles"…
    label: str
    points: float


@dataclass
class Expert:
    person: User
    score: float
    evidence: list[Evidence]


# A source gives, for the topics asked about, each person's evidence, as the viewer may
# read it (an accepted answer in a community the viewer does not read is no evidence to
# them). Whether the viewer may see the person is experts_on's test, made on the few
# people ranked first. Other apps add theirs to EXPERTISE_SOURCES when they start
# (knowledge: accepted and well-voted answers, articles).
ExpertiseSource = Callable[[access.Viewer, list[Topic]], dict[int, list[Evidence]]]


def _declared(viewer: access.Viewer, topics: list[Topic]) -> dict[int, list[Evidence]]:
    found: dict[int, list[Evidence]] = defaultdict(list)
    names = {t.pk: t.name for t in topics}
    # One Evidence per topic and level, shared by everyone who declared it: a popular
    # topic is declared by thousands.
    shared: dict[tuple[int, int | None], Evidence] = {}
    for topic_id, name in names.items():
        shared[topic_id, None] = Evidence("expertise", name, 4.0)
        for skill in SkillLevel:
            shared[topic_id, skill.value] = Evidence(
                "skill", f"{name} ({skill.label})", float(skill.value)
            )
    rows = ProfileTopic.objects.filter(topic__in=names, kind__in=EXPERT_KINDS).values_list(
        "user_id", "topic_id", "kind", "level"
    )
    for user_id, topic_id, kind, level in rows:
        found[user_id].append(shared[topic_id, level if kind == TopicKind.SKILL else None])
    return found


def _endorsed(viewer: access.Viewer, topics: list[Topic]) -> dict[int, list[Evidence]]:
    rows = (
        Endorsement.objects.filter(topic__in=topics)
        .values_list("person_id")
        .annotate(n=Count("id"))
        .values_list("person_id", "n")
    )
    # Each endorsement counts half a level, five at most: colleagues confirm, they do
    # not outrank what a person knows.
    return {person_id: [Evidence("endorsements", str(n), min(n, 5) * 0.5)] for person_id, n in rows}


EXPERTISE_SOURCES: list[ExpertiseSource] = [_declared, _endorsed]


def matching_topics(viewer: access.Viewer, text: str) -> list[Topic]:
    """Topics whose words cover every word of ``text`` (by prefix, or one typo away)."""
    terms = _terms(viewer, text)
    if not terms:
        return []
    found = []
    for topic in Topic.objects.all().only("id", "name", "key"):
        topic_words = words(topic.key)
        if all(any(w.startswith(t.word) or w in t.corrections for w in topic_words) for t in terms):
            found.append(topic)
    return found


def experts(
    viewer: access.Viewer, text: str, *, limit: int = 20
) -> tuple[list[Topic], list[Expert]]:
    """Who knows ``text``: people ranked by the evidence every source gives."""
    if not access.readable_visibilities(viewer) >= {access.PROFILE_FIELDS["topics"]}:
        return [], []
    topics = matching_topics(viewer, text)
    return topics, experts_on(viewer, topics, limit=limit)


def experts_on(
    viewer: access.Viewer,
    topics: list[Topic],
    *,
    limit: int = 20,
    exclude: Collection[int] = (),
) -> list[Expert]:
    """The people who know ``topics``, ranked by the evidence every source gives, among
    those the viewer sees (less ``exclude``)."""
    if not topics or not access.readable_visibilities(viewer) >= {access.PROFILE_FIELDS["topics"]}:
        return []
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    score: dict[int, float] = defaultdict(float)
    for source in EXPERTISE_SOURCES:
        for user_id, items in source(viewer, topics).items():
            evidence[user_id].extend(items)
            score[user_id] += sum(e.points for e in items)
    ranked = sorted(set(score) - set(exclude), key=lambda pk: -score[pk])
    # The people the viewer sees, in rank order: twice ``limit`` of them, so that equal
    # scores at the edge are ordered by name; usually one batch.
    found: list[User] = []
    visible = with_profile(people(viewer))
    for start in range(0, len(ranked), limit * 2):
        found += visible.filter(pk__in=ranked[start : start + limit * 2])
        if len(found) >= limit * 2:
            break
    found.sort(key=lambda u: (-score[u.pk], normalize(u.display_name)))
    return [Expert(u, score[u.pk], evidence[u.pk]) for u in found[:limit]]


def photo_name(viewer: access.Viewer, person: User) -> str:
    """The stored photo of a person the viewer may see, or ""."""
    if not access.sees_field(viewer, person, "photo"):
        return ""
    return Profile.objects.filter(user=person).values_list("photo", flat=True).first() or ""


def profile_fields(viewer: access.Viewer) -> QuerySet[ProfileField]:
    """The custom fields whose values the viewer may read on others' profiles."""
    return ProfileField.objects.filter(visibility__in=access.readable_visibilities(viewer))
