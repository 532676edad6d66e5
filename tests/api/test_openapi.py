"""The OpenAPI document is valid OpenAPI, and it documents exactly the API's routes."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from lms.api.pagination import MAX_PAGE_SIZE


def _document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi(client):
    validate(_document(client))


def test_every_api_route_is_documented_and_nothing_else(app, client):
    document = _document(client)
    base = document["servers"][0]["url"]
    documented = {
        (base + path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule)
        served |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


def test_every_operation_documents_its_errors_and_security(client):
    document = _document(client)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path == "/openapi.json":
                assert operation["security"] == []
                continue
            assert "security" not in operation  # the document's default: bearer
            assert {"401", "429"} <= set(operation["responses"]), (method, path)
            if method in ("post", "delete"):
                assert "403" in operation["responses"], (method, path)
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_page_size_maximum_is_documented(client):
    document = _document(client)
    limit = next(
        parameter
        for parameter in document["paths"]["/learners"]["get"]["parameters"]
        if parameter["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == MAX_PAGE_SIZE
