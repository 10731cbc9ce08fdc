"""Account use cases: registration, sign-in, profile edit, consents. Each runs in a transaction
the caller opens; the handlers stay thin and the message handlers reuse the same pieces."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.contracts import AccessRevoked, ConsentChanged, CustomerRegistered, PolicyPublished
from shared.db import DbConn
from shared.messaging import enqueue

from . import access, storage
from .domain import (
    Channel,
    Operator,
    Throttling,
    consent_record,
    cross_border_record,
    marketing_record,
    sha256_hex,
)
from .personal_data import CustomerUnavailable, PdGate, now
from .request_models import (
    LoginRequest,
    MarketingChoice,
    PolicyVersionIn,
    ProfilePatch,
    RegisterRequest,
    login_kind,
    normalise_email,
    normalise_phone,
    pd_values,
)
from .storage import Policy
from .throttle import SignInThrottle


class PolicyMismatch(Exception):
    def __init__(self, current: str) -> None:
        super().__init__("the accepted policy version is not the current one")
        self.current = current


class BadCredentials(Exception):
    """Wrong login or password; never says which."""


class PolicyAcceptanceRequired(Exception):
    def __init__(self, current: str) -> None:
        super().__init__("the current privacy policy is not accepted yet")
        self.current = current


class PolicyNotPublishable(Exception):
    """A version that would take effect before the latest one already published."""


@dataclass(frozen=True)
class SignedIn:
    subject: UUID
    roles: frozenset[str]
    policy_version: str = ""
    policy_acceptance_required: bool = False


async def existing_customer(conn: DbConn, customer_id: UUID) -> storage.CustomerRow:
    customer = await storage.get_customer(conn, customer_id)
    if customer is None or customer.status == "erased":
        raise CustomerUnavailable("unknown or erased customer")
    return customer


def marketing_history(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each marketing choice, oldest first; ``source`` for a withdrawal made outside the
    account (an email's unsubscribe link: one_click or page; a STOP by SMS: sms_stop)."""
    history = []
    for row in rows:
        if not row["kind"].startswith("marketing_"):
            continue
        entry = {
            "channel": row["kind"].removeprefix("marketing_"),
            "granted": row["granted"],
            "at": row["recorded_at"].isoformat(),
        }
        source = row["record"].get("source") if isinstance(row["record"], dict) else None
        if source:
            entry["source"] = source
        history.append(entry)
    return history


class Accounts:
    def __init__(
        self,
        gate: PdGate,
        operator: Operator,
        hasher: PasswordHasher,
        throttling: Throttling | None = None,
        access_ttl_s: int = 900,
    ) -> None:
        self.gate = gate
        self.vault = gate.vault
        self.operator = operator
        self.hasher = hasher
        self.throttle = SignInThrottle(throttling or Throttling())
        self.access_ttl_s = access_ttl_s
        # Compared against when a login is unknown, so timing does not tell accounts apart.
        self._dummy_hash = hasher.hash("not a real password")

    async def hash_password(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return (
                await asyncio.to_thread(
                    self.hasher.verify, password_hash or self._dummy_hash, password
                )
                and password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    # --- Registration --------------------------------------------------------------------
    async def register(self, conn: DbConn, request: RegisterRequest, password_hash: str) -> UUID:
        policy = await storage.current_policy(conn)
        if request.accept_policy_version != policy.version:
            raise PolicyMismatch(policy.version)
        customer_id = uuid4()
        # Two databases: the key first (the key store), then the customer here. A key whose
        # customer never commits opens nothing; the orphan chore removes it later.
        await self.gate.new_data_key(customer_id)
        try:
            await storage.insert_customer(
                conn,
                customer_id,
                locale=request.locale,
                password_hash=password_hash,
                email_index=self.vault.blind_index("email", request.email),
                phone_index=self.vault.blind_index("phone", request.phone),
                policy_version=policy.version,
            )
        except storage.Conflict:
            await self.gate.keys.destroy(customer_id)
            raise
        actor = f"customer:{customer_id}"
        await self.gate.write_pd(conn, customer_id, pd_values(request), actor)
        at = now()
        record = consent_record(
            operator=self.operator,
            subject_id=customer_id,
            policy_version=policy.version,
            policy_sha256=policy.sha256,
            accepted_at=at,
        )
        await storage.add_consent(conn, customer_id, "pd_processing", True, policy.version, record)
        await self._record_marketing(conn, customer_id, policy.version, request.marketing, {})
        await self._record_cross_border(
            conn, customer_id, policy.version, request.cross_border_transfer, {}
        )
        await enqueue(
            conn,
            CustomerRegistered(
                customer_id=customer_id,
                locale=request.locale,
                policy_version=policy.version,
                marketing_email=request.marketing.email,
                marketing_sms=request.marketing.sms,
            ),
        )
        return customer_id

    async def _record_marketing(
        self,
        conn: DbConn,
        customer_id: UUID,
        policy_version: str,
        choice: MarketingChoice,
        live: dict[str, bool],
    ) -> list[Channel]:
        """Append a row for each channel whose state changes (or is recorded the first time)."""
        changed: list[Channel] = []
        channels: tuple[Channel, ...] = ("email", "sms")
        for channel in channels:
            granted = getattr(choice, channel)
            kind = f"marketing_{channel}"
            if kind in live and live[kind] == granted:
                continue
            record = marketing_record(customer_id, channel, granted, now())
            await storage.add_consent(conn, customer_id, kind, granted, policy_version, record)
            changed.append(channel)
        return changed

    async def _record_cross_border(
        self,
        conn: DbConn,
        customer_id: UUID,
        policy_version: str,
        granted: bool,
        live: dict[str, bool],
    ) -> bool:
        """Append the choice on transfers abroad when it changes, naming the recipients
        abroad it covers today; True when a row was added. No row means no consent, so a
        registration that leaves the box unticked records nothing here."""
        if live.get("cross_border", False) == granted:
            return False
        abroad = self.gate.countries.abroad()
        record = cross_border_record(customer_id, granted, now(), abroad)
        await storage.add_consent(
            conn, customer_id, "cross_border", granted, policy_version, record
        )
        return True

    # --- Sign-in -------------------------------------------------------------------------
    def _account_key(self, login: str) -> bytes:
        """The throttle key of a login: its blind index (the same for 8701... and +7701...)."""
        try:
            if login_kind(login) == "email":
                return self.vault.blind_index("email", normalise_email(login))
            return self.vault.blind_index("phone", normalise_phone(login))
        except ValueError:
            return self.vault.throttle_key("account", login.strip().lower())

    async def login(self, conn: DbConn, request: LoginRequest, network: str) -> SignedIn:
        """Check the password; failures slow this login from this network (autocommit: do
        not call inside a transaction, the counters must survive the refusal)."""
        account = self._account_key(request.login)
        await self.throttle.check(conn, "customer", network, account)
        customer = await self._find_customer(conn, account, request.login)
        password = request.password.get_secret_value()
        if not await self._verify(customer.password_hash if customer else None, password):
            await self.throttle.failed(conn, "customer", network, account)
            raise BadCredentials
        assert customer is not None
        await self.throttle.succeeded(conn, "customer", network, account)
        await self._rehash_if_needed(conn, customer.id, customer.password_hash, password)
        await storage.mark_active(conn, customer.id)
        policy = await storage.current_policy(conn)
        return SignedIn(
            customer.id,
            frozenset(),
            policy_version=policy.version,
            policy_acceptance_required=customer.policy_version != policy.version,
        )

    async def _find_customer(
        self, conn: DbConn, index: bytes, login: str
    ) -> storage.CustomerRow | None:
        column = "email_index" if login_kind(login) == "email" else "phone_index"
        return await storage.find_login(conn, column, index)

    async def _rehash_if_needed(
        self, conn: DbConn, customer_id: UUID, password_hash: str | None, password: str
    ) -> None:
        if password_hash and self.hasher.check_needs_rehash(password_hash):
            new_hash = await self.hash_password(password)
            await storage.update_customer(conn, customer_id, password_hash=new_hash)

    async def staff_login(
        self, conn: DbConn, email: str, password: str, network: str = "unknown"
    ) -> SignedIn:
        """As ``login``, counted apart: customer sign-ins never slow a staff member's."""
        account = self._account_key(email)
        await self.throttle.check(conn, "staff", network, account)
        row = await storage.find_staff(conn, account) if "@" in email else None
        if not await self._verify(row["password_hash"] if row else None, password):
            await self.throttle.failed(conn, "staff", network, account)
            raise BadCredentials
        assert row is not None
        await self.throttle.succeeded(conn, "staff", network, account)
        if self.hasher.check_needs_rehash(row["password_hash"]):
            await storage.update_staff_hash(conn, row["id"], await self.hash_password(password))
        return SignedIn(row["id"], frozenset(row["roles"]))

    async def change_password(
        self, conn: DbConn, customer_id: UUID, current: str, new: str, network: str = "unknown"
    ) -> AccessRevoked:
        """Check the current password (throttled per customer and network), store the new
        hash and end every session (``access.end_all_sessions``). Autocommit, like login."""
        await self.confirm_password(conn, customer_id, current, network)
        new_hash = await self.hash_password(new)
        async with conn.transaction():
            await storage.update_customer(conn, customer_id, password_hash=new_hash)
            revoked = await access.end_all_sessions(conn, customer_id, self.access_ttl_s)
        return revoked

    async def confirm_password(
        self, conn: DbConn, customer_id: UUID, password: str, network: str = "unknown"
    ) -> storage.CustomerRow:
        """The signed-in customer's password again, before a change of it or an erasure:
        failures are counted per customer and network (realm ``password``) and slow the next
        try, as at sign-in. Autocommit: the counters must survive the refusal."""
        account = customer_id.bytes
        await self.throttle.check(conn, "password", network, account)
        customer = await existing_customer(conn, customer_id)
        if not await self._verify(customer.password_hash, password):
            await self.throttle.failed(conn, "password", network, account)
            raise BadCredentials
        await self.throttle.succeeded(conn, "password", network, account)
        return customer

    # --- Policy versions (policy 5.8) ----------------------------------------------------
    async def publish_policy(self, conn: DbConn, body: PolicyVersionIn, staff_id: UUID) -> Policy:
        """Append a new version and announce it (ids only); call inside a transaction."""
        latest = await storage.latest_effective_date(conn)
        if body.effective_date < now().date() or (latest and body.effective_date < latest):
            raise PolicyNotPublishable
        policy = Policy(
            version=body.version,
            effective_date=body.effective_date,
            sha256=sha256_hex(body.text_ru),
            text_ru=body.text_ru,
            text_kk=body.text_kk,
            sha256_kk=sha256_hex(body.text_kk),
        )
        await storage.insert_policy(conn, policy, staff_id)
        await enqueue(
            conn, PolicyPublished(version=policy.version, effective_date=policy.effective_date)
        )
        return policy

    async def require_current_policy(self, conn: DbConn, customer_id: UUID) -> None:
        """Refuse new processing until the customer accepted the version in effect."""
        customer = await existing_customer(conn, customer_id)
        policy = await storage.current_policy(conn)
        if customer.policy_version != policy.version:
            raise PolicyAcceptanceRequired(policy.version)

    async def accept_policy(self, conn: DbConn, customer_id: UUID, version: str) -> bool:
        """Record acceptance of the current version (append-only consent record); False when
        it was already accepted. Call inside a transaction."""
        customer = await existing_customer(conn, customer_id)
        policy = await storage.current_policy(conn)
        if version != policy.version:
            raise PolicyMismatch(policy.version)
        if customer.policy_version == policy.version:
            return False
        record = consent_record(
            operator=self.operator,
            subject_id=customer_id,
            policy_version=policy.version,
            policy_sha256=policy.sha256,
            accepted_at=now(),
        )
        await storage.add_consent(conn, customer_id, "pd_processing", True, policy.version, record)
        await storage.update_customer(conn, customer_id, policy_version=policy.version)
        return True

    async def add_staff(self, conn: DbConn, email: str, password: str, roles: list[str]) -> UUID:
        staff_id = uuid4()
        index = self.vault.blind_index("email", normalise_email(email))
        await storage.insert_staff(conn, staff_id, index, await self.hash_password(password), roles)
        return staff_id

    # --- Profile -------------------------------------------------------------------------
    async def patch_profile(self, conn: DbConn, customer_id: UUID, patch: ProfilePatch) -> None:
        await existing_customer(conn, customer_id)
        email_index = self.vault.blind_index("email", patch.email) if patch.email else None
        phone_index = self.vault.blind_index("phone", patch.phone) if patch.phone else None
        # A new email or phone is a new chance for what the provider refused on the old one.
        await storage.clear_changed_contacts(conn, customer_id, email_index, phone_index)
        await storage.update_customer(
            conn, customer_id, locale=patch.locale, email_index=email_index, phone_index=phone_index
        )
        values = pd_values(patch)
        if values:
            await self.gate.write_pd(conn, customer_id, values, f"customer:{customer_id}")

    async def profile(self, conn: DbConn, customer_id: UUID, actor: str) -> dict[str, Any]:
        customer = await existing_customer(conn, customer_id)
        pd = await self.gate.read_pd(conn, customer_id, "identification", actor)
        return {
            "id": str(customer_id),
            **pd,
            "locale": customer.locale,
            "status": customer.status,
            "created_at": customer.created_at.isoformat(),
        }

    # --- Consents ------------------------------------------------------------------------
    async def consents(self, conn: DbConn, customer_id: UUID) -> dict[str, Any]:
        customer = await existing_customer(conn, customer_id)
        live = await storage.live_consents(conn, customer_id)
        return {
            "policy_version": customer.policy_version,
            "marketing": {
                "email": live.get("marketing_email", False),
                "sms": live.get("marketing_sms", False),
            },
            "cross_border_transfer": live.get("cross_border", False),
            "recipients_abroad": self.gate.countries.abroad(),
            "marketing_history": marketing_history(
                await storage.consent_history(conn, customer_id)
            ),
        }

    async def set_marketing(
        self, conn: DbConn, customer_id: UUID, choice: MarketingChoice
    ) -> list[Channel]:
        customer = await existing_customer(conn, customer_id)
        live = await storage.live_consents(conn, customer_id)
        changed = await self._record_marketing(
            conn, customer_id, customer.policy_version, choice, live
        )
        for channel in changed:
            await enqueue(
                conn,
                ConsentChanged(
                    customer_id=customer_id,
                    channel=channel,
                    granted=getattr(choice, channel),
                ),
            )
        return changed

    async def set_cross_border(self, conn: DbConn, customer_id: UUID, granted: bool) -> bool:
        """Give or withdraw the consent to transfers abroad (append-only); True if changed."""
        customer = await existing_customer(conn, customer_id)
        live = await storage.live_consents(conn, customer_id)
        return await self._record_cross_border(
            conn, customer_id, customer.policy_version, granted, live
        )
