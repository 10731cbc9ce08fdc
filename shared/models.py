"""The base of every request body model: unknown fields are refused, parsed bodies frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictBody(BaseModel):
    """A request body: a field the model does not name is a 422, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)
