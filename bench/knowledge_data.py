"""Questions, answers, votes and comments in bulk for the questions benchmark
(bench_knowledge.py): 200,000 questions and a million answers in a few minutes, streamed
to PostgreSQL with COPY.

What it writes, on top of an organisation built by essaim.demo.build_organisation and the
communities of bench_communities.populate:

- questions over the last YEARS years, in time order (ids grow with time): IN_COMMUNITIES
  of them in a community drawn with a skewed, Zipf-like weight (bench/feed_data.py's
  places) and asked by one of its writers, the others company-wide, asked by any
  employee; one to three tags each from a vocabulary of VOCABULARY tags (the directory
  topics' names as tags, and made-up ones), popular tags far more used than the rest;
  a title that names the first tag ("How do I set up Kubernetes for …?"), so that
  suggestions and similar questions find words and topics in it;
- answers, at least one per question (no question stays "open") and heavy-tailed: most
  questions get a few, some fifty and more. They come after the question (hours to days,
  now and then months), and get their ids in time order as in a live database, so a
  question's answers lie on scattered pages. Their authors may answer there: a writer of
  the community, or any employee company-wide and, now and then, in a community every
  employee reads; where the question's first tag is a directory topic, often someone who
  declared it (skill, expertise, "ask me about"), as the people who know answer;
- votes (one per person and answer, not its author, from the question's readers, about
  one in eight down) and comments under answers (from those who may answer); each
  answer's score is the sum of its votes;
- ACCEPTED of the questions have an accepted answer (most often their best-voted one):
  state "accepted" and accepted_answer_id; the others are "answered". answer_count and
  activity_at (the last answer, or the acceptance) follow from the rows written.

Texts come from pools rendered once with essaim.content.markdown, as the services render
them. Foreign keys are not checked during the load (session_replication_role = replica,
as pg_restore does); the generator only writes ids it read from the database or gave
itself. PostgreSQL only. The same seed gives the same data.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from array import array
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feed_data import Place, columns, places

YEARS = 2
VOCABULARY = 2000  # distinct tags
IN_COMMUNITIES = 0.6  # the others are company-wide
TAG_COUNTS = (1, 1, 1, 2, 2, 2, 2, 3, 3, 3)  # tags per question, drawn from these
TOPIC_FIRST = 0.5  # questions whose first tag names a directory topic
EXPERT_ANSWERS = 0.4  # answers by someone who declared the topic, where they may answer
OPEN_ANSWERS = 0.3  # in a community every employee reads: answers from anyone
ANSWER_SPREAD = 1.2  # sigma of the lognormal weights of answers across questions
DOWN_SHARE = 0.12  # of the votes
ACCEPTED = 0.4  # questions with an accepted answer
BEST_ACCEPTED = 0.7  # of those, the best-voted answer is the accepted one
BODY_SHARE = 0.6  # questions with a text under the title
POOL = 1500  # distinct answer texts
QUESTION_POOL = 300  # distinct question texts
DAY = 86400.0

# Made-up tags: a stem alone or with a qualifier ("sap-migration", "vpn-lyon").
STEMS = (
    "excel", "sap", "vpn", "teams", "outlook", "sharepoint", "badge", "parking", "cantine",
    "note-de-frais", "conges", "teletravail", "mutuelle", "formation", "recrutement",
    "onboarding", "imprimante", "wifi", "jira", "confluence", "git", "python", "sql", "java",
    "docker", "kubernetes", "azure", "aws", "power-bi", "tableau", "crm", "erp", "gmao",
    "iso-9001", "audit", "rgpd", "contrat", "facture", "achats", "fournisseur", "logistique",
    "stock", "transport", "douane", "export", "devis", "budget", "reporting", "kpi", "lean",
    "5s", "kaizen", "maintenance", "securite", "epi", "incendie", "qualite", "client",
    "support", "ticket", "sla", "api", "mobile", "web", "design", "marketing", "seo", "salon",
    "presse", "brevet", "innovation", "capteur", "iot", "firmware", "pcb", "cem", "essai",
    "metrologie", "paie", "dsn", "interessement", "cse",
)  # fmt: skip
QUALIFIERS = (
    "migration", "formation", "audit", "budget", "lille", "lyon", "paris", "nantes", "support",
    "licence", "process", "api", "reporting", "projet", "client", "2025", "2026", "v2", "v3",
    "acces", "droits", "erreur", "performance", "export", "import", "modele", "procedure",
    "planning", "outil", "tableau-de-bord", "automatisation", "sauvegarde", "version",
    "installation", "bonnes-pratiques", "documentation", "validation", "test", "pilote",
)  # fmt: skip

TITLES = {
    "fr": (
        "Comment configurer {subject} pour {other} ?",
        "Quelqu'un a-t-il déjà utilisé {subject} avec {other} ?",
        "Quelle est la bonne pratique pour {subject} dans {context} ?",
        "{subject} : qui peut m'aider sur {other} ?",
        "Où trouver la documentation à jour sur {subject} ?",
        "Pourquoi {subject} bloque depuis la dernière mise à jour de {other} ?",
        "Faut-il une validation du manager pour {subject} ?",
        "Comment estimer la charge de {subject} pour {context} ?",
        "Retour d'expérience sur {subject} et {other} ?",
        "Qui gère {subject} pour {context} ?",
    ),
    "en": (
        "How do I set up {subject} for {other}?",
        "Has anyone used {subject} together with {other}?",
        "What is the best practice for {subject} in {context}?",
        "Who can help with {subject} on {other}?",
        "Where is the current documentation on {subject}?",
        "Why does {subject} fail since the last {other} update?",
        "Do I need my manager's approval for {subject}?",
        "How long does {subject} take for {context}?",
        "Lessons learned with {subject} and {other}?",
        "Who owns {subject} for {context}?",
    ),
}
CONTEXTS_FR = (
    "un projet client", "l'équipe", "la clôture mensuelle", "un nouvel arrivant",
    "le site de Lyon", "la production", "un appel d'offres", "la recette", "un audit",
)  # fmt: skip
CONTEXTS_EN = (
    "a customer project", "the team", "the monthly close", "a new starter", "the Lyon site",
    "production", "a tender", "acceptance testing", "an audit",
)  # fmt: skip
CONTEXTS = {"fr": CONTEXTS_FR, "en": CONTEXTS_EN}
QUESTION_TEXTS = (
    "Nous avons essayé la procédure du wiki sans succès. Le message d'erreur est :\n\n"
    "```\nAccès refusé ({n})\n```\n\nDes idées ?",
    "Contexte : {n} personnes concernées, échéance dans {n} semaines. Je cherche "
    "quelqu'un qui l'a déjà fait chez nous.",
    "We tried the steps on the intranet page, but step {n} does not match what we see. "
    "Is there a newer version?",
    "Pour être précis :\n\n- version actuelle : {n}.2\n- environnement : production\n"
    "- urgence : moyenne",
    "Any pointers welcome, even partial ones. We need an answer before the **steering "
    "committee** on Thursday.",
)
ANSWER_TEXTS = (
    "Nous l'avons fait l'an dernier sur {subject}. Le plus simple est de passer par le "
    "portail, rubrique *Demandes*, puis de joindre le formulaire signé. Compte {n} jours.",
    "Pour {subject}, il faut d'abord vérifier les droits :\n\n1. ouvrir le portail\n"
    "2. menu **Paramètres**\n3. demander l'accès au groupe\n\nEnsuite tout marche.",
    "La doc officielle est à jour depuis la version {n} : "
    "https://intranet.example/docs/{slug}. Le point clé est la section sur les exceptions.",
    "We had the same issue with {subject}. It came from an old cache: clearing it and "
    "signing in again fixed it for the {n} people of the team.",
    "Short answer: yes. Longer answer: it depends on the contract. For {subject} we kept "
    "the default settings and only changed the timeout to {n} minutes.",
    "Je te conseille de contacter l'équipe support niveau 2, ils ont une procédure pour "
    "{subject}. En attendant, le contournement est :\n\n```\nrelancer --force\n```",
    "I wrote a short guide on {subject} last month, happy to walk you through it. The "
    "main trap is the approval step, which takes {n} days if nobody chases it.",
    "D'après notre retour d'expérience sur {subject} : commencer petit, un pilote de {n} "
    "semaines, puis généraliser. Les gains sont réels mais pas immédiats.",
)
COMMENT_TEXTS = (
    "Merci, ça a marché !",
    "Est-ce toujours valable avec la nouvelle version ?",
    "Je confirme, même solution chez nous.",
    "Thanks, that fixed it.",
    "Could you share the link to the guide?",
    "Attention, la procédure a changé en janvier.",
    "+1, très clair.",
    "Does this also apply to the Lille site?",
)


@dataclass(frozen=True)
class Tag:
    name: str  # as stored ("droit-social")
    key: str  # knowledge.models.tag_key(name): a directory topic's key when it names one
    words: str  # as a title names it ("Droit social")
    topic: bool  # names a directory topic


@dataclass
class Vocabulary:
    tags: list[Tag]
    cumulative: list[float]  # Zipf-like popularity, for rng.choices
    topics: list[int]  # indexes of the tags that name a directory topic

    def draw(self, rng: random.Random) -> Tag:
        return self.tags[rng.choices(range(len(self.tags)), cum_weights=self.cumulative)[0]]

    def tags_for(self, rng: random.Random) -> list[Tag]:
        """One to three distinct tags, the first naming a topic TOPIC_FIRST of the time."""
        wanted = rng.choice(TAG_COUNTS)
        first = self.draw(rng)
        if self.topics and rng.random() < TOPIC_FIRST:
            first = self.tags[rng.choice(self.topics)]
        chosen = {first.name: first}
        while len(chosen) < wanted:
            tag = self.draw(rng)
            chosen.setdefault(tag.name, tag)
        return list(chosen.values())


def vocabulary(seed: int) -> Vocabulary:
    """VOCABULARY tags: every directory topic's name that makes a valid tag, then made-up
    ones; the same for the same seed and topics (--reuse draws new questions from it)."""
    from essaim.accounts.services import ServiceError
    from essaim.directory.models import Topic
    from essaim.knowledge.models import tag_key
    from essaim.knowledge.services import clean_tags

    def valid(name: str) -> bool:
        try:
            return clean_tags([name]) == [name]
        except ServiceError:
            return False

    rng = random.Random(seed)
    found: dict[str, Tag] = {}
    for name, key in Topic.objects.order_by("key").values_list("name", "key"):
        # As essaim.knowledge.demo turns a skill into a tag: "Appels d'offres" → "appels-d-offres".
        tag = "-".join(name.lower().replace("'", " ").split())
        if valid(tag):
            found.setdefault(tag, Tag(tag, tag_key(tag), name, tag_key(tag) == key))
    made = [s if q is None else f"{s}-{q}" for s in STEMS for q in (None, *QUALIFIERS)]
    rng.shuffle(made)
    for tag in made:
        if len(found) >= VOCABULARY:
            break
        if valid(tag):
            found.setdefault(tag, Tag(tag, tag_key(tag), tag.replace("-", " "), False))
    tags = sorted(found.values(), key=lambda t: t.name)
    rng.shuffle(tags)  # the popularity rank
    weights = [(rank + 1) ** -0.9 for rank in range(len(tags))]
    topics = [i for i, t in enumerate(tags) if t.topic]
    return Vocabulary(tags, list(itertools.accumulate(weights)), topics)


def title_for(rng: random.Random, tags: list[Tag], vocab: Vocabulary) -> str:
    language = "fr" if rng.random() < 0.7 else "en"
    text = rng.choice(TITLES[language]).format(
        subject=tags[0].words,
        other=(tags[1] if len(tags) > 1 else vocab.draw(rng)).words,
        context=rng.choice(CONTEXTS[language]),
    )
    return text[0].upper() + text[1:]


def new_questions(seed: int, vocab: Vocabulary, count: int) -> list[tuple[str, list[str]]]:
    """Titles and tags of questions being asked, drawn as the generated ones are."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        tags = vocab.tags_for(rng)
        found.append((title_for(rng, tags, vocab), [t.name for t in tags]))
    return found


def _pool(rng: random.Random, templates: tuple[str, ...], size: int, vocab: Vocabulary) -> list:
    """``size`` texts from ``templates``, rendered once: (body, html)."""
    from essaim.content.markdown import render_with_refs

    found = []
    for _ in range(size):
        subject = vocab.draw(rng)
        body = rng.choice(templates).format(
            subject=subject.words, n=rng.randint(2, 12), slug=subject.name
        )
        found.append((body, render_with_refs(body)[0]))
    return found


def _holders(staff: list[int]) -> dict[str, list[int]]:
    """Per directory topic key, the employees who offer to answer about it."""
    from essaim.directory.models import ProfileTopic
    from essaim.knowledge.selectors import MY_AREAS

    employees = set(staff)
    found: dict[str, set[int]] = defaultdict(set)
    rows = ProfileTopic.objects.filter(kind__in=MY_AREAS).values_list("topic__key", "user_id")
    for key, user in rows:
        if user in employees:
            found[key].add(user)
    return {key: sorted(users) for key, users in found.items()}


def _poisson_ish(rng: random.Random, mean: float) -> int:
    """A count around ``mean``: its integer part, plus one with the fractional part's odds."""
    whole = int(mean)
    return whole + (rng.random() < mean - whole)


def _spread(rng: random.Random, total: int, slots: int, sigma: float) -> array:
    """``total`` items over ``slots``, heavy-tailed (lognormal weights)."""
    weights = [rng.lognormvariate(0, sigma) for _ in range(slots)]
    scale = total / (sum(weights) or 1.0)
    return array("l", (_poisson_ish(rng, w * scale) for w in weights))


def generate(
    rng: random.Random,
    *,
    seed: int,
    questions: int,
    answers: int,
    votes: int,
    comments: int,
    staff: list[int],
    progress: Any = print,
) -> dict[str, int]:
    """Write ``questions`` questions and about ``answers`` answers, ``votes`` votes and
    ``comments`` comments; returns what was written."""
    from django.db import connection
    from django.utils import timezone

    from essaim.knowledge.models import (
        Answer,
        AnswerComment,
        AnswerVote,
        Question,
        QuestionState,
        QuestionTag,
    )

    started = time.perf_counter()
    now = timezone.now().timestamp() - 60  # everything in the past, by a margin
    vocab = vocabulary(seed)
    holders = _holders(staff)
    where = places(rng)
    cumulative = list(itertools.accumulate(p.weight for p in where))  # choices() is O(n)

    # Pass 1, questions: where, by whom, when, with which tags and title.
    created_of = array(
        "d", sorted(now - YEARS * 365 * DAY * rng.random() for _ in range(questions))
    )
    place_of = array("l")  # index in ``where``; -1 company-wide
    author_of = array("q")
    tags_of: list[list[Tag]] = []
    titles: list[str] = []
    for _ in range(questions):
        if where and rng.random() < IN_COMMUNITIES:
            index = rng.choices(range(len(where)), cum_weights=cumulative)[0]
            writers = where[index].writers
            place_of.append(index)
            author_of.append(writers[rng.randrange(len(writers))])
        else:
            place_of.append(-1)
            author_of.append(staff[rng.randrange(len(staff))])
        tags = vocab.tags_for(rng)
        tags_of.append(tags)
        titles.append(title_for(rng, tags, vocab))

    def after(start: float, mean: float) -> float:
        """A moment about ``mean`` seconds after ``start``, before now: one drawn past now
        is spread between the two instead (capping would give many rows the same time,
        and the lists ties that a live database does not have)."""
        moment = start + rng.expovariate(1 / mean)
        return moment if moment < now else start + rng.random() * (now - start)

    def readers(i: int) -> list[int]:
        """Who reads question ``i`` and may vote: its community's members where only they
        read it, else every employee."""
        index = place_of[i]
        if index < 0 or where[index].open_to_all:
            return staff
        return where[index].members

    def answerers(i: int) -> list[int]:
        """Who answers question ``i``: people who may answer there, often those who
        declared its first tag's topic."""
        index = place_of[i]
        place: Place | None = where[index] if index >= 0 else None
        anyone = place is None or place.open_to_all
        experts = holders.get(tags_of[i][0].key) if tags_of[i][0].topic else None
        if anyone and experts and rng.random() < EXPERT_ANSWERS:
            return experts
        if place is None or (anyone and rng.random() < OPEN_ANSWERS):
            return staff
        return place.writers

    # Pass 2, answers: at least one per question, the rest heavy-tailed; each answer's
    # author, time, votes (and how many down) and comments, in question order.
    per_question = _spread(rng, max(0, answers - questions), questions, ANSWER_SPREAD)
    a_question = array("l")
    a_author = array("q")
    a_at = array("d")
    for i in range(questions):
        count = 1 + per_question[i]
        per_question[i] = count
        for _ in range(count):
            pool = answerers(i)
            a_question.append(i)
            a_author.append(pool[rng.randrange(len(pool))])
            if rng.random() < 0.85:  # within days; now and then much later
                a_at.append(after(created_of[i], 2 * DAY))
            else:
                a_at.append(created_of[i] + rng.random() * (now - created_of[i]))
    total = len(a_question)
    a_votes = _spread(rng, votes, total, 1.0)
    a_down = array("l")
    a_score = array("l")
    for a in range(total):
        cap = len(readers(a_question[a])) - 1  # the answer's author does not vote
        a_votes[a] = min(a_votes[a], cap)
        down = sum(rng.random() < DOWN_SHARE for _ in range(a_votes[a]))
        a_down.append(down)
        a_score.append(a_votes[a] - 2 * down)
    a_comments = _spread(rng, comments, total, 1.0)
    # Ids in time order, as a live database gives them.
    order = sorted(range(total), key=a_at.__getitem__)
    first_ids = {}
    with connection.cursor() as cursor:
        for model in (Question, Answer):
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {model._meta.db_table}")
            first_ids[model] = cursor.fetchone()[0] + 1
    first_question, first_answer = first_ids[Question], first_ids[Answer]
    answer_id = array("q", bytes(8 * total))
    for rank, a in enumerate(order):
        answer_id[a] = first_answer + rank

    # Accepted answers: the best-voted one most of the time; accepted a little after it.
    accepted_of: dict[int, int] = {}  # question index → answer index
    activity_of = array("d", created_of)
    start = 0
    for i in range(questions):
        mine = range(start, start + per_question[i])
        start += per_question[i]
        last = max(a_at[a] for a in mine)
        if rng.random() < ACCEPTED:
            if rng.random() < BEST_ACCEPTED:
                chosen = max(mine, key=lambda a: (a_score[a], -a_at[a]))
            else:
                chosen = mine[rng.randrange(len(mine))]
            accepted_of[i] = chosen
            last = max(last, after(a_at[chosen], DAY))
        activity_of[i] = last
    progress(
        f"  planned {questions:,} questions, {total:,} answers in "
        f"{time.perf_counter() - started:.0f} s"
    )

    def stamp(seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    question_texts = _pool(rng, QUESTION_TEXTS, QUESTION_POOL, vocab)
    answer_texts = _pool(rng, ANSWER_TEXTS, POOL, vocab)
    comment_html = {body: f"<p>{body}</p>" for body in COMMENT_TEXTS}
    counts = {
        "questions": questions,
        "in_communities": sum(1 for p in place_of if p >= 0),
        "tags": 0,
        "answers": total,
        "accepted": len(accepted_of),
        "votes": 0,
        "comments": 0,
        "max_answers": max(per_question, default=0),
        "questions_50_answers": sum(1 for n in per_question if n >= 50),
        "vocabulary": len(vocab.tags),
        "topic_tags": len(vocab.topics),
    }
    raw = connection.connection  # Django's psycopg connection, in its transaction
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no FK triggers
        spec = columns(
            Question,
            *("id", "author_id", "community_id", "title", "body", "html", "tags", "state"),
            *("accepted_answer_id", "answer_count", "created_at", "activity_at"),
        )
        with cursor.copy(f"COPY {spec} FROM STDIN") as copy:
            for i in range(questions):
                index = place_of[i]
                body, html = ("", "")
                if rng.random() < BODY_SHARE:
                    body, html = question_texts[rng.randrange(len(question_texts))]
                chosen = accepted_of.get(i)
                copy.write_row(
                    (
                        first_question + i,
                        author_of[i],
                        where[index].pk if index >= 0 else None,
                        titles[i],
                        body,
                        html,
                        json.dumps([t.name for t in tags_of[i]], ensure_ascii=False),
                        QuestionState.ACCEPTED if chosen is not None else QuestionState.ANSWERED,
                        answer_id[chosen] if chosen is not None else None,
                        per_question[i],
                        stamp(created_of[i]),
                        stamp(activity_of[i]),
                    )
                )
        spec = columns(QuestionTag, "question_id", "name", "key", "created_at")
        with cursor.copy(f"COPY {spec} FROM STDIN") as copy:
            for i in range(questions):
                for tag in tags_of[i]:
                    copy.write_row((first_question + i, tag.name, tag.key, stamp(created_of[i])))
                    counts["tags"] += 1
        progress(f"  questions and tags written in {time.perf_counter() - started:.0f} s")

        spec = columns(
            Answer,
            *("id", "question_id", "author_id", "body", "html", "score", "accepted"),
            "created_at",
        )
        chosen_answers = set(accepted_of.values())
        with cursor.copy(f"COPY {spec} FROM STDIN") as copy:
            for a in order:
                body, html = answer_texts[rng.randrange(len(answer_texts))]
                copy.write_row(
                    (
                        answer_id[a],
                        first_question + a_question[a],
                        a_author[a],
                        body,
                        html,
                        a_score[a],
                        a in chosen_answers,
                        stamp(a_at[a]),
                    )
                )
        progress(f"  {total:,} answers written in {time.perf_counter() - started:.0f} s")

        spec = columns(AnswerVote, "answer_id", "user_id", "value", "created_at")
        with cursor.copy(f"COPY {spec} FROM STDIN") as copy:
            for a in order:
                count = a_votes[a]
                if not count:
                    continue
                pool = readers(a_question[a])
                author = a_author[a]
                if len(pool) < 4 * count:  # a small closed community: draw without retries
                    voters = rng.sample([u for u in pool if u != author], count)
                else:
                    chosen_set: set[int] = set()
                    while len(chosen_set) < count:
                        user = pool[rng.randrange(len(pool))]
                        if user != author:
                            chosen_set.add(user)
                    voters = list(chosen_set)
                for n, user in enumerate(voters):
                    at = after(a_at[a], 3 * DAY)
                    copy.write_row((answer_id[a], user, -1 if n < a_down[a] else 1, stamp(at)))
                counts["votes"] += count
        progress(f"  {counts['votes']:,} votes written in {time.perf_counter() - started:.0f} s")

        spec = columns(AnswerComment, "answer_id", "author_id", "body", "html", "created_at")
        with cursor.copy(f"COPY {spec} FROM STDIN") as copy:
            for a in order:
                for _ in range(a_comments[a]):
                    pool = answerers(a_question[a])
                    body = COMMENT_TEXTS[rng.randrange(len(COMMENT_TEXTS))]
                    at = after(a_at[a], DAY)
                    copy.write_row(
                        (answer_id[a], pool[rng.randrange(len(pool))], body, comment_html[body],
                         stamp(at))
                    )  # fmt: skip
                    counts["comments"] += 1
        progress(
            f"  {counts['comments']:,} comments written in {time.perf_counter() - started:.0f} s"
        )

        for model in (Question, QuestionTag, Answer, AnswerVote, AnswerComment):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        cursor.execute("SET LOCAL session_replication_role = origin")
    return counts


def check() -> list[str]:
    """What the database says against what was meant: counters, scores, states, accepted
    answers (a cheap guard against a generator bug that would make the figures moot)."""
    from django.db import connection

    queries = {
        "questions whose answer_count is not their number of answers": """
            SELECT count(*) FROM knowledge_question q
            LEFT JOIN (SELECT question_id, count(*) AS n FROM knowledge_answer
                       GROUP BY question_id) a ON a.question_id = q.id
            WHERE q.answer_count <> coalesce(a.n, 0)""",
        "answers whose score is not the sum of their votes": """
            SELECT count(*) FROM knowledge_answer a
            LEFT JOIN (SELECT answer_id, sum(value) AS s FROM knowledge_answervote
                       GROUP BY answer_id) v ON v.answer_id = a.id
            WHERE a.score <> coalesce(v.s, 0)""",
        "accepted answers to another question": """
            SELECT count(*) FROM knowledge_question q
            JOIN knowledge_answer a ON a.id = q.accepted_answer_id
            WHERE a.question_id <> q.id""",
        "answers whose accepted flag is not their question's choice": """
            SELECT count(*) FROM knowledge_answer a
            LEFT JOIN knowledge_question q ON q.accepted_answer_id = a.id
            WHERE a.accepted <> (q.id IS NOT NULL)""",
        "questions still open": "SELECT count(*) FROM knowledge_question WHERE state = 'open'",
    }
    problems = []
    with connection.cursor() as cursor:
        for problem, sql in queries.items():
            cursor.execute(sql)
            if n := cursor.fetchone()[0]:
                problems.append(f"{n:,} {problem}")
    return problems
