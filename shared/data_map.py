"""The data map: every table of a service that holds anything about a person, and what the
export, the erasure and the retention do with it (DESIGN.md section 2, Law 94-V Art. 24, 18).

Each service keeps one map, ``services/<svc>/data_map.py`` ``DATA_MAP``: a ``Holding`` per
table that is about a customer (linked by their id, directly or through a parent row), and
``unlinked``, the service's other tables with the reason they hold nothing about a person.
A test per service (``tests/<svc>/test_data_map.py``) migrates the real schema and fails when
a table is in neither list, when a table with a ``customer`` column is only "unlinked", or
when a holding names a table or column that is not there. So nobody adds a table that the
export, the erasure or the retention would miss: classify it here first.

How the three rights use it (one map, so none can miss what another covers):

- **Export** (the right of access, Art. 24): ``holding.section`` is the export section that
  carries the table's rows (``None``: not exported, and ``not_exported`` says why, e.g. a
  password hash or a session token's hash). ``DataMap.sections()`` are the sections a
  service's internal export answers with; ``EXPORT_SECTIONS`` is that contract per service,
  which the customers service uses to fill an empty section with a note when a service does
  not answer. The map test checks the two agree.
- **Erasure** (Art. 25(2)(8)): ``DataMap.erased_by(Erasure.X)`` lists the tables to shred,
  delete, depersonalise (drop the customer id, keep the row unlinked), keep as evidence, or
  leave to their short retention (``Erasure.EXPIRE``). A holding with ``via`` follows its
  parent: deleting or depersonalising the parent row is what unlinks it (its ``link`` is the
  column to the parent). The erasure helper writes one step per erased table and a test that
  walks ``holdings`` so a new holding without a step fails.
- **Retention** (Art. 12(2), 18; "kept only until the purpose is reached"): ``retention`` is
  the name of the rule that applies (e.g. ``refresh_sessions``, ``delivery_log``); the rules
  themselves (durations, schedules, run records) live in the retention code, keyed by these
  names, and its test checks every name of ``DataMap.retention_rules()`` has a rule.

Pure data, no I/O: ``DataMap.problems(schema)`` compares the map with a schema read from
``information_schema`` (the tests do the reading).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    """What the rows are, for a person."""

    # Identifies the person by itself, sealed or not: the PD vault, blind indexes of an email
    # or phone, data keys, a sealed message body.
    PERSONAL_DATA = "personal_data"
    # About a person through their customer id (a random uuid): what they bought, were sent,
    # asked, who read their data. Personal data in the law's sense while the id leads to them.
    LINKED = "linked"


class Erasure(StrEnum):
    """What the erasure of a customer does to the table's rows of that customer."""

    # Destroy the customer's data key: the ciphertext stays and is unreadable, backups too.
    SHRED = "shred"
    # Delete the customer's rows.
    DELETE = "delete"
    # Drop the customer id (set NULL, or the row's own identifying columns): the row stays for
    # accounting or statistics, linked to nobody.
    DEPERSONALISE = "depersonalise"
    # Kept as evidence the law asks for (consent records, the disclosure register, the audit
    # log, the requests themselves); ``erasure_note`` says what of it is shredded.
    KEEP_EVIDENCE = "keep_evidence"
    # Short-lived rows (minutes to days) that their retention rule destroys anyway; erasure
    # does nothing more, and says how long they may outlive it.
    EXPIRE = "expire"


@dataclass(frozen=True)
class Holding:
    """One table's part of what the service holds about a customer."""

    table: str
    # The column that links a row to the customer: their id, or (with ``via``) the parent's key.
    link: str
    # In words, what a row holds (never a value).
    holds: str
    kind: Kind
    # The export section that carries these rows, or None (then ``not_exported`` says why).
    section: str | None
    erasure: Erasure
    # The name of the retention rule that applies (the retention code defines it).
    retention: str
    # The law or policy clause that makes the service keep it.
    reason: str
    # The parent table whose row links to the customer (order_lines -> orders).
    via: str | None = None
    # Which rows link, when not all of them do (SQL over the table's columns).
    rows: str | None = None
    not_exported: str | None = None
    erasure_note: str | None = None


@dataclass(frozen=True)
class DataMap:
    """A service's holdings about persons and its tables that hold nothing about one."""

    service: str
    holdings: tuple[Holding, ...]
    # table -> why it holds nothing about a person
    unlinked: Mapping[str, str] = field(default_factory=dict)

    def holding(self, table: str) -> Holding:
        for holding in self.holdings:
            if holding.table == table:
                return holding
        raise KeyError(table)

    def tables(self) -> tuple[str, ...]:
        return tuple(h.table for h in self.holdings)

    def sections(self) -> tuple[str, ...]:
        """The export sections of the service, in the map's order."""
        return tuple(dict.fromkeys(h.section for h in self.holdings if h.section))

    def in_section(self, section: str) -> tuple[Holding, ...]:
        return tuple(h for h in self.holdings if h.section == section)

    def erased_by(self, erasure: Erasure) -> tuple[Holding, ...]:
        return tuple(h for h in self.holdings if h.erasure is erasure)

    def retention_rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.retention for h in self.holdings))

    def problems(self, schema: Mapping[str, Iterable[str]]) -> list[str]:
        """What is wrong between the map and a schema (table -> its columns); [] if nothing.

        Every table is a holding or unlinked (not both); a table with a column naming a
        customer is a holding; a holding's table, link and via exist; a holding not exported
        says why; the map's sections are the service's ``EXPORT_SECTIONS``.
        """
        columns = {table: set(cols) for table, cols in schema.items()}
        out: list[str] = []
        mapped = set(self.tables())
        for table in sorted(columns):
            if table in mapped and table in self.unlinked:
                out.append(f"{table}: both a holding and unlinked")
            elif table not in mapped and table not in self.unlinked:
                out.append(
                    f"{table}: not in services/{self.service}/data_map.py; add a Holding (what"
                    " export, erasure and retention do with it) or an unlinked reason"
                )
            elif table in self.unlinked:
                linking = sorted(c for c in columns[table] if LINKING_COLUMN.search(c))
                if linking:
                    out.append(f"{table}: has {', '.join(linking)} but is listed as unlinked")
        for holding in self.holdings:
            out.extend(_holding_problems(holding, columns, mapped))
        for table in sorted(set(self.unlinked) - set(columns)):
            out.append(f"{table}: listed as unlinked but not in the schema")
        expected = EXPORT_SECTIONS.get(self.service, ())
        if set(self.sections()) != set(expected):
            out.append(
                f"export sections {sorted(self.sections())} differ from EXPORT_SECTIONS"
                f"[{self.service!r}] {sorted(expected)}"
            )
        return out


def _holding_problems(
    holding: Holding, columns: Mapping[str, set[str]], mapped: set[str]
) -> list[str]:
    table = holding.table
    if table not in columns:
        return [f"{table}: a holding of a table that is not in the schema"]
    out = []
    if holding.link not in columns[table]:
        out.append(f"{table}: link column {holding.link!r} is not in the table")
    if holding.via is not None and holding.via not in mapped:
        out.append(f"{table}: via {holding.via!r}, which is not a holding of the map")
    if holding.section is None and not holding.not_exported:
        out.append(f"{table}: not exported and no not_exported reason")
    return out


# A column whose name says it names a customer must be in a holding.
LINKING_COLUMN: Final = re.compile(r"customer")

# The export sections each service answers with (its ``/internal/customers/{id}/export``; the
# customers service's own sections are built in place). The customers service fills the
# sections of a service that does not answer with an empty list and a note.
EXPORT_SECTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "customers": (
        "profile",
        "consents",
        "suppressions",
        "disclosures",
        "requests",
        "sessions",
        "audit",
    ),
    "orders": ("orders", "cart", "decisions"),
    "notifications": ("notifications",),
    "catalog": (),
}

# The tables every service gets from shared/sql (the outbox, the inbox, revocations).
OUTBOX_HOLDING: Final = Holding(
    table="outbox",
    link="body",
    holds="outgoing messages until published: events carry the customer id (ids and states"
    " only); the customers service seals its bodies",
    kind=Kind.LINKED,
    section=None,
    erasure=Erasure.EXPIRE,
    retention="outbox",
    reason="delivery of every message exactly once (DESIGN.md section 3)",
    not_exported="messages in flight between the services; what they change is exported"
    " where it lands",
    erasure_note="published rows are purged after outbox_retention_s",
)
REVOCATIONS_HOLDING: Final = Holding(
    table="access_revocations",
    link="customer_id",
    holds="ended sign-in sessions (session id, when) so their tokens are refused",
    kind=Kind.LINKED,
    section=None,
    erasure=Erasure.EXPIRE,
    retention="access_revocations",
    reason="security of processing (Law 94-V Art. 22): a token of an ended session is refused",
    not_exported="technical record of sessions already ended; the sessions are in 'sessions'",
    erasure_note="kept until keep_until (the access token's lifetime), so erased accounts'"
    " tokens stay refused",
)
# The blocking state a service enforces (orders, notifications; shared.blocking): each
# service's own migration creates the table, with the same columns everywhere.
BLOCKS_HOLDING: Final = Holding(
    table="customer_blocks",
    link="customer_id",
    holds="whether the customer has blocked processing (Law 94-V Art. 1), since when, and the"
    " version of that state (ids and times only)",
    kind=Kind.LINKED,
    section=None,
    erasure=Erasure.DELETE,
    retention="block_state",
    reason="enforcing the block the customer asked for (Law 94-V Art. 1, 25(2)(8))",
    not_exported="a copy of the block the customers service holds and exports (the profile's"
    " status, the block and unblock requests)",
    erasure_note="the row is deleted; an unblocked customer's row stays until then so a late,"
    " older event cannot block again",
)
SHARED_HOLDINGS: Final = (OUTBOX_HOLDING, REVOCATIONS_HOLDING)
SHARED_UNLINKED: Final[Mapping[str, str]] = {
    "inbox": "ids and types of messages handled; no customer id",
    "schema_migrations": "the migrations applied",
    "retention_runs": "what retention destroyed: kind, action, cutoff, count; no id or value",
}
