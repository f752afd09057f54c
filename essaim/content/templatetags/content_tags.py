"""Small template helpers for post cards."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from essaim.content.models import PollOption, ReactionKind

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.simple_tag
def reaction_label(kind: str) -> str:
    return str(ReactionKind(kind).label)


@register.filter
def total_votes(options: Iterable[PollOption]) -> int:
    return sum(o.vote_count for o in options)
