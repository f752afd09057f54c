from __future__ import annotations

from django.db.models import Q, QuerySet

from essaim import access

from .models import ApiToken, User


def user_list(*, fetched_by: access.Viewer, query: str = "") -> QuerySet[User]:
    people = access.visible(fetched_by, User.objects.all())
    if query:
        people = people.filter(Q(display_name__icontains=query) | Q(email__icontains=query))
    return people.order_by("display_name", "id")


def token_list(*, fetched_by: access.Viewer) -> QuerySet[ApiToken]:
    return access.visible(fetched_by, ApiToken.objects.all()).order_by("-id")
