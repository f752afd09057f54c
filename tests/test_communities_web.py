"""Community pages: create, find, join, ask, invite, manage, archive; a secret one is not
found by anyone outside it, and an external customer sees only their community."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from essaim.accounts.models import User
from essaim.communities import services
from essaim.communities.models import Community, Invitation, JoinRequest, Membership, Role
from essaim.communities.models import Visibility as V
from essaim.directory import services as directory_services
from essaim.http import CLI
from tests.conftest import Personas, make_user

SignedIn = Callable[[User], Client]


@pytest.fixture
def client_of(api_session: SignedIn) -> SignedIn:
    """A signed-in client whose forms carry their CSRF token, as a browser's do."""
    return api_session


def same_page(page: bytes, path: str) -> bytes:
    """The page without what changes with every response (CSP nonce, masked CSRF token)
    and with its own address (the language form returns to it) made neutral."""
    page = re.sub(rb'(nonce|value)="[A-Za-z0-9+/=_-]{20,}"', b"", page)
    return page.replace(path.encode(), b"PATH")


def create(owner: User, name: str, visibility: V, **settings: object) -> Community:
    return services.community_create(
        actor=owner,
        origin=CLI,
        name=name,
        visibility=visibility,
        **settings,  # type: ignore[arg-type]
    )


def test_an_employee_creates_a_community_and_lands_on_its_home(
    personas: Personas, client_of: SignedIn
) -> None:
    client = client_of(personas.member)
    assert client.get("/communities/new/").status_code == 200
    response = client.post(
        "/communities/new/",
        {
            "name": "Data & IA",
            "visibility": "private",
            "kind": "practice",
            "description": "Tout sur la donnée",
            "tags": "data, ia, Data",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/c/data-ia/"
    community = Community.objects.get()
    assert community.tags == ["data", "ia"]
    assert Membership.objects.get(community=community).role == Role.OWNER
    page = client.get("/c/data-ia/").content.decode()
    assert "Data &amp; IA" in page and "Tout sur la donnée" in page and "Settings" in page
    # The same address again is refused, and nothing more is made.
    again = client.post(
        "/communities/new/", {"name": "Data IA", "visibility": "public", "kind": "other"}
    )
    assert again.status_code == 400 and "not available" in again.content.decode()
    assert Community.objects.count() == 1


def test_the_home_lists_its_runners_then_twelve_members(
    personas: Personas, client_of: SignedIn
) -> None:
    """Owners and animators in their own card; the members' card shows twelve others,
    however many runners sort before them."""
    community = create(personas.owner, "Atelier", V.PUBLIC)
    for name in ("ana", "bob", "cyd"):
        services.join(actor=make_user(name), community=community)
        services.role_set(
            actor=personas.owner, origin=CLI, community=community,
            person=User.objects.get(email=f"{name}@essaim.test"), role=Role.ANIMATOR,
        )  # fmt: skip
    for index in range(14):
        services.join(actor=make_user(f"m{index:02}"), community=community)
    page = client_of(personas.member).get(f"/c/{community.slug}/").content.decode()
    runners, _sep, members = page.partition('id="members-title"')
    assert all(n in runners for n in ("Owner", "Ana", "Bob", "Cyd"))
    assert re.findall(r"M(\d\d)</a>", members) == [f"{i:02}" for i in range(12)]
    assert "Ana" not in members


def test_a_secret_community_is_a_404_identical_to_a_missing_one(
    personas: Personas, client_of: SignedIn
) -> None:
    create(personas.owner, "Legal hold", V.SECRET, confidential=True)
    outsider = client_of(personas.outsider)
    for path in ("/c/legal-hold/", "/c/legal-hold/members/", "/c/legal-hold/settings/"):
        hidden = outsider.get(path)
        missing = outsider.get(path.replace("legal-hold", "no-such-thing"))
        assert hidden.status_code == missing.status_code == 404
        other = path.replace("legal-hold", "no-such-thing")
        assert same_page(hidden.content, path) == same_page(missing.content, other)
    joined = outsider.post("/c/legal-hold/join/")
    assert joined.status_code == 404
    listed = outsider.get("/communities/?scope=all&q=legal").content.decode()
    assert "Legal hold" not in listed
    owner_page = client_of(personas.owner).get("/c/legal-hold/").content.decode()
    assert "Confidential" in owner_page and "no content in e-mails" in owner_page


def test_join_a_public_one_ask_for_a_private_one_and_get_approved(
    personas: Personas, client_of: SignedIn
) -> None:
    create(personas.owner, "Running club", V.PUBLIC)
    design = create(personas.owner, "Design", V.PRIVATE)
    member = client_of(personas.member)
    assert member.post("/c/running-club/join/").status_code == 302
    assert "Running club" in member.get("/communities/?scope=mine").content.decode()
    page = member.get("/c/design/").content.decode()
    assert "Ask to join" in page and "Its content is for its members." in page
    assert member.get("/c/design/members/").status_code == 404
    member.post("/c/design/request/", {"message": "I draw"})
    assert "Request sent" in member.get("/c/design/").content.decode()
    owner = client_of(personas.owner)
    assert "I draw" in owner.get("/c/design/members/").content.decode()
    owner.post(f"/c/design/members/{personas.member.pk}/approve/")
    assert not JoinRequest.objects.exists()
    assert Membership.objects.filter(community=design, user=personas.member).exists()


def test_invite_by_address_change_a_role_and_remove(
    personas: Personas, client_of: SignedIn
) -> None:
    community = create(personas.owner, "Project Apollo", V.SECRET, kind="project")
    owner = client_of(personas.owner)
    bad = owner.post(
        "/c/project-apollo/members/", {"emails": "nobody@essaim.test", "role": "member"}
    )
    assert (
        bad.status_code == 400 and "Nobody found with: nobody@essaim.test" in bad.content.decode()
    )
    customer = owner.post(
        "/c/project-apollo/members/", {"emails": personas.external.email, "role": "member"}
    )
    assert customer.status_code == 400 and not Invitation.objects.exists()
    sent = owner.post(
        "/c/project-apollo/members/", {"emails": personas.member.email, "role": "member"}
    )
    assert sent.status_code == 302
    invited = client_of(personas.member)
    assert "Project Apollo" in invited.get("/communities/").content.decode()  # an invitation
    invited.post("/c/project-apollo/accept/")
    owner.post(f"/c/project-apollo/members/{personas.member.pk}/role/", {"role": "animator"})
    assert Membership.objects.get(community=community, user=personas.member).role == Role.ANIMATOR
    # The new animator may not touch the owner.
    invited.post(f"/c/project-apollo/members/{personas.owner.pk}/remove/")
    assert Membership.objects.filter(community=community, user=personas.owner).exists()
    owner.post(f"/c/project-apollo/members/{personas.member.pk}/remove/")
    assert invited.get("/c/project-apollo/").status_code == 404
    # An id past the database's integers is a 404, like any id of nobody.
    huge = owner.post(f"/c/project-apollo/members/{2**70}/remove/")
    assert huge.status_code == 404
    assert owner.get(f"/people/{2**70}/").status_code == 404


def test_an_owner_edits_the_settings_and_archives_and_restores(
    personas: Personas, client_of: SignedIn
) -> None:
    community = create(personas.owner, "Old project", V.PRIVATE)
    assert client_of(personas.member).get("/c/old-project/settings/").status_code == 404
    owner = client_of(personas.owner)
    saved = owner.post(
        "/c/old-project/settings/",
        {"name": "Old project", "visibility": "secret", "kind": "project", "confidential": "on"},
    )
    assert saved.status_code == 302
    community.refresh_from_db()
    assert community.visibility == V.SECRET and community.confidential
    owner.post("/c/old-project/archive/")
    community.refresh_from_db()
    assert community.archived
    assert "read-only" in owner.get("/c/old-project/").content.decode()
    assert "Old project" not in owner.get("/communities/?scope=all").content.decode()
    assert "Old project" in owner.get("/communities/?scope=all&archived=1").content.decode()
    owner.post("/c/old-project/restore/")
    community.refresh_from_db()
    assert not community.archived


def test_an_external_customer_sees_only_their_community(
    personas: Personas, client_of: SignedIn
) -> None:
    create(personas.owner, "Internal", V.PUBLIC)
    shop = create(personas.owner, "Customer club", V.EXTERNAL)
    services.invite(actor=personas.owner, origin=CLI, community=shop, people=[personas.external])
    external = client_of(personas.external)
    page = external.get("/communities/?scope=all").content.decode()
    assert "Customer club" in page and "Internal" not in page
    assert "Create a community" not in page
    assert external.get("/communities/new/").status_code == 404
    assert external.get("/c/internal/").status_code == 404
    external.post("/c/customer-club/accept/")
    assert "Customer club" in external.get("/communities/?scope=mine").content.decode()
    members = external.get("/c/customer-club/members/").content.decode()
    assert "Owner" in members and personas.owner.display_name in members


def test_an_owner_makes_everyone_at_a_site_a_member(
    personas: Personas, client_of: SignedIn
) -> None:
    hr = personas.hr
    lyon = directory_services.site_save(
        actor=hr, origin=CLI, name="Lyon", city="Lyon", country="FR"
    )
    directory_services.profile_update(
        actor=hr, person=personas.member, origin=CLI, changes={"site": lyon}
    )
    community = create(personas.owner, "Lyon site", V.PRIVATE, kind="region")
    owner = client_of(personas.owner)
    page = owner.get("/c/lyon-site/settings/").content.decode()
    assert "Automatic members" in page
    saved = owner.post("/c/lyon-site/settings/", {"form": "rule", "site": lyon.pk})
    assert saved.status_code == 302
    membership = Membership.objects.get(community=community, user=personas.member)
    assert membership.by_rule and membership.role == Role.MEMBER


def test_a_cover_image_is_cut_served_to_those_who_see_the_community_and_removed(
    personas: Personas,
    client_of: SignedIn,
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    create(personas.owner, "Board", V.SECRET)
    owner = client_of(personas.owner)
    picture = io.BytesIO()
    Image.new("RGB", (2000, 1000), "orange").save(picture, "PNG")
    picture.seek(0)
    picture.name = "../../cover.png"
    assert owner.post("/c/board/cover/", {"cover": picture}).status_code == 302
    community = Community.objects.get()
    assert (
        community.cover
        and f"/api/v1/communities/{community.pk}/cover/wide"
        in owner.get("/c/board/").content.decode()
    )
    served = owner.get(f"/api/v1/communities/{community.pk}/cover/wide")
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(served.content)).size == (1200, 300)
    outsider = client_of(personas.outsider)
    hidden = outsider.get(f"/api/v1/communities/{community.pk}/cover/wide")
    missing = outsider.get("/api/v1/communities/999999/cover/wide")
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    # Not an image: refused, the cover stays.
    fake = io.BytesIO(b"<svg onload=alert(1)></svg>")
    fake.name = "cover.svg"
    refused = owner.post("/c/board/cover/", {"cover": fake}, follow=True).content.decode()
    assert "not a readable JPEG, PNG, WebP or GIF image" in refused
    assert Community.objects.get().cover == community.cover
    with django_capture_on_commit_callbacks(execute=True):  # the old files go on commit
        owner.post("/c/board/cover/", {"remove": "1"})
    assert Community.objects.get().cover == ""
    assert not any((tmp_path / "covers").iterdir())
