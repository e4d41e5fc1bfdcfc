"""The OpenAPI document at /api/v1/openapi.json is made from the code, and
says what the API does: a property-based run (schemathesis) sends each
operation requests made from the document, signed in as a new person each
time, and no answer may be a 5xx or differ from its documented schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.support.api import API, api_person, start_chat


@pytest.fixture
def api_app(namespace):
    from app import create_app

    return create_app({name: namespace[name] for name in ("KEY_PREFIX", "QUEUE_PREFIX", "QUEUE_TYPE")})


# Schemathesis asks for gzip as requests does, but over WSGI it reads the body
# as sent: an answer over Flask-Compress's 500 bytes (a long name in 4-byte
# characters) would reach its checks compressed.
PLAIN = {"Accept-Encoding": "identity"}


def api_schema_of(app):
    return schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)


def test_the_document_lists_the_originals_routes(api_app):
    document = api_app.test_client().get(f"{API}/openapi.json").json
    assert document["openapi"].startswith("3.")
    routes = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    assert routes >= {
        ("POST", "/api/v1/login"),
        ("POST", "/api/v1/verify"),
        ("GET", "/api/v1/auth/refresh"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/update/user"),
        ("POST", "/api/v1/logout"),
        ("POST", "/api/v1/user/all"),
        ("GET", "/api/v1/user/{user_id}"),
        ("POST", "/api/v1/chat/new"),
        ("GET", "/api/v1/chat/all"),
        ("POST", "/api/v1/message"),
        ("GET", "/api/v1/message/{chat_id}"),
    }


@pytest.mark.slow  # a property-based run over every operation
def test_no_request_gets_a_5xx_or_an_answer_off_its_schema(api_app):
    checks = [schemathesis.checks.not_a_server_error, response_schema_conformance]
    operations = [result.ok() for result in api_schema_of(api_app).get_all_operations()]
    assert len(operations) == 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers_well(case):
            alice, bob = api_person(api_app, "fuzz"), api_person(api_app, "other")
            chat_id = start_chat(bob, alice) if case.path_parameters or case.method == "POST" else None
            with_real_ids(case, alice, bob, chat_id)
            case.call_and_validate(cookies=alice.cookies, headers=PLAIN, checks=checks)

        answers_well()


def with_real_ids(case, alice, bob, chat_id):
    """Ids the run could not guess: the person's chat and the other member, where the request names one."""
    if "chat_id" in (case.path_parameters or {}):
        case.path_parameters["chat_id"] = chat_id
    if "user_id" in (case.path_parameters or {}):
        case.path_parameters["user_id"] = str(bob.user["_id"])
    if isinstance(case.body, dict):
        if "chatId" in case.body:
            case.body["chatId"] = chat_id
        if "otherUserId" in case.body:
            case.body["otherUserId"] = str(bob.user["_id"]) if hash(str(case.body)) % 2 else str(alice.user["_id"])


def test_the_document_is_written_when_first_read_not_at_start_up(api_app):
    api = api_app.extensions["flask-smorest"]["blp_name_to_api"]["accounts"]
    assert [name for _, name, _ in api.undocumented] == ["accounts", "conversations"]
    paths = api_app.test_client().get(f"{API}/openapi.json").json["paths"]
    assert api.undocumented == [] and "/api/v1/login" in paths and "/api/v1/chat/all" in paths
