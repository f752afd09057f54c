"""The directory through the API and the web pages: what each persona sees, and that an
outsider learns nothing through any of its paths."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from essaim.directory import services
from essaim.directory.models import (
    Availability,
    FieldKind,
    OrgUnit,
    Profile,
    ProfileField,
    TopicKind,
    Visibility,
)
from essaim.governance.models import AuditEntry
from essaim.http import CLI
from tests.conftest import Personas

JSON = "application/json"


def png(size: tuple[int, int] = (300, 200)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(data, "PNG")
    data.seek(0)
    data.name = "me.png"
    return data


@pytest.fixture
def described(personas: Personas) -> Personas:
    """The member's profile, filled in, with custom fields of every visibility."""
    member, admin = personas.member, personas.admin
    services.profile_update(
        actor=member,
        person=member,
        origin=CLI,
        changes={
            "phone": "+33 1 23 45 67 89",
            "bio": "Likes maps, trains; and commas.",
            "pronouns": "they",
        },
    )
    services.topics_set(
        actor=member, person=member, origin=CLI, kind=TopicKind.SKILL, items=[("Cartography", 4)]
    )
    for key, visibility in (
        ("motto", Visibility.EVERYONE),
        ("desk", Visibility.EMPLOYEES),
        ("salary-band", Visibility.ADMINS),
    ):
        services.profile_field_save(
            actor=admin, origin=CLI, key=key, label=key, kind=FieldKind.TEXT, visibility=visibility
        )
    services.field_values_set(
        actor=member,
        person=member,
        origin=CLI,
        values={
            "motto": "Onwards",
            "desk": "B-204",
            "salary-band": "C",
        },
    )
    return personas


def test_each_persona_reads_the_fields_its_role_allows(described: Personas, token_client) -> None:  # type: ignore[no-untyped-def]
    member = described.member
    url = f"/api/v1/people/{member.pk}"
    seen = {}
    for name in ("owner", "hr", "admin", "member"):
        body = token_client(getattr(described, name)).get(url).json()
        seen[name] = {f["key"] for f in body["fields"]}
        assert body["phone"] == "+33 1 23 45 67 89" and body["topics"]["skill"][0]["level"] == 4
    assert seen == {
        "owner": {"motto", "desk"},
        "hr": {"motto", "desk", "salary-band"},
        "admin": {"motto", "desk", "salary-band"},
        "member": {"motto", "desk", "salary-band"},  # their own
    }


OUTSIDER_PATHS = [
    ("get", "/api/v1/people/{id}"),
    ("get", "/api/v1/people/{id}/org-chart"),
    ("get", "/api/v1/people/{id}/similar"),
    ("get", "/api/v1/people/{id}/followers"),
    ("get", "/api/v1/people/{id}/following"),
    ("get", "/api/v1/people/{id}/vcard"),
    ("get", "/api/v1/people/{id}/photo/small"),
    ("put", "/api/v1/people/{id}/follow"),
    ("delete", "/api/v1/people/{id}/follow"),
    ("put", "/api/v1/people/{id}/endorsements/1"),
    ("patch", "/api/v1/people/{id}"),
    ("put", "/api/v1/people/{id}/languages"),
    ("put", "/api/v1/people/{id}/topics/skill"),
    ("put", "/api/v1/people/{id}/fields"),
    ("delete", "/api/v1/people/{id}/photo"),
    ("get", "/people/{id}/"),
    ("get", "/people/{id}/edit/"),
    ("get", "/people/{id}/org-chart/"),
    ("get", "/people/{id}/followers/"),
]


@pytest.mark.parametrize(("method", "path"), OUTSIDER_PATHS)
def test_an_external_customer_cannot_tell_an_employee_from_nobody(
    described: Personas, method: str, path: str
) -> None:
    client = Client()
    client.force_login(described.external)
    body = {"patch": "{}"}.get(method, '{"values": {}}' if path.endswith("/fields") else "[]")

    def call(target: int):  # type: ignore[no-untyped-def]
        request = getattr(client, method)
        if method == "get":
            return request(path.format(id=target))
        return request(path.format(id=target), body, content_type=JSON)

    hidden, missing = call(described.member.pk), call(999_999)
    assert hidden.status_code == missing.status_code == 404, (hidden.content, missing.content)

    # Pages differ only by their CSRF token, masked anew on every answer, and by the
    # path they echo (the language form returns to it).
    def same(content: bytes, target: int) -> bytes:
        content = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)
        return content.replace(f"/{target}/".encode(), b"/ID/")

    assert same(hidden.content, described.member.pk) == same(missing.content, 999_999)


def test_an_external_customer_sees_no_organisation_through_lists(
    described: Personas, token_client
) -> None:  # type: ignore[no-untyped-def]
    client = token_client(described.external)
    found = client.get("/api/v1/people?q=member").json()
    assert found["total"] == 0 and found["facets"] == {}
    assert client.get("/api/v1/people?site=1").status_code == 403
    assert client.get("/api/v1/org-units").json()["results"] == []
    assert client.get("/api/v1/sites").json()["results"] == []
    assert client.get("/api/v1/experts?q=carto").json() == {"topics": [], "experts": []}
    assert [f["key"] for f in client.get("/api/v1/profile-fields").json()] == ["motto"]
    own = client.get(f"/api/v1/people/{described.external.pk}").json()
    assert own["display_name"] == "External"


def test_search_api_pages_with_an_opaque_cursor_and_refuses_a_forged_one(
    described: Personas, token_client
) -> None:  # type: ignore[no-untyped-def]
    client = token_client(described.owner)
    first = client.get("/api/v1/people?page_size=3&sort=name").json()
    assert first["total"] == 9 and len(first["results"]) == 3 and first["previous"] is None
    names = [p["display_name"] for p in first["results"]]
    url = first["next"]
    while url:
        page = client.get(url).json()
        names += [p["display_name"] for p in page["results"]]
        url = page["next"]
    assert names == sorted(names) and len(names) == 9  # every active person once
    assert client.get("/api/v1/people?cursor=bz0tNQ==").status_code == 422  # o=-5
    assert client.get("/api/v1/people?page_size=0").status_code == 422
    typo = client.get("/api/v1/people?q=membr").json()
    assert [p["display_name"] for p in typo["results"]] == ["Member"]
    assert typo["corrections"] == {"membr": ["member"]}


def test_profile_changes_through_the_api(described: Personas, api_session) -> None:  # type: ignore[no-untyped-def]
    member, hr = described.member, described.hr
    mine = api_session(member)
    url = f"/api/v1/people/{member.pk}"
    changed = mine.patch(url, {"timezone": "Europe/Berlin"}, content_type=JSON)
    assert changed.status_code == 200 and changed.json()["timezone"] == "Europe/Berlin"
    assert mine.patch(url, {"timezone": "Nowhere"}, content_type=JSON).status_code == 422
    assert mine.patch(url, {"job_title": "Boss"}, content_type=JSON).status_code == 403
    assert mine.patch(url, {"is_admin": True}, content_type=JSON).status_code == 422
    as_hr = api_session(hr)
    moved = as_hr.patch(url, {"job_title": "Lead", "manager_id": hr.pk}, content_type=JSON)
    assert moved.status_code == 200 and moved.json()["manager"]["id"] == hr.pk
    assert as_hr.patch(url, {"manager_id": 999_999}, content_type=JSON).status_code == 404
    skills = mine.put(f"{url}/topics/skill", [{"name": "Go", "level": 3}], content_type=JSON)
    assert [t["name"] for t in skills.json()["topics"]["skill"]] == ["Go"]
    bad_level = mine.put(f"{url}/topics/skill", [{"name": "Go", "level": 9}], content_type=JSON)
    assert bad_level.status_code == 422
    spoken = mine.put(f"{url}/languages", [{"language": "it", "level": "basic"}], content_type=JSON)
    assert spoken.json()["languages"] == [{"language": "it", "name": "Italian", "level": "basic"}]
    status = mine.put(
        "/api/v1/me/status", {"availability": "dnd", "text": "Focus"}, content_type=JSON
    )
    assert status.json()["availability"] == "dnd"


def test_photos_are_checked_resized_and_served_only_to_who_sees_the_person(
    described: Personas, api_session, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    member = described.member
    mine = api_session(member)
    uploaded = mine.post(f"/api/v1/people/{member.pk}/photo", {"photo": png()})
    assert uploaded.status_code == 200, uploaded.content
    photo_url = uploaded.json()["photo_url"]
    served = api_session(described.owner).get(photo_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(served.content)).size == (512, 512)
    svg = io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    svg.name = "x.png"
    refused = mine.post(f"/api/v1/people/{member.pk}/photo", {"photo": svg})
    assert refused.status_code == 422 and "photo" in refused.json()["error"]["fields"]
    other = api_session(described.owner).post(f"/api/v1/people/{member.pk}/photo", {"photo": png()})
    assert other.status_code == 403
    assert mine.delete(f"/api/v1/people/{member.pk}/photo").status_code == 204
    assert api_session(described.owner).get(photo_url).status_code == 404


def test_vcard_holds_what_the_viewer_reads(described: Personas, token_client) -> None:  # type: ignore[no-untyped-def]
    member = described.member
    card = token_client(described.owner).get(f"/api/v1/people/{member.pk}/vcard")
    assert card["Content-Type"] == "text/vcard; charset=utf-8"
    text = card.content.decode()
    assert text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n") and text.endswith("END:VCARD\r\n")
    assert "FN:Member\r\n" in text and "EMAIL;TYPE=work:member@essaim.test" in text
    assert "NOTE:Likes maps\\, trains\\; and commas." in text
    assert "TEL;TYPE=work,voice;VALUE=uri:tel:+33123456789" in text


def test_follow_endorse_and_expertise_through_the_api(described: Personas, token_client) -> None:  # type: ignore[no-untyped-def]
    member, owner = described.member, described.owner
    client = token_client(owner)
    assert client.put(f"/api/v1/people/{member.pk}/follow").status_code == 204
    followers = client.get(f"/api/v1/people/{member.pk}/followers").json()["results"]
    assert [p["id"] for p in followers] == [owner.pk]
    experts = client.get("/api/v1/experts?q=carto").json()
    topic = experts["topics"][0]
    assert [e["person"]["id"] for e in experts["experts"]] == [member.pk]
    endorse = f"/api/v1/people/{member.pk}/endorsements/{topic['id']}"
    assert client.put(endorse).status_code == 204
    detail = client.get(f"/api/v1/people/{member.pk}").json()
    assert detail["topics"]["skill"][0]["endorsements"] == 1 and detail["followed_by_me"]
    assert client.put(f"/api/v1/people/{member.pk}/endorsements/999999").status_code == 404
    assert client.delete(endorse).status_code == 204
    assert client.delete(f"/api/v1/people/{member.pk}/follow").status_code == 204
    assert token_client(owner).put(f"/api/v1/people/{owner.pk}/follow").status_code == 403


def test_organisation_admin_through_the_api(described: Personas, token_client) -> None:  # type: ignore[no-untyped-def]
    hr = token_client(described.hr)
    created = hr.post("/api/v1/org-units", {"name": "Legal"}, content_type=JSON)
    assert created.status_code == 201
    unit = created.json()["id"]
    child = hr.post(
        "/api/v1/org-units", {"name": "Contracts", "parent_id": unit}, content_type=JSON
    )
    loop = hr.put(
        f"/api/v1/org-units/{unit}",
        {"name": "Legal", "parent_id": child.json()["id"]},
        content_type=JSON,
    )
    assert loop.status_code == 422
    member = token_client(described.member)
    assert member.post("/api/v1/org-units", {"name": "X"}, content_type=JSON).status_code == 403
    detail = member.get(f"/api/v1/org-units/{unit}").json()
    assert detail["children"] == [{"id": child.json()["id"], "name": "Contracts", "people": 0}]
    field = {"label": "Shoe size", "kind": "text", "visibility": "admins"}
    assert member.put("/api/v1/profile-fields/shoe", field, content_type=JSON).status_code == 403
    admin = token_client(described.admin)
    assert admin.put("/api/v1/profile-fields/shoe", field, content_type=JSON).status_code == 200
    assert "shoe" not in [f["key"] for f in member.get("/api/v1/profile-fields").json()]


# --- Web pages -------------------------------------------------------------------------------


def test_directory_and_profile_pages(described: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    member, owner = described.member, described.owner
    browser = signed_in(owner)
    page = browser.get("/people/?q=membr")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'href="/people/{member.pk}/"' in text and "Showing results for" in text
    profile = browser.get(f"/people/{member.pk}/").content.decode()
    assert "Cartography" in profile and "Onwards" in profile and "B-204" in profile
    assert "salary-band" not in profile and ">C<" not in profile
    assert browser.get(f"/people/{member.pk}/edit/").status_code == 404
    assert browser.get(f"/people/{member.pk}/org-chart/").status_code == 200
    external = signed_in(described.external)
    assert "Member" not in external.get("/people/?q=member").content.decode()


def test_editing_my_profile_on_the_web_page(described: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    member = described.member
    browser = signed_in(member)
    form = browser.get(f"/people/{member.pk}/edit/")
    assert form.status_code == 200
    data = {
        "csrfmiddlewaretoken": form.cookies["csrftoken"].value
        if "csrftoken" in form.cookies
        else "",
        "me-pronouns": "she",
        "me-phone": "",
        "me-mobile_phone": "+33 6 00 00 00 00",
        "me-timezone": "Europe/Paris",
        "me-bio": "Hello",
        "skill-TOTAL_FORMS": "2",
        "skill-INITIAL_FORMS": "0",
        "skill-0-name": "Rust",
        "skill-0-level": "3",
        "skill-1-name": "",
        "skill-1-level": "2",
        "lang-TOTAL_FORMS": "1",
        "lang-INITIAL_FORMS": "0",
        "lang-0-language": "fr",
        "lang-0-level": "native",
        "topics-expertise": "Maps, GIS",
        "topics-interest": "",
        "topics-project": "",
        "topics-ask": "Trains",
        "custom-motto": "Forward",
        "custom-desk": "",
        "custom-salary-band": "C",
    }
    browser.cookies["csrftoken"] = "k" * 32
    data["csrfmiddlewaretoken"] = "k" * 32
    saved = browser.post(f"/people/{member.pk}/edit/", data)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    detail = browser.get(f"/people/{member.pk}/").content.decode()
    for expected in ("Rust", "GIS", "Trains", "Forward", "she"):
        assert expected in detail
    bad = browser.post(f"/people/{member.pk}/edit/", {**data, "me-timezone": "Nowhere"})
    assert bad.status_code == 400


def test_administrators_define_profile_fields_on_a_page(described: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    assert signed_in(described.hr).get("/manage/profile-fields/").status_code == 404
    admin = signed_in(described.admin)
    admin.cookies["csrftoken"] = "k" * 32
    page = admin.get("/manage/profile-fields/")
    assert page.status_code == 200 and "salary-band" in page.content.decode()
    field = {
        "key": "team",
        "label": "Team",
        "kind": "choice",
        "choices": "Red, Blue",
        "visibility": "everyone",
        "position": "3",
        "csrfmiddlewaretoken": "k" * 32,
    }
    assert admin.post("/manage/profile-fields/", field).status_code == 302
    assert ProfileField.objects.get(key="team").choices == ["Red", "Blue"]
    refused = admin.post("/manage/profile-fields/", {**field, "choices": ""})
    assert refused.status_code == 400  # a choice field needs its choices
    assert AuditEntry.objects.filter(action="profile_field.create").count() == 4


def test_a_status_set_until_a_past_time_no_longer_shows(described: Personas, token_client) -> None:  # type: ignore[no-untyped-def]
    member = described.member
    services.status_set(
        actor=member,
        availability=Availability.DO_NOT_DISTURB,
        text="In a workshop",
        until=timezone.now() + timedelta(hours=1),
    )
    url = f"/api/v1/people/{member.pk}"
    assert token_client(described.owner).get(url).json()["status"]["text"] == "In a workshop"
    Profile.objects.filter(user=member).update(status_until=timezone.now() - timedelta(minutes=1))
    status = token_client(described.owner).get(url).json()["status"]
    assert status == {"availability": "auto", "text": "", "until": None}


def test_hr_shapes_the_organisation_on_a_page(described: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    assert signed_in(described.member).get("/manage/organisation/").status_code == 404
    hr = signed_in(described.hr)
    hr.cookies["csrftoken"] = "k" * 32
    token = {"csrfmiddlewaretoken": "k" * 32}
    created = hr.post("/manage/organisation/", {**token, "form": "unit", "name": "Finance"})
    assert created.status_code == 302
    finance = OrgUnit.objects.get(name="Finance")
    hr.post(
        "/manage/organisation/", {**token, "form": "unit", "name": "Audit", "parent": finance.pk}
    )
    audit = OrgUnit.objects.get(name="Audit")
    loop = hr.post(
        "/manage/organisation/",
        {**token, "form": "unit", "unit": finance.pk, "name": "Finance", "parent": audit.pk},
    )
    assert loop.status_code == 400
    site = {**token, "form": "site", "name": "Lille", "city": "Lille", "country": "FR"}
    assert hr.post("/manage/organisation/", site).status_code == 302
    bad_site = hr.post("/manage/organisation/", {**site, "name": "X", "country": "France"})
    assert bad_site.status_code == 400
    page = hr.get("/manage/organisation/").content.decode()
    assert page.index("Finance") < page.index("Audit") and "Lille" in page


def test_an_external_customer_cannot_probe_org_unit_or_site_ids(
    described: Personas, token_client
) -> None:  # type: ignore[no-untyped-def]
    unit = services.org_unit_save(actor=described.hr, origin=CLI, name="Legal", parent=None)
    client = token_client(described.external)
    me = f"/api/v1/people/{described.external.pk}"
    for body in ({"org_unit_id": unit.pk}, {"org_unit_id": 999_999}):
        response = client.patch(me, body, content_type=JSON)
        assert response.status_code == 422 and response.json()["error"]["fields"] == {
            "org_unit_id": ["Not found."]
        }
    for parent in (unit.pk, 999_999):
        created = client.post(
            "/api/v1/org-units", {"name": "X", "parent_id": parent}, content_type=JSON
        )
        assert created.status_code == 422
    assert not OrgUnit.objects.filter(name="X").exists()
