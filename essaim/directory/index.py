"""The people index: the words search matches, rebuilt by the services in the same
transaction as the change they index, so a search never lags behind a profile."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from essaim import bulk
from essaim.access import PROFILE_FIELDS
from essaim.accounts.models import User, UserKind

from .models import (
    PersonToken,
    Profile,
    ProfileFieldValue,
    ProfileTopic,
    TokenVariant,
    TopicKind,
    VariantKind,
    Visibility,
)
from .text import deletions, normalize, typos_allowed, words

# How much a word counts, by where it comes from.
WEIGHT_NAME = 8
WEIGHT_TITLE = 4
WEIGHT_EXPERTISE = 3
WEIGHT_PLACE = 2
WEIGHT_OTHER = 1

TOPIC_WEIGHTS: dict[str, int] = {
    TopicKind.SKILL: WEIGHT_EXPERTISE,
    TopicKind.EXPERTISE: WEIGHT_EXPERTISE,
}
BATCH = 2000

Entry = tuple[int, str, int, str]  # user id, word, weight, visibility


def _entries(user_ids: list[int]) -> tuple[list[Entry], dict[int, str]]:
    """Every (user, word, weight, visibility) of these people, and their sort names, in
    a fixed number of queries whatever their number."""
    found: list[Entry] = []

    def add(user_id: int, text: str, weight: int, visibility: str) -> None:
        found.extend((user_id, word, weight, visibility) for word in words(text))

    # Active people only (access.PersonTokenRule counts on it); bots are no one's colleagues.
    people = User.objects.filter(pk__in=user_ids, is_active=True).exclude(kind=UserKind.BOT)
    names = dict(people.values_list("id", "display_name"))
    for user_id, name in names.items():
        add(user_id, name, WEIGHT_NAME, Visibility.EVERYONE)
    sort_names = {user_id: normalize(name)[:150] for user_id, name in names.items()}
    bulk.update(Profile, ("sort_name",), "user_id", [(name, pk) for pk, name in sort_names.items()])
    active = list(names)
    profiles = Profile.objects.filter(user_id__in=active).values_list(
        "user_id", "job_title", "org_unit__name", "site__name", "site__city"
    )
    for user_id, title, unit, site, city in profiles:
        add(user_id, title, WEIGHT_TITLE, PROFILE_FIELDS["job_title"])
        add(user_id, unit or "", WEIGHT_PLACE, PROFILE_FIELDS["org_unit"])
        add(user_id, f"{site or ''} {city or ''}", WEIGHT_PLACE, PROFILE_FIELDS["site"])
    topics = ProfileTopic.objects.filter(user_id__in=active).values_list(
        "user_id", "kind", "topic__name"
    )
    for user_id, kind, name in topics:
        add(user_id, name, TOPIC_WEIGHTS.get(kind, WEIGHT_OTHER), PROFILE_FIELDS["topics"])
    values = ProfileFieldValue.objects.filter(user_id__in=active).values_list(
        "user_id", "value", "field__visibility"
    )
    for user_id, value, visibility in values:
        add(user_id, value, WEIGHT_OTHER, visibility)
    return found, sort_names


def reindex(user_ids: Iterable[int]) -> None:
    """Rebuild the index rows of these people (call inside the writing transaction)."""
    ids = list(user_ids)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        best: dict[tuple[int, str, str], int] = defaultdict(int)
        entries, sort_names = _entries(chunk)
        for user_id, word, weight, visibility in entries:
            key = (user_id, word, visibility)
            best[key] = max(best[key], weight)
        PersonToken.objects.filter(user_id__in=chunk).delete()
        bulk.insert(
            PersonToken,
            ("user_id", "token", "visibility", "weight", "sort_name"),
            [(u, t, v, w, sort_names[u]) for (u, t, v), w in best.items()],
        )
        _add_to_vocabulary({word for (_, word, _) in best})


def _add_to_vocabulary(new_words: set[str]) -> None:
    ordered = sorted(new_words)
    known: set[str] = set()
    for start in range(0, len(ordered), BATCH):
        chunk = ordered[start : start + BATCH]
        # A word's own full-length prefix row says it is in the vocabulary.
        known.update(
            TokenVariant.objects.filter(
                kind=VariantKind.PREFIX, variant__in=chunk, token__in=chunk
            ).values_list("token", flat=True)
        )
    rows = []
    for word in new_words - known:
        rows += [
            TokenVariant(variant=word[:end], kind=VariantKind.PREFIX, token=word)
            for end in range(1, len(word) + 1)
        ]
        if typos_allowed(word):
            rows += [
                TokenVariant(variant=variant, kind=VariantKind.DELETION, token=word)
                for variant in deletions(word)
            ]
    TokenVariant.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
