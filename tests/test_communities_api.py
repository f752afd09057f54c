"""The communities API: the same rules as the pages, a secret community answering like a
missing one, and bad input refused with a 4xx that changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from essaim.accounts.services import user_deactivate
from essaim.communities.models import Community, Invitation, Membership, Role
from essaim.http import CLI
from tests.conftest import Personas

TokenClient = Callable[..., Client]
BASE = "/api/v1/communities"


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


def put(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.put(path, body, content_type="application/json")


def make(client: Client, **body: Any) -> dict[str, Any]:
    response = post(client, BASE, {"visibility": "public", **body})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_read_list_and_update(personas: Personas, token_client: TokenClient) -> None:
    owner = token_client(personas.owner)
    made = make(owner, name="Data guild", visibility="private", kind="practice", tags=["Data"])
    assert made["slug"] == "data-guild" and made["my_role"] == "owner" and made["tags"] == ["data"]
    assert made["can"]["configure"] and made["member_count"] == 1
    member = token_client(personas.member)
    seen = member.get(f"{BASE}/{made['id']}").json()
    assert seen["can"] == {
        "read": False,
        "join": False,
        "request": True,
        "post": False,
        "manage": False,
        "configure": False,
    }
    listed = member.get(BASE, {"scope": "all"}).json()
    assert listed["total"] == 1 and listed["results"][0]["name"] == "Data guild"
    assert member.get(BASE).json()["total"] == 0  # mine
    patched = owner.patch(
        f"{BASE}/{made['id']}", {"description": "Pipelines"}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["description"] == "Pipelines"
    for body, status in (({"confidential": True}, 200), ({"confidential": None}, 422)):
        answer = owner.patch(f"{BASE}/{made['id']}", body, content_type="application/json")
        assert answer.status_code == status, body
    assert Community.objects.get().confidential  # a null did not switch it off
    refused = member.patch(
        f"{BASE}/{made['id']}", {"name": "Mine now"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert Community.objects.get().name == "Data guild"


def test_a_secret_community_is_a_404_like_a_missing_one(
    personas: Personas, token_client: TokenClient
) -> None:
    secret = make(token_client(personas.owner), name="Board", visibility="secret")
    outsider = token_client(personas.outsider)
    for method, suffix, body in (
        ("get", "", None),
        ("get", "/members", None),
        ("put", "/membership", None),
        ("post", "/requests", {"message": "hi"}),
        ("patch", "", {"name": "x"}),
        ("delete", "/membership", None),
        ("put", "/invitation", {"accept": True}),
        ("put", f"/requests/{personas.outsider.pk}", {"approve": True}),
        ("put", f"/members/{personas.owner.pk}", {"role": "member"}),
        ("delete", f"/members/{personas.owner.pk}", None),
        ("post", "/invitations", {"user_ids": [personas.outsider.pk]}),
    ):
        call = getattr(outsider, method)

        def send(
            target: object, lang: str, call: Any = call, suffix: str = suffix, body: Any = body
        ) -> Any:
            path, headers = f"{BASE}/{target}{suffix}", {"Accept-Language": lang}
            if body is None:
                return call(path, headers=headers)
            return call(path, body, content_type="application/json", headers=headers)

        for lang in ("en", "fr"):
            hidden, missing = send(secret["id"], lang), send(999_999, lang)
            assert hidden.status_code == missing.status_code == 404, (method, suffix)
            assert hidden.content == missing.content
    assert outsider.get(BASE, {"scope": "all"}).json()["total"] == 0
    assert not Membership.objects.filter(user=personas.outsider).exists()


def test_join_ask_decide_invite_answer(personas: Personas, token_client: TokenClient) -> None:
    owner = token_client(personas.owner)
    public = make(owner, name="Runners")
    private = make(owner, name="Design", visibility="private")
    member = token_client(personas.member)
    assert member.put(f"{BASE}/{public['id']}/membership").status_code == 204
    assert member.put(f"{BASE}/{private['id']}/membership").status_code == 403  # ask instead
    assert post(member, f"{BASE}/{private['id']}/requests", {"message": "Me!"}).status_code == 204
    decided = put(owner, f"{BASE}/{private['id']}/requests/{personas.member.pk}", {"approve": True})
    assert decided.status_code == 204
    assert member.get(f"{BASE}/{private['id']}").json()["my_role"] == "member"
    sent = post(
        owner,
        f"{BASE}/{private['id']}/invitations",
        {"user_ids": [personas.outsider.pk], "role": "reader"},
    )
    assert sent.status_code == 201 and sent.json() == {"invited": 1}
    outsider = token_client(personas.outsider)
    assert put(outsider, f"{BASE}/{private['id']}/invitation", {"accept": True}).status_code == 204
    assert Membership.objects.get(user=personas.outsider).role == Role.READER
    names = {
        m["display_name"] for m in member.get(f"{BASE}/{private['id']}/members").json()["results"]
    }
    assert names == {"Owner", "Member", "Outsider"}
    # Someone who left: out of the list as out of the count, like on the page.
    user_deactivate(actor=personas.admin, origin=CLI, user=personas.outsider)
    listed = member.get(f"{BASE}/{private['id']}/members").json()["results"]
    assert {m["display_name"] for m in listed} == {"Owner", "Member"}
    assert member.get(f"{BASE}/{private['id']}").json()["member_count"] == len(listed)
    # An employee who does not read it sees whom to ask, no one else.
    stranger = token_client(personas.hr).get(f"{BASE}/{private['id']}/members").json()
    assert [m["display_name"] for m in stranger["results"]] == ["Owner"]


def test_bad_input_is_a_4xx_that_changes_nothing(
    personas: Personas, token_client: TokenClient
) -> None:
    owner = token_client(personas.owner)
    for body in (
        {"name": "", "visibility": "public"},
        {"name": "x", "visibility": "open"},
        {"name": "x", "visibility": "public", "kind": "guild"},
        {"name": "x", "visibility": "public", "confidential": "yes"},
        {"name": "x", "visibility": "public", "confidential": True},
        {"name": "x", "visibility": "public", "owner": personas.member.pk},
        {"name": "x", "visibility": "public", "tags": ["t"] * 11},
        {"name": "x", "visibility": "private", "confidential": None},
    ):
        response = post(owner, BASE, body)
        assert 400 <= response.status_code < 500, body
        assert "error" in response.json()
    assert not Community.objects.exists()
    community = make(owner, name="Club")
    # Role escalation by a member, a customer into an internal community, a last owner.
    member_client = token_client(personas.member)
    member_client.put(f"{BASE}/{community['id']}/membership")
    escalate = put(
        member_client, f"{BASE}/{community['id']}/members/{personas.member.pk}", {"role": "owner"}
    )
    assert escalate.status_code == 403
    customer = post(
        owner, f"{BASE}/{community['id']}/invitations", {"user_ids": [personas.external.pk]}
    )
    assert customer.status_code == 422 and not Invitation.objects.exists()
    assert owner.delete(f"{BASE}/{community['id']}/membership").status_code == 400
    # Ids past the database's integers, and a unit or site that does not exist.
    huge = 2**70
    club = f"{BASE}/{community['id']}"
    assert put(owner, f"{club}/members/{huge}", {"role": "member"}).status_code == 422
    assert owner.delete(f"{club}/members/{huge}").status_code == 422
    assert put(owner, f"{club}/requests/{huge}", {"approve": True}).status_code == 422
    for invitation in ({"user_ids": [huge]}, {"org_unit_id": huge}, {"site_id": 0}):
        assert post(owner, f"{club}/invitations", invitation).status_code == 422, invitation
    for invitation in ({"org_unit_id": 999_999}, {"site_id": 999_999}):
        assert post(owner, f"{club}/invitations", invitation).status_code == 404, invitation
    assert not Invitation.objects.exists()
    assert set(Membership.objects.values_list("user__email", "role")) == {
        (personas.owner.email, Role.OWNER),
        (personas.member.email, Role.MEMBER),
    }


def test_an_external_customer_sees_only_their_community(
    personas: Personas, token_client: TokenClient
) -> None:
    owner = token_client(personas.owner)
    make(owner, name="Internal")
    shop = make(owner, name="Customers", visibility="external")
    post(owner, f"{BASE}/{shop['id']}/invitations", {"user_ids": [personas.external.pk]})
    external = token_client(personas.external)
    assert [c["name"] for c in external.get(BASE, {"scope": "all"}).json()["results"]] == [
        "Customers"
    ]
    assert post(external, BASE, {"name": "Mine", "visibility": "external"}).status_code == 403
    put(external, f"{BASE}/{shop['id']}/invitation", {"accept": True})
    assert external.get(f"{BASE}/{shop['id']}").json()["can"]["post"]


def test_a_lowered_role_applies_to_the_next_request(
    personas: Personas, token_client: TokenClient
) -> None:
    owner, animator, member = (
        token_client(p) for p in (personas.owner, personas.animator, personas.member)
    )
    community = make(owner, name="Atelier", visibility="private")
    members = f"{BASE}/{community['id']}/members"
    for person, role in ((personas.animator, Role.ANIMATOR), (personas.member, Role.MEMBER)):
        Membership.objects.create(community_id=community["id"], user=person, role=role)
    assert put(animator, f"{members}/{personas.member.pk}", {"role": "member"}).status_code == 204
    posted = {"community": community["id"], "body": "Hello"}
    assert post(member, "/api/v1/posts", posted).status_code == 201
    # The owner lowers both; their tokens, unchanged, carry the new roles at once.
    assert put(owner, f"{members}/{personas.animator.pk}", {"role": "member"}).status_code == 204
    assert put(owner, f"{members}/{personas.member.pk}", {"role": "reader"}).status_code == 204
    assert put(animator, f"{members}/{personas.member.pk}", {"role": "member"}).status_code == 403
    assert post(member, "/api/v1/posts", posted).status_code == 403
    roles = dict(
        Membership.objects.filter(community_id=community["id"]).values_list("user", "role")
    )
    assert (roles[personas.animator.pk], roles[personas.member.pk]) == (Role.MEMBER, Role.READER)
