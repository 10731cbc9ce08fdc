"""Every JSON success of the catalog documents names a response model (issue 12)."""

from __future__ import annotations

from services.catalog.routes import OPERATIONS
from shared.openapi import build_document
from tests.openapi_checks import unmodelled_json_successes


def test_every_json_success_has_a_model() -> None:
    for internal in (False, True):
        document = build_document("catalog", OPERATIONS, internal=internal)
        assert not unmodelled_json_successes(document)
