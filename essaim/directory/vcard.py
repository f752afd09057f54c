"""A profile as a vCard 4.0 (RFC 6350), holding only what the viewer may read."""

from __future__ import annotations

from django.conf import settings

from .selectors import PersonView


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (§3.2),
    cut between characters, never inside one."""
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def render(view: PersonView) -> str:
    person, profile = view.person, view.person.profile
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"FN:{_escape(person.display_name)}"]
    if profile.job_title:
        lines.append(f"TITLE:{_escape(profile.job_title)}")
    if view.shows("org_unit") and profile.org_unit:
        lines.append(f"ORG:{_escape(profile.org_unit.name)}")
    if view.shows("email"):
        lines.append(f"EMAIL;TYPE=work:{_escape(person.email)}")
    if view.shows("phone") and profile.phone:
        lines.append(f"TEL;TYPE=work,voice;VALUE=uri:tel:{profile.phone.replace(' ', '')}")
    if view.shows("mobile_phone") and profile.mobile_phone:
        lines.append(f"TEL;TYPE=cell;VALUE=uri:tel:{profile.mobile_phone.replace(' ', '')}")
    if view.shows("timezone") and profile.timezone:
        lines.append(f"TZ:{_escape(profile.timezone)}")
    if view.shows("bio") and profile.bio:
        lines.append(f"NOTE:{_escape(profile.bio)}")
    lines.append(f"URL:{settings.SITE_URL.rstrip('/')}/people/{person.pk}/")
    lines.append("END:VCARD")
    return "".join(_fold(line) + "\r\n" for line in lines)
