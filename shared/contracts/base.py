from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


class Contract(BaseModel):
    """A message body. ``MESSAGE_TYPE`` is its AMQP type and, for events, its routing key."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    MESSAGE_TYPE: ClassVar[str]


class PersonalContract(Contract):
    """A body that carries personal data: nothing beyond the declared fields may pass."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(BaseModel):
    """An amount in tiyn (1/100 tenge)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    amount: int = Field(ge=0)
    currency: Literal["KZT"] = "KZT"
