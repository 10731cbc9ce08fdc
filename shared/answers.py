"""Answer shapes more than one service's route table describes (``Operation.response``): the
money amount and the keyset page envelope of ``shared.paging``.

They describe what handlers answer; handlers keep building their dicts (the schemathesis runs
of tests/<service>/test_openapi.py check the live answers against these models).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.json_schema import SkipJsonSchema

# A key the answer leaves out rather than sending null (the schema has no null branch):
# ``X | Absent = None`` is not required and never null; ``X | None`` is always there.
Absent = SkipJsonSchema[None]


def _no_null_defaults(schema: dict[str, Any]) -> None:
    """An ``Absent`` key's ``default: null`` is pydantic's, not the answer's: left out."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class Answer(BaseModel):
    """Every key fixed: a key the code does not describe is a failure of the check."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null_defaults)


class Amount(BaseModel):
    """Money as minor units (tiyn) and its currency."""

    model_config = ConfigDict(extra="forbid")
    amount: int
    currency: Literal["KZT"]


def page_of(item: type[BaseModel], name: str) -> type[BaseModel]:
    """The model of a keyset page of ``item``: ``{"items": [...], "next_cursor": ...}``.

    ``next_cursor`` is null on the last page. ``name`` is the schema's name in the document
    (a document holds one model per name).
    """
    page: type[BaseModel] = create_model(
        name,
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"A page of {item.__name__}; next_cursor is null on the last page.",
        items=(list[item], ...),  # type: ignore[valid-type]
        next_cursor=(str | None, ...),
    )
    return page
