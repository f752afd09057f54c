"""Posts, comments, reactions and followers in bulk for the feed benchmark (bench_feed.py):
a million posts in a few minutes, streamed to PostgreSQL with COPY.

What it writes, on top of an organisation built by essaim.demo.build_organisation and the
communities of bench_communities.populate:

- follows: the viewer follows --following people, everyone else about FOLLOWS_EACH;
- posts over the last DAYS days, in time order (ids grow with time): company
  announcements by the communications persona, posts on their authors' profiles, and
  community posts by a writer of the community (communities drawn with a skewed,
  Zipf-like weight, bigger ones more often); a few polls (3 options) and file rows;
- comments (a fifth of them replies to an earlier comment of the same post) and
  reactions (one per person and post, from the community's members, or from any
  employee where every employee reads), their numbers heavy-tailed across posts; each
  post's comment_count, reaction_count and activity_at are those of the rows written;
- hashtags of the texts, which come from a pool of POOL texts rendered once with
  essaim.content.markdown (the same renderer as the services).

Foreign keys are not checked during the load (session_replication_role = replica, as
pg_restore does); the generator only writes ids it read from the database. PostgreSQL
only. The same seed gives the same data.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DAYS = 90
POOL = 1500  # distinct texts
FOLLOWS_EACH = 5
COMMENT_SHARE = 1 / 3  # of the interactions; the rest are reactions
REPLY_SHARE = 0.2
POLL_SHARE = 0.005
FILE_SHARE = 0.01
ANNOUNCEMENT_SHARE = 0.0005
PROFILE_SHARE = 0.15
REACTIONS = ("like",) * 10 + ("celebrate",) * 3 + ("insightful",) * 3 + ("support", "thanks")

TEMPLATES = (
    "**Point d'avancement {project}** : {pct} % des lots livrés, recette avec l'équipe "
    "{team} la semaine prochaine.\n\n- planning : tenu\n- risque : disponibilité des "
    "utilisateurs clés #{tag}",
    "Retour d'expérience sur {tool} : après {n} mois, l'équipe gagne environ {n} heures par "
    "semaine. Démo possible jeudi, qui est intéressé ? #{tag}",
    "Atelier découverte {tool} le {day} de 12h30 à 13h30, salle {room} et en visio. "
    "Inscriptions en commentaire 👇 #{tag} #atelier",
    "Question aux experts : comment gérez-vous {tool} dans vos équipes ? On hésite entre "
    "deux approches.",
    "Bravo à toute l'équipe {team} pour la livraison de {project} ! 🎉 {n} jours d'avance "
    "sur le planning. #{tag}",
    "Les indicateurs du mois sont en ligne : {pct} % d'objectifs atteints. Détails dans le "
    "compte rendu joint. #{tag}",
    "Rappel : exercice d'évacuation sur le site {room} le {day} en fin de matinée. Merci de "
    "suivre les guides-files. #sécurité",
    "**{project} status update**: {pct}% of the work packages delivered; acceptance tests "
    "with the {team} team next week. #{tag}",
    "Lessons learned from {tool}: after {n} months we save about {n} hours a week. Happy to "
    "run a demo. #{tag}",
    "Welcome to the {n} new members of the {team} community! Introduce yourselves below 👋",
    "Nouvelle version du portail client : export CSV, alertes SMS, tableau de bord plus "
    "rapide. Vos retours sont les bienvenus ! #{tag}",
    "Compte rendu du comité : décisions sur {project}, budget validé, prochain point le "
    "{day}. #{tag}",
)
WORDS = {
    "project": ("Atlas", "Orion", "Refonte CRM", "Plateforme IoT", "Usine 4.0", "Budget 2027"),
    "team": ("Ventes", "Qualité", "Production", "R&D", "Finance", "Service client", "SI"),
    "tool": ("Kanban", "Power Query", "pandas", "le 5S", "Salesforce", "SAP", "Kubernetes"),
    "tag": ("lean", "qualité", "projet", "client", "innovation", "rse", "data", "python"),
    "room": ("Mont-Blanc", "Garonne", "Loire", "Vercors", "Rhône", "Seine"),
    "day": ("lundi", "mardi", "mercredi", "jeudi", "vendredi"),
}
COMMENTS = (
    "Merci pour le partage !",
    "Très intéressant, merci.",
    "Je m'inscris 🙋",
    "Bravo à toute l'équipe 👏",
    "Est-ce que les slides seront partagées ?",
    "Thanks for sharing!",
    "Count me in!",
    "On a eu le même souci, je t'envoie notre retour d'expérience.",
)


@dataclass
class Text:
    body: str
    html: str
    hashtags: list[str]


def texts(rng: random.Random) -> list[Text]:
    """POOL texts, rendered once as the services render them."""
    from essaim.content.markdown import render_with_refs

    found = []
    for _ in range(POOL):
        values = {key: rng.choice(words) for key, words in WORDS.items()}
        values |= {"pct": str(rng.randint(40, 98)), "n": str(rng.randint(2, 12))}
        body = rng.choice(TEMPLATES).format(**values)
        html, refs = render_with_refs(body)
        found.append(Text(body, html, refs.hashtags))
    return found


def columns(model: Any, *names: str) -> str:
    fields = {f.attname: f.column for f in model._meta.concrete_fields}
    return f"{model._meta.db_table} ({', '.join(fields[name] for name in names)})"


@dataclass
class Place:
    """A community that takes posts: its writers, who reacts there, how busy it is."""

    pk: int
    writers: list[int]
    members: list[int]
    open_to_all: bool  # every employee reads it (public, external)
    weight: float


def places(rng: random.Random) -> list[Place]:
    from essaim.communities.models import WRITERS, Community, Membership, Visibility

    members: dict[int, list[tuple[int, str]]] = {}
    for community, user, role in Membership.objects.values_list("community", "user", "role"):
        members.setdefault(community, []).append((user, role))
    found = []
    communities = Community.objects.filter(archived_at__isnull=True).order_by("pk")
    for pk, visibility in communities.values_list("pk", "visibility"):
        everyone = members.get(pk, [])
        writers = [u for u, role in everyone if role in WRITERS]
        if writers:
            open_to_all = visibility in (Visibility.PUBLIC, Visibility.EXTERNAL)
            found.append(Place(pk, writers, [u for u, _ in everyone], open_to_all, 0.0))
    # Zipf-like: a few busy communities, a long quiet tail; bigger ones a little busier.
    order = list(range(len(found)))
    rng.shuffle(order)
    for rank, index in enumerate(order):
        size = len(found[index].members)
        found[index].weight = (rank + 5) ** -0.8 * math.sqrt(min(size, 400))
    return found


def add_follows(rng: random.Random, viewer: int, staff: list[int], following: int) -> int:
    """The viewer follows ``following`` people; everyone else about FOLLOWS_EACH."""
    from django.db import connection
    from django.utils import timezone

    from essaim.directory.models import Follow

    now = timezone.now()
    pairs = {(viewer, pk) for pk in rng.sample([p for p in staff if p != viewer], following)}
    for person in staff:
        if person == viewer:
            continue
        for _ in range(rng.randint(0, 2 * FOLLOWS_EACH)):
            other = staff[rng.randrange(len(staff))]
            if other != person:
                pairs.add((person, other))
    raw = connection.connection  # Django's psycopg connection, in its transaction
    with raw.cursor() as cursor:
        spec = columns(Follow, "follower_id", "followed_id", "created_at")
        with cursor.copy(f"COPY {spec} FROM STDIN") as copy:
            for follower, followed in sorted(pairs):
                copy.write_row((follower, followed, now))
    return len(pairs)


def _poisson_ish(rng: random.Random, mean: float) -> int:
    """A count around ``mean``: its integer part, plus one with the fractional part's odds."""
    whole = int(mean)
    return whole + (rng.random() < mean - whole)


def generate(
    rng: random.Random,
    *,
    posts: int,
    interactions: int,
    staff: list[int],
    announcer: int,
    progress: Any = print,
) -> dict[str, int]:
    """Write ``posts`` posts and about ``interactions`` comments and reactions."""
    from django.db import connection
    from django.utils import timezone

    from essaim.content.models import (
        Attachment,
        Comment,
        Hashtag,
        Poll,
        PollOption,
        Post,
        Reaction,
    )

    started = time.perf_counter()
    now = timezone.now().timestamp()
    pool = texts(rng)
    where = places(rng)
    cumulative = list(itertools.accumulate(p.weight for p in where))  # choices() is O(n)
    comments_total = interactions * COMMENT_SHARE
    reactions_total = interactions - comments_total

    # Pass 1: where, by whom, when each post is, and how many comments and reactions it
    # gets (heavy-tailed: lognormal weights), in compact arrays.
    place_of = array("l")  # index in ``where``; -1 profile, -2 company announcement
    author_of = array("q")
    text_of = array("l")
    created = sorted(now - DAYS * 86400 * rng.random() for _ in range(posts))
    created_of = array("d", created)
    for _ in range(posts):
        roll = rng.random()
        if roll < ANNOUNCEMENT_SHARE:
            place_of.append(-2)
            author_of.append(announcer)
        elif roll < ANNOUNCEMENT_SHARE + PROFILE_SHARE or not where:
            place_of.append(-1)
            author_of.append(staff[rng.randrange(len(staff))])
        else:
            index = rng.choices(range(len(where)), cum_weights=cumulative)[0]
            place_of.append(index)
            writers = where[index].writers
            author_of.append(writers[rng.randrange(len(writers))])
        text_of.append(rng.randrange(len(pool)))
    liveliness = [rng.lognormvariate(0, 1.0) for _ in range(posts)]
    total = sum(liveliness) or 1.0
    n_comments = array("l")
    n_reactions = array("l")
    for i, lively in enumerate(liveliness):
        index = place_of[i]
        cap = len(staff) - 1
        if index >= 0 and not where[index].open_to_all:
            cap = len(where[index].members) - 1  # only members read it
        n_comments.append(_poisson_ish(rng, comments_total * lively / total))
        n_reactions.append(min(cap, _poisson_ish(rng, reactions_total * lively / total)))
    del liveliness
    # Comments and reactions come within a few hours or days; activity_at is the last.
    delay_of = array("d", (min(now - t, rng.expovariate(1 / 21600)) for t in created_of))
    progress(f"  planned {posts:,} posts in {time.perf_counter() - started:.0f} s")

    def stamp(seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    raw = connection.connection
    counts = {"posts": posts, "comments": 0, "replies": 0, "reactions": 0, "hashtags": 0}
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no FK triggers
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {Post._meta.db_table}")
        first_post = cursor.fetchone()[0] + 1
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {Comment._meta.db_table}")
        next_comment = cursor.fetchone()[0] + 1

        post_spec = columns(
            Post,
            *("id", "author_id", "community_id", "kind", "body", "html", "must_read"),
            *("comment_count", "reaction_count", "created_at", "activity_at"),
        )
        polls: list[int] = []
        with cursor.copy(f"COPY {post_spec} FROM STDIN") as copy:
            for i in range(posts):
                index = place_of[i]
                text = pool[text_of[i]]
                kind = "announcement" if index == -2 else "post"
                if index >= 0 and rng.random() < POLL_SHARE:
                    kind = "poll"
                    polls.append(first_post + i)
                copy.write_row(
                    (
                        first_post + i,
                        author_of[i],
                        where[index].pk if index >= 0 else None,
                        kind,
                        text.body,
                        text.html,
                        index == -2 and rng.random() < 0.3,
                        n_comments[i],
                        n_reactions[i],
                        stamp(created_of[i]),
                        stamp(created_of[i] + delay_of[i]),
                    )
                )
        progress(f"  posts written in {time.perf_counter() - started:.0f} s")

        def readers(i: int) -> tuple[list[int], list[int]]:
            """(members first, then anyone who reads) for post ``i``."""
            index = place_of[i]
            if index < 0:
                return staff, staff
            place = where[index]
            return place.members, staff if place.open_to_all else place.members

        hashtag_spec = columns(Hashtag, "post_id", "name", "created_at")
        with cursor.copy(f"COPY {hashtag_spec} FROM STDIN") as copy:
            for i in range(posts):
                for name in pool[text_of[i]].hashtags:
                    copy.write_row((first_post + i, name, stamp(created_of[i])))
                    counts["hashtags"] += 1

        comment_spec = columns(
            Comment,
            *("id", "post_id", "parent_id", "author_id", "body", "html", "reaction_count"),
            "created_at",
        )
        comment_html = {body: f"<p>{body}</p>" for body in COMMENTS}
        with cursor.copy(f"COPY {comment_spec} FROM STDIN") as copy:
            for i in range(posts):
                count = n_comments[i]
                if not count:
                    continue
                first, then = readers(i)
                tops: list[int] = []
                for j in range(count):
                    pool_ = first if rng.random() < 0.75 else then
                    author = pool_[rng.randrange(len(pool_))]
                    parent = (
                        tops[rng.randrange(len(tops))]
                        if tops and rng.random() < REPLY_SHARE
                        else None
                    )
                    body = COMMENTS[rng.randrange(len(COMMENTS))]
                    at = created_of[i] + delay_of[i] * (rng.random() if j < count - 1 else 1.0)
                    copy.write_row(
                        (
                            next_comment,
                            first_post + i,
                            parent,
                            author,
                            body,
                            comment_html[body],
                            0,
                            stamp(at),
                        )
                    )
                    if parent is None:
                        tops.append(next_comment)
                    else:
                        counts["replies"] += 1
                    next_comment += 1
                counts["comments"] += count
        progress(
            f"  {counts['comments']:,} comments written in {time.perf_counter() - started:.0f} s"
        )

        reaction_spec = columns(Reaction, "user_id", "post_id", "kind", "created_at")
        with cursor.copy(f"COPY {reaction_spec} FROM STDIN") as copy:
            for i in range(posts):
                count = n_reactions[i]
                if not count:
                    continue
                first, then = readers(i)
                author = author_of[i]
                if first is then and len(first) < 4 * count:  # a small closed community
                    chosen = set(rng.sample([u for u in first if u != author], count))
                else:
                    chosen = set()
                    while len(chosen) < count:
                        pool_ = first if rng.random() < 0.75 else then
                        user = pool_[rng.randrange(len(pool_))]
                        if user != author:
                            chosen.add(user)
                for user in chosen:
                    at = created_of[i] + delay_of[i] * rng.random()
                    copy.write_row((user, first_post + i, rng.choice(REACTIONS), stamp(at)))
                counts["reactions"] += count
        progress(
            f"  {counts['reactions']:,} reactions written in {time.perf_counter() - started:.0f} s"
        )

        for model in (Post, Comment):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("SET LOCAL session_replication_role = origin")

    # Polls (three options, no votes yet) and file rows: a few thousand, through the ORM.
    made = Poll.objects.bulk_create([Poll(post_id=pk) for pk in polls], batch_size=2000)
    PollOption.objects.bulk_create(
        [
            PollOption(poll=poll, label=label, position=n)
            for poll in made
            for n, label in enumerate(("Mardi midi", "Jeudi 9h", "Vendredi 14h"))
        ],
        batch_size=2000,
    )
    with_files = rng.sample(range(posts), int(posts * FILE_SHARE))
    Attachment.objects.bulk_create(
        [
            Attachment(
                uploader_id=author_of[i],
                post_id=first_post + i,
                key=f"files/2026/01/{first_post + i:032x}.pdf",
                name="Compte rendu.pdf",
                mime="application/pdf",
                kind="document",
                size=48_213,
                sha256="0" * 64,
                created_at=stamp(created_of[i]),
            )
            for i in with_files
        ],
        batch_size=2000,
    )
    counts |= {"polls": len(made), "files": len(with_files)}
    return counts
