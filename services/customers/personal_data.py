"""The one door to personal data: every read names a purpose and leaves an audit row.

``read_pd`` is the only function that decrypts; ``write_pd`` the only one that encrypts;
``release`` the only way PD leaves the service (the minimal projection of the release table,
recorded in the disclosure register); ``shred`` the only way a customer's PD is destroyed.
The data keys are in the key store (``keystore.py``), a database apart from the ciphertexts.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from shared.db import DbConn

from . import storage
from .crypto import Vault, VaultError
from .domain import (
    CONTACT_FIELDS,
    CONTACT_PURPOSES,
    HOME_COUNTRY,
    PD_FIELDS,
    PURPOSES,
    SOURCES,
    AuditEntry,
    PdField,
    PurposeNotAllowed,
    RecipientCountries,
    ReleasedField,
    block_confirmation_note,
    check_release,
    check_transfer,
    confirms_block,
    legal_basis,
    obligation_note,
    placed_before_block,
    project,
    release_fields,
    source_fields,
)
from .keystore import KeyStore

# The audit action of a read for a legal disclosure the law forbids telling the subject of
# (Law 94-V art. 9; ``legal_disclosures``): the subject's own view of the trail leaves it out.
CONFIDENTIAL_READ = "read_confidential"


class CustomerUnavailable(Exception):
    """Unknown, erased or shredded: there is no personal data to use."""


class CustomerBlocked(Exception):
    """Processing is blocked at the customer's request: nothing is released."""


@dataclass(frozen=True)
class Release:
    release_id: UUID
    locale: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class ContactRelease:
    customer_id: UUID
    release_id: UUID
    locale: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Released:
    """What was released to whom, for what comes after a release (no values)."""

    customer_id: UUID
    kind: str
    recipient: str
    country: str
    release_id: UUID


# Called in the release's transaction after the register row is written (the notice of a
# transfer the consent did not name: ``transfer_notices.py``).
AfterRelease = Callable[[DbConn, "PdGate", Released], Awaitable[None]]
CountReleases = Callable[[str, str, int], None]


# While an erasure waits for an obligation (Law 94-V art. 8(2)) the account is closed
# ('erased') but its data key lives: only these purposes may still use the data, to finish
# what is owed (deliver the order, tell the customer about it).
CLOSED_ACCOUNT_PURPOSES: frozenset[str] = frozenset({"delivery", "service_communication"})


def usable(status: str, purpose: str | None) -> bool:
    """Whether a customer's data may be used for ``purpose`` given their status."""
    return status != "erased" or purpose in CLOSED_ACCOUNT_PURPOSES


def now() -> datetime:
    return datetime.now(UTC)


class PdGate:
    def __init__(
        self,
        vault: Vault,
        keys: KeyStore,
        countries: RecipientCountries | None = None,
        after_release: AfterRelease | None = None,
        count_releases: CountReleases | None = None,
    ) -> None:
        self.vault = vault
        self.keys = keys
        self.countries = countries or RecipientCountries(couriers={}, banks={})
        self.after_release = after_release
        # The metrics' counter (purpose, recipient, how many): counts only, never a value.
        self.count_releases = count_releases
        # Counts of releases written in a ``transaction`` still open, by its connection.
        self._uncommitted: dict[int, list[tuple[str, str, int]]] = {}

    @contextlib.asynccontextmanager
    async def transaction(self, conn: DbConn) -> AsyncIterator[None]:
        """``conn.transaction()`` whose releases are counted once it has committed (asyncpg
        has no commit hook): a rolled-back release is not counted. Nested, a savepoint: its
        releases wait for the outermost one, and are dropped if the savepoint rolls back.
        A release written outside one is counted when written."""
        key = id(conn)
        outermost = key not in self._uncommitted
        pending = self._uncommitted.setdefault(key, [])
        mark = len(pending)
        try:
            async with conn.transaction():
                yield
        except BaseException:
            del pending[mark:]
            raise
        finally:
            if outermost:
                del self._uncommitted[key]
        if outermost and self.count_releases is not None:
            for purpose, recipient, count in pending:
                self.count_releases(purpose, recipient, count)

    def _count(self, conn: DbConn, purpose: str, recipient: str, count: int) -> None:
        pending = self._uncommitted.get(id(conn))
        if pending is not None:
            pending.append((purpose, recipient, count))
        elif self.count_releases is not None:
            self.count_releases(purpose, recipient, count)

    async def new_data_key(self, customer_id: UUID) -> None:
        """A fresh data key for a customer about to be registered, stored in the key store
        first (committed there at once): if the registration then rolls back, the key is an
        orphan that opens nothing and the orphan chore removes it."""
        wrapped = self.vault.wrap(customer_id, self.vault.new_data_key())
        await self.keys.put(customer_id, wrapped, self.vault.master_fingerprint)

    async def shred(self, conn: DbConn, customer_id: UUID) -> bool:
        """Crypto-shredding: destroy the customer's data key in the key store (at once and
        for good, whatever the caller's transaction does), then delete their ciphertexts in
        the customers database in ``conn``'s transaction. Idempotent; True if a key was
        destroyed now. No field of the customer opens again, nor from a backup of the
        customers database (the key was never in it)."""
        destroyed = await self.keys.destroy(customer_id)
        await storage.delete_all_fields(conn, customer_id)
        return destroyed

    async def _data_key(
        self,
        conn: DbConn,
        customer_id: UUID,
        purpose: str | None = None,
        customer: storage.CustomerRow | None = None,
    ) -> bytes:
        """The customer's data key; ``customer`` is their row when the caller read it in
        this transaction already (a release: one read of the row, not two)."""
        if customer is None:
            customer = await storage.get_customer(conn, customer_id)
        if customer is None or not usable(customer.status, purpose):
            raise CustomerUnavailable("unknown or erased customer")
        wrapped = await self.keys.get(customer_id)
        if wrapped is None:
            raise CustomerUnavailable("the data key is destroyed")
        return self.vault.unwrap(customer_id, wrapped)

    async def read_pd(
        self,
        conn: DbConn,
        customer_id: UUID,
        purpose: str,
        actor: str,
        fields: Iterable[PdField] = PD_FIELDS,
        action: str = "read",
        customer: storage.CustomerRow | None = None,
    ) -> dict[str, Any]:
        """Decrypt ``fields`` of a customer for ``purpose``; audited (as ``action``: a read
        the subject may not be told of is ``CONFIDENTIAL_READ``); refused off the list.
        ``customer``: their row, read in this transaction already."""
        if purpose not in PURPOSES:
            raise PurposeNotAllowed("purpose is not on the closed list")
        asked = set(fields)
        wanted = tuple(field for field in PD_FIELDS if field in asked)
        data_key = await self._data_key(conn, customer_id, purpose, customer)
        sealed = await storage.get_fields(conn, customer_id, wanted)
        await storage.append_audit(
            conn, AuditEntry(now(), actor, action, customer_id, purpose, wanted)
        )
        return {
            field: _decode(field, self._open(data_key, customer_id, field, sealed))
            for field in wanted
        }

    def _open(
        self, data_key: bytes, customer_id: UUID, field: str, sealed: Mapping[str, bytes]
    ) -> str | None:
        if field not in sealed:
            return None
        try:
            return self.vault.decrypt_field(data_key, customer_id, field, sealed[field])
        except VaultError:
            raise CustomerUnavailable("a field does not open") from None

    async def write_pd(
        self,
        conn: DbConn,
        customer_id: UUID,
        values: Mapping[PdField, str | None],
        actor: str,
        purpose: str = "identification",
    ) -> None:
        """Encrypt and store ``values`` (None deletes an optional field); audited."""
        data_key = await self._data_key(conn, customer_id)
        present = {f: v for f, v in values.items() if v is not None}
        sealed: dict[str, bytes] = {
            f: self.vault.encrypt_field(data_key, customer_id, f, v) for f, v in present.items()
        }
        await storage.put_fields(conn, customer_id, sealed)
        await storage.delete_fields(conn, customer_id, [f for f, v in values.items() if v is None])
        await storage.append_audit(
            conn, AuditEntry(now(), actor, "write", customer_id, purpose, tuple(sorted(values)))
        )

    async def seal_text(self, conn: DbConn, customer_id: UUID, label: str, text: str) -> bytes:
        """Seal a customer's free text (e.g. a request's detail) under their data key, so it
        is shredded with the rest; ``label`` binds it to its place (the associated data)."""
        data_key = await self._data_key(conn, customer_id)
        return self.vault.encrypt_field(data_key, customer_id, label, text)

    async def open_text(
        self, conn: DbConn, customer_id: UUID, label: str, sealed: bytes
    ) -> str | None:
        """The text ``seal_text`` sealed, or None once the data key is destroyed."""
        try:
            data_key = await self._data_key(conn, customer_id)
            return self.vault.decrypt_field(data_key, customer_id, label, sealed)
        except (CustomerUnavailable, VaultError):
            return None

    async def open_texts(
        self, conn: DbConn, customer_id: UUID, sealed: Sequence[tuple[str, bytes]]
    ) -> list[str | None]:
        """``open_text`` of many (label, sealed) of one customer with one data-key fetch (an
        export opens every request's words); None for each once the key is destroyed."""
        if not sealed:
            return []
        try:
            data_key = await self._data_key(conn, customer_id)
        except CustomerUnavailable:
            return [None] * len(sealed)
        opened: list[str | None] = []
        for label, text in sealed:
            try:
                opened.append(self.vault.decrypt_field(data_key, customer_id, label, text))
            except VaultError:
                opened.append(None)
        return opened

    async def release(
        self,
        conn: DbConn,
        customer_id: UUID,
        *,
        purpose: str,
        kind: str,
        recipient: str,
        actor: str,
        order_ref: str | None = None,
        requested: frozenset[str] | None = None,
        basis: str | None = None,
        reason: str | None = None,
        audit_action: str = "read",
        order_placed_at: datetime | None = None,
        notice: str | None = None,
    ) -> Release:
        """The minimal projection for (purpose, recipient kind), recorded in the register
        with ``basis`` as its legal basis when one is stated (a legal disclosure's art. 9
        ground), else the consent clause of the purpose.

        Refused for a blocked customer unless it serves an obligation already open: the
        delivery, status mail or support of the order ``order_ref`` placed
        (``order_placed_at``) before the block (``domain.placed_before_block``), or the
        confirmation of the block itself to the customer who asked (``notice``,
        ``domain.confirms_block``); the register notes it. Refused
        for a recipient abroad without the customer's consent to transfers abroad
        (``TransferAbroadNotAllowed``)."""
        allowed = (
            release_fields(purpose, kind)
            if requested is None
            else check_release(purpose, kind, requested)
        )
        customer = await storage.get_customer(conn, customer_id)
        if customer is None or not usable(customer.status, purpose):
            raise CustomerUnavailable("unknown or erased customer")
        note = ""
        if customer.status == "blocked":
            note = _blocked_note(customer, purpose, order_ref, order_placed_at, notice)
        if purpose == "marketing":
            live = await storage.live_consents(conn, customer_id)
            if not live.get(f"marketing_{kind}", False):
                raise PurposeNotAllowed("no live marketing consent for this channel")
            current = await storage.current_policy(conn)
            if customer.policy_version != current.version:
                raise PurposeNotAllowed("the customer has not accepted the current policy")
        country = self.countries.of(kind, recipient)
        if country != HOME_COUNTRY:
            live = await storage.live_consents(conn, customer_id)
            check_transfer(country, live.get("cross_border", False))
        pd = await self.read_pd(
            conn,
            customer_id,
            purpose,
            actor,
            source_fields(allowed),
            action=audit_action,
            customer=customer,
        )
        release_id = uuid4()
        stated = basis or legal_basis(purpose, customer.policy_version, country)
        await storage.add_disclosure(
            conn,
            release_id=release_id,
            customer_id=customer_id,
            recipient=recipient,
            purpose=purpose,
            fields=allowed,
            order_ref=order_ref,
            legal_basis=stated + note,
            country=country,
            reason=reason,
        )
        self._count(conn, purpose, recipient, 1)
        if self.after_release is not None:
            released = Released(customer_id, kind, recipient, country, release_id)
            await self.after_release(conn, self, released)
        return Release(release_id, customer.locale, project(allowed, pd))

    async def release_contacts(
        self,
        conn: DbConn,
        customer_ids: Sequence[UUID],
        channel: str,
        purpose: str,
        recipient: str,
    ) -> list[ContactRelease]:
        """Batch release of one channel's contact (plus first name) for a campaign.

        Only active customers with a live consent for the channel (marketing: and the current
        policy accepted; a provider abroad: and the consent to transfers abroad) are
        released; the others are skipped. One query fetches the sealed fields from the
        customers database, one the keys of those customers from the key store; the audit
        rows and the disclosure register are written in bulk. Call inside a transaction.
        """
        allowed = release_fields(purpose, channel)
        if not allowed or channel not in ("email", "sms"):
            raise PurposeNotAllowed(f"no contact release for {purpose} to {channel}")
        marketing = purpose == "marketing"
        policy = (await storage.current_policy(conn)).version if marketing else None
        wanted = source_fields(allowed)
        country = self.countries.of(channel, recipient)
        abroad = country != HOME_COUNTRY  # only those who consented to transfers abroad
        rows = await storage.contact_sources(
            conn,
            customer_ids,
            wanted,
            f"marketing_{channel}" if marketing else None,
            policy,
            abroad=abroad,
        )
        return await self._release_rows(conn, rows, purpose, recipient, allowed, country)

    async def audience(
        self, conn: DbConn, purpose: str, channel: str, recipient: str
    ) -> tuple[frozenset[ReleasedField], storage.Audience, str]:
        """Who may get a contact release for (purpose, channel) to ``recipient`` now: the
        fields released, the audience's conditions and the recipient's country. Marketing:
        a live consent for the channel, the current policy accepted, the contact not
        suppressed; both purposes: active customers with that contact (and the consent to
        transfers abroad when the provider is abroad)."""
        if purpose not in CONTACT_PURPOSES or channel not in CONTACT_FIELDS:
            raise PurposeNotAllowed(f"no contact release for {purpose} to {channel}")
        allowed = release_fields(purpose, channel)
        marketing = purpose == "marketing"
        country = self.countries.of(channel, recipient)
        audience = storage.Audience(
            contact_field=CONTACT_FIELDS[channel],
            consent_kind=f"marketing_{channel}" if marketing else None,
            policy_version=(await storage.current_policy(conn)).version if marketing else None,
            abroad=country != HOME_COUNTRY,
            suppressed_channel=channel if marketing else None,
        )
        return allowed, audience, country

    async def release_audience_page(
        self,
        conn: DbConn,
        *,
        purpose: str,
        channel: str,
        recipient: str,
        reference: UUID,
        after: UUID | None,
        limit: int,
    ) -> tuple[list[ContactRelease], UUID | None]:
        """The next page (by customer id, after ``after``) of the audience, each released:
        one query for the customers and their sealed fields, one of the key store, the audit
        rows and the register rows (naming ``reference``) by COPY. Also the id to continue
        after, None once the audience is exhausted. Call inside a transaction."""
        allowed, audience, country = await self.audience(conn, purpose, channel, recipient)
        rows = await storage.audience_page(conn, audience, after, limit, source_fields(allowed))
        released = await self._release_rows(
            conn, rows, purpose, recipient, allowed, country, reference
        )
        return released, (rows[-1]["id"] if len(rows) == limit else None)

    async def _release_rows(
        self,
        conn: DbConn,
        rows: Sequence[asyncpg.Record],
        purpose: str,
        recipient: str,
        allowed: frozenset[ReleasedField],
        country: str,
        reference: UUID | None = None,
    ) -> list[ContactRelease]:
        """Open each row's fields (its data key unwrapped once), then write the audit rows
        and the register rows in bulk; a row that does not open is skipped."""
        keys = await self.keys.get_many([row["id"] for row in rows])
        wanted = source_fields(allowed)
        fields = sorted(allowed)
        at = now()
        actor = f"service:{recipient}"
        released: list[ContactRelease] = []
        audit: list[AuditEntry] = []
        register: list[tuple[Any, ...]] = []
        bases: dict[str, str] = {}
        for row in rows:
            release = self._open_contact(row, keys.get(row["id"]), allowed)
            if release is None:
                continue
            released.append(release)
            audit.append(AuditEntry(at, actor, "read", release.customer_id, purpose, wanted))
            version = row["policy_version"]
            basis = bases.get(version)
            if basis is None:
                basis = bases[version] = legal_basis(purpose, version, country)
            register.append(
                (
                    release.release_id,
                    release.customer_id,
                    recipient,
                    purpose,
                    fields,
                    None,
                    basis,
                    country,
                    reference,
                )
            )
        await storage.append_audit_many(conn, audit)
        await storage.add_disclosures_many(conn, register)
        self._count(conn, purpose, recipient, len(register))
        return released

    def _open_contact(
        self, row: asyncpg.Record, wrapped: bytes | None, allowed: frozenset[ReleasedField]
    ) -> ContactRelease | None:
        customer_id: UUID = row["id"]
        if wrapped is None:
            return None
        try:
            data_key = self.vault.unwrap(customer_id, wrapped)
            pd = self.vault.decrypt_fields(
                data_key, customer_id, dict(zip(row["fields"], row["sealed"], strict=True))
            )
        except VaultError:
            return None
        if any(source not in pd for field in allowed for source in SOURCES[field]):
            return None
        return ContactRelease(customer_id, uuid4(), row["locale"], project(allowed, pd))


def _blocked_note(
    customer: storage.CustomerRow,
    purpose: str,
    order_ref: str | None,
    order_placed_at: datetime | None,
    notice: str | None,
) -> str:
    """What the register adds to the basis of a blocked customer's release; refused unless
    the release serves an obligation already open or confirms the block."""
    if placed_before_block(purpose, customer.blocked_at, order_ref, order_placed_at):
        assert order_ref is not None and customer.blocked_at is not None
        return obligation_note(order_ref, customer.blocked_at)
    if confirms_block(purpose, customer.blocked_at, order_ref, notice):
        assert customer.blocked_at is not None
        return block_confirmation_note(customer.blocked_at)
    raise CustomerBlocked("processing is blocked")


def _decode(field: str, value: str | None) -> Any:
    if field == "delivery_address" and value is not None:
        return json.loads(value)
    return value
