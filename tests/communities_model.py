"""A small pure-Python model of who may do what in a community: what access.py must
agree with, written from the issue's words rather than from the code."""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = ("view", "read", "join", "request", "post", "manage", "configure")


@dataclass(frozen=True)
class Viewer:
    active: bool
    employee: bool  # False: an external customer
    admin: bool
    role: str | None  # in this community: owner, animator, member, reader or None
    invited: bool


def allowed(viewer: Viewer, visibility: str, archived: bool, action: str) -> bool:
    if not viewer.active:
        return False
    insider = viewer.employee or viewer.admin
    member = viewer.role is not None
    if insider:
        sees = visibility != "secret" or member or viewer.invited
    else:  # an external customer: their external communities only
        sees = visibility == "external" and (member or viewer.invited)
    open_to_employees = visibility in ("public", "external")
    answers = {
        "view": sees,
        "read": member or (insider and open_to_employees)
        if insider
        else (visibility == "external" and member),
        "join": insider and not member and not archived and open_to_employees,
        "request": insider and not member and not archived and visibility == "private",
        "post": viewer.role in ("owner", "animator", "member") and not archived,
        "manage": (viewer.role in ("owner", "animator") or (viewer.admin and sees))
        and not archived,
        "configure": viewer.role == "owner" or (viewer.admin and sees),
    }
    return answers[action]


def sees_membership(viewer: Viewer, visibility: str, archived: bool, role: str, own: bool) -> bool:
    """A membership (of someone in ``role``): owners and animators to whoever sees the
    community, the rest to those who read it, one's own always."""
    if not allowed(viewer, visibility, archived, "view"):
        return False
    return role in ("owner", "animator") or own or allowed(viewer, visibility, archived, "read")
