"""The API's conventions: authentication, the error shape, validation, pagination."""

from __future__ import annotations

import base64
import datetime
import enum
import json
import typing

import pytest
from django.test import Client, override_settings
from ninja.utils import normalize_path

from essaim.accounts.models import ApiToken, TokenScope, User
from essaim.api import api
from essaim.api_base import InSchema
from tests.conftest import PASSWORD, Personas, with_csrf

ME = "/api/v1/me"


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.mark.django_db
def test_anonymous_requests_get_401_in_the_error_shape() -> None:
    write = Client(enforce_csrf_checks=True).post(
        "/api/v1/tokens", {}, content_type="application/json"
    )
    assert write.status_code == 401
    response = Client().get(ME)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_me_answers_the_session_user(personas: Personas, api_session) -> None:  # type: ignore[no-untyped-def]
    body = api_session(personas.compliance).get(ME).json()
    assert body["email"] == "compliance@essaim.test"
    assert body["roles"] == ["compliance"]
    assert "password" not in body


def test_me_answers_the_token_user(personas: Personas, token_client) -> None:  # type: ignore[no-untyped-def]
    assert token_client(personas.member).get(ME).json()["display_name"] == "Member"


def test_a_wrong_or_revoked_token_is_401(personas: Personas, token_client) -> None:  # type: ignore[no-untyped-def]
    assert Client(headers={"Authorization": "Bearer ess_nope"}).get(ME).status_code == 401
    client = token_client(personas.member)
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get(ME).status_code == 401


def test_a_read_only_token_cannot_write(personas: Personas, token_client) -> None:  # type: ignore[no-untyped-def]
    client = token_client(personas.member, TokenScope.READ)
    assert client.get(ME).status_code == 200
    response = client.patch(ME, {"display_name": "Changed"}, content_type="application/json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    personas.member.refresh_from_db()
    assert personas.member.display_name == "Member"


def test_patch_me_changes_name_and_language(personas: Personas, api_session) -> None:  # type: ignore[no-untyped-def]
    client = api_session(personas.member)
    response = client.patch(
        ME, {"display_name": "  Marie  ", "language": "fr"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    personas.member.refresh_from_db()
    assert (personas.member.display_name, personas.member.language) == ("Marie", "fr")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"display_name": "x" * 151}, "display_name"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": 42}, "display_name"),
        ({"display_name": "\u200b\u200d"}, "display_name"),  # only invisible characters
        ({"display_name": "Eve\nAdmin"}, "display_name"),
        ({"language": ["fr"]}, "language"),
        ({"language": "de"}, "language"),
        ({"is_admin": True}, "is_admin"),
        ({"email": "takeover@evil.test"}, "email"),
    ],
)
def test_bad_input_is_422_with_the_field_and_changes_nothing(
    personas: Personas,
    api_session,
    payload: dict,
    field: str,  # type: ignore[no-untyped-def]
) -> None:
    client = api_session(personas.member)
    response = client.patch(ME, payload, content_type="application/json")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    member = User.objects.get(pk=personas.member.pk)
    assert (member.display_name, member.language, member.is_admin, member.email) == (
        "Member",
        "",
        False,
        "member@essaim.test",
    )


def test_malformed_json_is_a_4xx_in_the_error_shape(personas: Personas, api_session) -> None:  # type: ignore[no-untyped-def]
    response = api_session(personas.member).patch(ME, "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    error_of(response)


def test_csrf_failure_is_403_with_a_clear_message(personas: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(personas.member)  # a session cookie but no CSRF token
    response = client.patch(ME, {"display_name": "Forged"}, content_type="application/json")
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "csrf_failed"
    assert "X-CSRFToken" in error["message"]
    personas.member.refresh_from_db()
    assert personas.member.display_name == "Member"


def test_token_creation_needs_the_password_and_shows_the_secret_once(
    personas: Personas,
    api_session,  # type: ignore[no-untyped-def]
) -> None:
    client = api_session(personas.member)
    refused = client.post(
        "/api/v1/tokens", {"name": "ci", "password": "wrong"}, content_type="application/json"
    )
    assert refused.status_code == 422
    assert error_of(refused)["code"] == "reauthentication_failed"
    assert not ApiToken.objects.exists()

    created = client.post(
        "/api/v1/tokens",
        {"name": "ci", "scope": "read-write", "password": PASSWORD},
        content_type="application/json",
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    token = ApiToken.objects.get()
    assert secret not in token.key_hash and token.key_hash != secret
    listed = client.get("/api/v1/tokens").json()
    assert "secret" not in json.dumps(listed) and secret not in json.dumps(listed)
    assert Client(headers={"Authorization": f"Bearer {secret}"}).get(ME).status_code == 200


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_ADDRESS=100)
def test_password_guesses_through_token_creation_are_throttled(
    personas: Personas,
    api_session,  # type: ignore[no-untyped-def]
    signed_in,  # type: ignore[no-untyped-def]
) -> None:
    # Someone holding a stolen session cannot guess the password here faster than at
    # the sign-in page: the guesses count against the same limit.
    client = api_session(personas.member)
    wrong = {"name": "ci", "password": "wrong"}
    for _ in range(3):
        assert (
            client.post("/api/v1/tokens", wrong, content_type="application/json").status_code == 422
        )
    right = {"name": "ci", "password": PASSWORD}
    refused = client.post("/api/v1/tokens", right, content_type="application/json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert error_of(refused)["code"] == "throttled"
    page = with_csrf(signed_in(personas.member)).post(
        "/settings/tokens/", {**right, "scope": "read"}
    )
    assert page.status_code == 429 and page["Retry-After"]
    assert not ApiToken.objects.exists()
    # Another account is not held back by this one's guesses.
    other = api_session(personas.owner).post(
        "/api/v1/tokens", right, content_type="application/json"
    )
    assert other.status_code == 201


def test_revoking_a_token_ends_it_and_others_cannot(
    personas: Personas, api_session, token_client
) -> None:  # type: ignore[no-untyped-def]
    program = token_client(personas.member)
    token = ApiToken.objects.get(user=personas.member)
    assert api_session(personas.outsider).delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    assert program.get(ME).status_code == 200
    assert api_session(personas.member).delete(f"/api/v1/tokens/{token.pk}").status_code == 204
    assert program.get(ME).status_code == 401


def test_lists_use_cursor_pagination(personas: Personas, api_session, token_client) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        token_client(personas.member)
    client = api_session(personas.member)
    first = client.get("/api/v1/tokens?page_size=2").json()
    assert set(first) == {"results", "next", "previous"}
    seen = [t["id"] for t in first["results"]]
    next_url = first["next"]
    while next_url:
        assert "cursor=" in next_url
        page = client.get(next_url).json()
        seen += [t["id"] for t in page["results"]]
        next_url = page["next"]
    assert seen == sorted(ApiToken.objects.values_list("id", flat=True), reverse=True)


def cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "query",
    [
        "cursor=%%%",
        f"cursor={cursor('o=-100')}",  # negative offset
        f"cursor={cursor('o=999999')}",
        f"cursor={cursor('p=abc')}",  # a position that is not an id
        f"cursor={cursor('r=maybe')}",
        "cursor=" + base64.b64encode("p=é".encode()).decode(),
        "page_size=0",
        "page_size=-1",
        "page_size=100000",
        "page_size=two",
    ],
)
def test_a_forged_cursor_or_page_size_is_422(personas: Personas, api_session, query: str) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/v1/tokens", "/api/v1/users"):
        bad = api_session(personas.admin).get(f"{path}?{query}")
        assert bad.status_code == 422, (path, query, bad.content[:200])
        assert error_of(bad)["code"] == "invalid"


def test_types_are_strict_and_enums_still_take_their_json_strings(
    personas: Personas, api_session
) -> None:  # type: ignore[no-untyped-def]
    admin = api_session(personas.admin)

    def create(**fields: object):  # type: ignore[no-untyped-def]
        body = {"email": "new@essaim.test", "display_name": "New", **fields}
        return admin.post("/api/v1/users", body, content_type="application/json")

    for bad in (
        {"is_admin": "yes"},
        {"is_admin": 1},
        {"display_name": 7},
        {"kind": "customer"},
        {"email": "a,b@essaim.test"},
        {"email": "new@@essaim.test"},
        {"email": "new essaim.test"},
    ):
        response = create(**bad)
        assert response.status_code == 422, (bad, response.json())
        assert set(error_of(response)["fields"]) <= {"is_admin", "display_name", "kind", "email"}
    assert not User.objects.filter(email__startswith="new").exists()
    created = create(kind="external", is_admin=False)
    assert created.status_code == 201 and created.json()["kind"] == "external"


def test_every_body_schema_lets_json_strings_reach_enum_and_date_fields() -> None:
    """InSchema is strict; JSON has no enum or date type, so such fields must opt out."""

    def subclasses(cls: type) -> list[type]:
        return [cls, *(sub for direct in cls.__subclasses__() for sub in subclasses(direct))]

    import essaim.api  # noqa: F401  (registers every router and its schemas)

    for schema in subclasses(InSchema):
        for name, field in schema.model_fields.items():  # type: ignore[attr-defined]
            kinds = [field.annotation, *typing.get_args(field.annotation)]
            if any(
                isinstance(kind, type) and issubclass(kind, enum.Enum | datetime.date)
                for kind in kinds
            ):
                strict = [m for m in field.metadata if hasattr(m, "strict")]
                assert strict and not strict[0].strict, f"{schema.__name__}.{name}"


def test_every_api_route_is_in_the_openapi_document(db: None) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    documented = {
        (path.rstrip("/"), method.upper())
        for path, ops in schema["paths"].items()
        for method in ops
    }
    routes = {
        (normalize_path(f"/api/v1/{prefix}/{path}").rstrip("/"), method)
        for prefix, router in api._routers
        for path, path_view in router.path_operations.items()
        for operation in path_view.operations
        for method in operation.methods
    }
    assert len(routes) > 10
    assert routes == documented, routes ^ documented


def test_the_docs_page_is_served(personas: Personas, signed_in) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(personas.member).get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/api/v1/tokens", {}, 422, "invalid"),  # missing fields
        ("post", "/api/v1/tokens", [1, 2], 422, "invalid"),  # wrong type of body
        ("get", "/api/v1/users/abc", None, 422, "invalid"),  # wrong type of id
        ("get", "/api/v1/no-such-route", None, 404, "not_found"),
        ("put", "/api/v1/me", {}, 405, "method_not_allowed"),
        ("patch", "/api/v1/me", {"display_name": "x" * 3_000_000}, 413, "too_large"),
    ],
)
def test_every_4xx_has_the_error_shape(
    personas: Personas,
    api_session,
    method: str,
    path: str,
    body,
    status: int,
    code: str,  # type: ignore[no-untyped-def]
) -> None:
    client = api_session(personas.member)
    kwargs = {} if body is None else {"data": body, "content_type": "application/json"}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert error_of(response)["code"] == code
    assert User.objects.get(pk=personas.member.pk).display_name == "Member"
    assert not ApiToken.objects.exists()
