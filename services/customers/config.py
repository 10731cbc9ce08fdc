"""Settings of the customers service: the shared ones plus keys, operator and PD-store region."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, SecretStr, field_validator

from shared.settings import ServiceSettings

REQUIRED_REGION = "KZ"


class KeyConfigError(ValueError):
    """A key is missing or malformed; the service refuses to start."""


class StoreSettings(ServiceSettings):
    """The customers' two databases: what ``migrate`` and the backup command need (no keys)."""

    # The key store: the customers' data keys in a PostgreSQL database of their own, whose
    # backups are kept briefly (README "Backups"). In production on a cluster of its own (a
    # physical backup of one cluster would carry both); empty: the customers database's name
    # with "_keystore" on the same server (local runs).
    keystore_database_url: str = ""
    keystore_pool_size: int = Field(default=5, ge=1, le=50)
    # A key older than this whose customer does not exist is an orphan of a registration that
    # rolled back; the chore destroys it (every keystore_orphan_sweep_s).
    keystore_orphan_after_s: int = Field(default=600, ge=60)
    keystore_orphan_sweep_s: float = Field(default=300, gt=0)
    # How long a backup of the key store is kept (`keys backup` prunes older ones): the longest
    # a shredded customer can be brought back from a backup.
    keystore_backup_retention_days: int = Field(default=7, ge=1, le=30)

    def keystore_dsn(self) -> str:
        """Where the key store is: the setting, or ``<customers database>_keystore``."""
        if self.keystore_database_url.strip():
            return self.keystore_database_url
        return derived_keystore_url(self.database_url)


class Settings(StoreSettings):
    # Ed25519 private key (PEM) that signs access tokens; the public key is derived from it.
    jwt_private_key: SecretStr = SecretStr("")
    jwt_private_key_file: Path | None = None
    # 32 random bytes, base64: wraps every customer's data key and keys the outbox cipher.
    master_key: SecretStr = SecretStr("")
    master_key_file: Path | None = None
    # The master key before a rotation, tried when the current one does not open a data key
    # (set it while `keys rotate-master` runs; remove it once the rotation is done).
    previous_master_key: SecretStr = SecretStr("")
    previous_master_key_file: Path | None = None
    # Random bytes (>= 32), base64: keys the blind index of emails and phones.
    blind_index_key: SecretStr = SecretStr("")
    blind_index_key_file: Path | None = None
    # The operator named in every consent record (Law 94-V art. 8(4)).
    operator_name: str = "ТОО «Коллекторское агентство «Jetu»"
    operator_bin: str = Field(default="240440017017", pattern=r"^\d{12}$")
    # The person responsible for organising the processing of PD (art. 25(3)), named with
    # a contact in every breach notice to the authorised body (order No. 481/НҚ).
    privacy_officer_name: str = "Ответственный за организацию обработки персональных данных"
    privacy_officer_contact: str = "privacy@jetu.kz"
    # Where the PD database is (Law 94-V art. 12(2)): anything but KZ refuses to start.
    pd_store_region: str = ""
    orders_url: str = ""
    notifications_url: str = ""
    access_token_ttl_s: int = Field(default=900, ge=60, le=24 * 3600)
    couriers: tuple[str, ...] = ("sandbox",)
    # Where each recipient of a release is (ISO 3166-1 alpha-2; Law 94-V art. 16): per courier
    # and bank code (JSON objects, e.g. {"sandbox": "KZ"}), the mail and SMS providers
    # notifications sends through, the support staff. Unlisted: KZ. A recipient elsewhere
    # gets a release only from a customer who consented to transfers abroad.
    courier_countries: dict[str, str] = Field(default_factory=dict)
    bank_countries: dict[str, str] = Field(default_factory=dict)
    mail_provider_country: str = "KZ"
    sms_provider_country: str = "KZ"
    support_country: str = "KZ"
    # Support sees a customer's contact for an open order, or one closed at most this long ago.
    support_window_days: int = Field(default=30, ge=1, le=366)
    # Erasure deferred by an open order or refund (or orders not answering) is asked again
    # after this long; an order event brings the check forward. The chore looks for due
    # checks every ERASURE_CHORE_INTERVAL_S.
    erasure_recheck_s: float = Field(default=300, gt=0)
    # How long DELETE /me waits for the other services' confirmations before it answers
    # in_progress instead of completed (0: answer at once).
    erasure_answer_wait_s: float = Field(default=3, ge=0, le=30)
    erasure_chore_interval_s: float = Field(default=5, gt=0)
    # The refresh session cookie (HttpOnly, SameSite=Strict, Path=/api/customers).
    refresh_ttl_s: int = Field(default=30 * 24 * 3600, ge=300)
    refresh_cookie_secure: bool = True  # turn off only for plain-http tests and dev
    # Sign-in throttling: past the free failures of an (account, client network) the next
    # attempt from that network waits 2^k s (capped); never a lock of the account itself.
    login_free_failures_account: int = Field(default=5, ge=1)
    login_free_failures_network: int = Field(default=50, ge=1)
    login_max_delay_s: int = Field(default=900, ge=1)
    login_forget_after_s: int = Field(default=24 * 3600, ge=60)
    # The operator's own deadline for a request of access (the law sets none; the
    # self-service export answers at once), in working days of Kazakhstan.
    access_request_working_days: int = Field(default=10, ge=1, le=30)
    # argon2id cost (RFC 9106 second recommendation by default); lower only in tests.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8 * 1024)
    # Retention (services/customers/retention.py): refresh sessions are deleted this long
    # after they expire, account-page sessions this long after theirs.
    refresh_session_retention_days: float = Field(default=7.0, ge=0)
    web_session_retention_days: float = Field(default=1.0, ge=0)
    # An account nobody signed in to for this long is told it will be erased, and erased
    # (an erasure request filed by retention) when still unused this long after the notice.
    inactive_account_days: float = Field(default=3 * 365.0, ge=30)
    inactivity_notice_days: float = Field(default=60.0, ge=7)

    @field_validator("pd_store_region")
    @classmethod
    def _region_is_kz(cls, value: str) -> str:
        if value.strip().upper() != REQUIRED_REGION:
            raise ValueError(
                "the personal-data store must be declared in Kazakhstan"
                " (PD_STORE_REGION=KZ, Law 94-V art. 12(2))"
            )
        return REQUIRED_REGION

    @field_validator("couriers")
    @classmethod
    def _courier_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not code or not all(c.isascii() and (c.isalnum() or c in "_-") for c in code):
                raise ValueError("courier codes are lower-case letters, digits, '_' or '-'")
        return value

    @field_validator("mail_provider_country", "sms_provider_country", "support_country")
    @classmethod
    def _country(cls, value: str) -> str:
        return _country_code(value)

    @field_validator("courier_countries", "bank_countries")
    @classmethod
    def _countries(cls, value: dict[str, str]) -> dict[str, str]:
        return {code: _country_code(country) for code, country in value.items()}

    def private_key_pem(self) -> str:
        return _text(self.jwt_private_key, self.jwt_private_key_file, "JWT_PRIVATE_KEY")

    def public_key_pem(self) -> str:
        """The verification key: configured, or derived from the signing key."""
        if self.jwt_public_key or self.jwt_public_key_file:
            return super().public_key_pem()
        return self.signing_public_key_pem()

    def signing_public_key_pem(self) -> str:
        """The public half of the signing key (what the JWKS publishes)."""
        key = serialization.load_pem_private_key(self.private_key_pem().encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyConfigError("JWT_PRIVATE_KEY must be an Ed25519 private key")
        return (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def master_key_bytes(self) -> bytes:
        key = _key_bytes(self.master_key, self.master_key_file, "MASTER_KEY")
        if len(key) != 32:
            raise KeyConfigError("MASTER_KEY must be 32 bytes (base64)")
        return key

    def previous_master_key_bytes(self) -> bytes | None:
        if not (self.previous_master_key.get_secret_value() or self.previous_master_key_file):
            return None
        key = _key_bytes(
            self.previous_master_key, self.previous_master_key_file, "PREVIOUS_MASTER_KEY"
        )
        if len(key) != 32:
            raise KeyConfigError("PREVIOUS_MASTER_KEY must be 32 bytes (base64)")
        return key

    def blind_index_key_bytes(self) -> bytes:
        key = _key_bytes(self.blind_index_key, self.blind_index_key_file, "BLIND_INDEX_KEY")
        if len(key) < 32:
            raise KeyConfigError("BLIND_INDEX_KEY must be at least 32 bytes (base64)")
        return key


def _country_code(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise ValueError("a country is an ISO 3166-1 alpha-2 code, e.g. KZ")
    return code


def _text(value: SecretStr, file: Path | None, name: str) -> str:
    if value.get_secret_value():
        return value.get_secret_value()
    if file is not None:
        return file.read_text()
    raise KeyConfigError(f"no {name} configured ({name} or {name}_FILE)")


def _key_bytes(value: SecretStr, file: Path | None, name: str) -> bytes:
    text = _text(value, file, name).strip()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{name} is not valid base64") from None


def key_from_file(path: Path, name: str) -> bytes:
    """A base64 key read from a file (e.g. the new master key of a rotation)."""
    return _key_bytes(SecretStr(""), path, name)


def derived_keystore_url(database_url: str) -> str:
    """``postgresql://h/shop_customers?x`` -> ``postgresql://h/shop_customers_keystore?x``."""
    base, _, rest = database_url.rpartition("/")
    name, mark, query = rest.partition("?")
    return f"{base}/{name}_keystore{mark}{query}"
