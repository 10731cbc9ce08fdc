"""What the customers service holds about a customer, table by table (shared.data_map).

The only service with personal data itself (the vault); export, erasure and retention of
this service follow this map, and tests/customers/test_data_map.py checks it against the
migrated schema. The data keys are in the key store, a database of their own, mapped apart
(``KEYSTORE_MAP``).
"""

from __future__ import annotations

from dataclasses import replace

from shared.data_map import (
    OUTBOX_HOLDING,
    REVOCATIONS_HOLDING,
    SHARED_UNLINKED,
    DataMap,
    Erasure,
    Holding,
    Kind,
)

ACCOUNT = "the account and its purposes (policy 3.2); Law 94-V Art. 12(2)"

DATA_MAP = DataMap(
    service="customers",
    holdings=(
        Holding(
            table="customers",
            link="id",
            holds="the account: status (blocked: since when, and the block's version), language,"
            " accepted policy version, dates, the password hash and blind indexes of the email"
            " and phone",
            kind=Kind.PERSONAL_DATA,
            section="profile",
            erasure=Erasure.DEPERSONALISE,
            retention="account",
            reason=ACCOUNT,
            erasure_note="password hash and blind indexes cleared, status 'erased' kept so the"
            " id is known to be erased",
        ),
        Holding(
            table="customer_pd",
            link="customer_id",
            holds="name, phone, email, delivery address (policy 2.2), each sealed under the"
            " customer's data key",
            kind=Kind.PERSONAL_DATA,
            section="profile",
            erasure=Erasure.SHRED,
            retention="account",
            reason=ACCOUNT,
        ),
        Holding(
            table="consents",
            link="customer_id",
            holds="every consent given or withdrawn (processing, marketing per channel,"
            " transfers abroad) with its Art. 8(4) record",
            kind=Kind.LINKED,
            section="consents",
            erasure=Erasure.KEEP_EVIDENCE,
            retention="consent_evidence",
            reason="consent is provable (Law 94-V Art. 8(1), 8(4), 22(1)(5))",
        ),
        Holding(
            table="disclosures",
            link="customer_id",
            holds="the disclosure register: each release of data (recipient, its country,"
            " purpose, fields, when, order, the campaign or notice of a contact batch, legal"
            " basis, a support lookup's reason code)",
            kind=Kind.LINKED,
            section="disclosures",
            erasure=Erasure.KEEP_EVIDENCE,
            retention="disclosure_register",
            reason="the subject's register of transfers (Law 94-V Art. 19(1), 24(1))",
        ),
        Holding(
            table="contact_suppressions",
            link="customer_id",
            holds="a channel (email, SMS) a provider refused for good: the reason code (hard"
            " bounce, provider rejection) and when; never the address",
            kind=Kind.LINKED,
            section="suppressions",
            erasure=Erasure.DELETE,
            retention="account",
            reason="no marketing sent to a contact that cannot receive it (policy 3.2.8), until"
            " the customer changes that contact",
            erasure_note="deleted when the account closes",
        ),
        Holding(
            table="audit_log",
            link="customer_id",
            holds="every use of the person's data: when, which actor, read or write, purpose,"
            " fields (hash-chained)",
            kind=Kind.LINKED,
            section="audit",
            erasure=Erasure.KEEP_EVIDENCE,
            retention="audit_log",
            reason="access by named roles only, every access logged (Law 94-V Art. 25(3))",
        ),
        Holding(
            table="audit_pending",
            link="customer_id",
            holds="audit rows not yet sealed onto the chain (seconds)",
            kind=Kind.LINKED,
            section="audit",
            erasure=Erasure.KEEP_EVIDENCE,
            retention="audit_log",
            reason="as audit_log",
        ),
        Holding(
            table="refresh_sessions",
            link="customer_id",
            holds="sign-in sessions of the API: the SHA-256 of the refresh token, family,"
            " created, expires, rotated, revoked",
            kind=Kind.LINKED,
            section="sessions",
            erasure=Erasure.DELETE,
            retention="refresh_sessions",
            reason="keeping the customer signed in (policy 3.2.1)",
        ),
        Holding(
            table="web_sessions",
            link="customer_id",
            holds="signed-in browsers of the account pages: the SHA-256 of the cookie, created,"
            " last seen, expires",
            kind=Kind.LINKED,
            section="sessions",
            erasure=Erasure.DELETE,
            retention="web_sessions",
            reason="keeping the customer signed in on the account pages (policy 3.2.1)",
        ),
        Holding(
            table="web_account_requests",
            link="customer_id",
            holds="block and delete requests made on the account pages before the register of"
            " requests existed: kind, status, when",
            kind=Kind.LINKED,
            section="requests",
            erasure=Erasure.KEEP_EVIDENCE,
            retention="subject_requests",
            reason="evidence of when the subject asked (Law 94-V Art. 25(2)(8))",
        ),
        Holding(
            table="subject_requests",
            link="customer_id",
            holds="the register of the subject's requests (block, erase, withdrawal, objection,"
            " access, ...): kind, status, filed, due, who filed and resolved, reason code,"
            " resolution, the customer's own words sealed under their data key",
            kind=Kind.LINKED,
            section="requests",
            erasure=Erasure.KEEP_EVIDENCE,
            retention="subject_requests",
            reason="each request answered on the law's clock, and provably (Law 94-V Art. 8(7),"
            " 19, 19-1, 24, 25(2)(8))",
            erasure_note="the sealed detail is shredded with the data key; kind, dates and"
            " status stay as evidence",
        ),
        Holding(
            table="legal_disclosures",
            link="customer_id",
            holds="releases to state bodies without consent (Art. 9): authority, the ground the"
            " privacy officer stated, field names, the officer, when; confidential ones with the"
            " law that forbids telling the subject",
            kind=Kind.LINKED,
            section="disclosures",
            erasure=Erasure.KEEP_EVIDENCE,
            retention="disclosure_register",
            reason="processing without consent records its Art. 9 basis (Law 94-V Art. 9, 24(1))",
            erasure_note="kept as evidence of the release; the values released are in no table."
            " A confidential one is left out of the export's disclosures while the law forbids",
        ),
        Holding(
            table="breach_subjects",
            link="customer_id",
            holds="whom a breach of security touched (breach id, customer id) and the release"
            " of their name and mobile number for the notice to the authorised body",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.KEEP_EVIDENCE,
            retention="disclosure_register",
            reason="the breach register and its notice (Law 94-V Art. 25(2)(8); order No. 481/НҚ)",
            not_exported="the operator's register of its own security incidents; the release it"
            " made of the customer's name and phone is in the export's disclosures",
            erasure_note="kept as evidence of the notice; nothing in it opens after shredding",
        ),
        Holding(
            table="transfer_notices",
            link="customer_id",
            holds="which recipients not named in the customer's consent got a release, and the"
            " transfer_notice request filed for each (ids, country, when)",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.KEEP_EVIDENCE,
            retention="subject_requests",
            reason="the notice of a transfer to a third party (Law 94-V Art. 19(1))",
            not_exported="an index of requests already filed; the requests themselves are in"
            " the export's requests and the releases in its disclosures",
        ),
        Holding(
            table="erasures",
            link="customer_id",
            holds="the progress of an erase request: state (deferred, shredded, completed),"
            " the reason it waits (a code), the references of the orders it waits for, when"
            " checked, shredded and completed",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.KEEP_EVIDENCE,
            retention="subject_requests",
            reason="the erasure answered on the law's clock, and provably (Law 94-V Art."
            " 25(2)(8), 8(2))",
            not_exported="exists only once the account is closed, when there is no signing in"
            " to export; the request's status is in 'requests'",
            erasure_note="ids, codes, order references and times: it is the evidence of the"
            " erasure itself",
        ),
        Holding(
            table="erasure_confirmations",
            link="request_id",
            via="erasures",
            holds="which service confirmed it removed the customer id, when, with counts",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.KEEP_EVIDENCE,
            retention="subject_requests",
            reason="as erasures",
            not_exported="as erasures",
        ),
        Holding(
            table="login_backoff",
            link="account",
            holds="failed sign-ins per realm, login tried (its blind index, or the customer id"
            " for password changes) and client network (/24, /48), with the last failure time",
            kind=Kind.PERSONAL_DATA,
            section=None,
            erasure=Erasure.EXPIRE,
            retention="login_backoff",
            erasure_note="the customer's own password-confirmation counters (keyed by the id)"
            " are deleted at the shredding; the others name a login's blind index, gone from"
            " the account at once",
            reason="protection against password guessing (Law 94-V Art. 22)",
            not_exported="counts of failed attempts by whoever typed the login, which need"
            " not be the customer; kept hours only",
        ),
        replace(
            OUTBOX_HOLDING,
            holds="outgoing messages until published: events with the customer id, dispatch"
            " messages with the delivery projection, sealed with the outbox cipher",
            kind=Kind.PERSONAL_DATA,
        ),
        REVOCATIONS_HOLDING,
    ),
    unlinked={
        **SHARED_UNLINKED,
        "policy_versions": "the published texts of the privacy policy",
        "staff": "employees' accounts (blind index of the work email, roles): no customer",
        "breaches": "the breach register: what happened and the measures (staff text), when"
        " detected, the notice's clock; whom it touched is breach_subjects",
        "cancelled_orders": "ids of cancelled orders, so nothing is released for them; no"
        " customer id",
    },
)

# The key store (services/customers/keystore.py): the data keys in a database of their own,
# so that a backup of the customers database above holds ciphertext only.
KEYSTORE_MAP = DataMap(
    service="keystore",
    holdings=(
        Holding(
            table="customer_keys",
            link="customer_id",
            holds="the customer's data key, wrapped by the master key (nothing else: no PD,"
            " no ciphertext); its backups are kept keystore_backup_retention_days only",
            kind=Kind.PERSONAL_DATA,
            section=None,
            erasure=Erasure.SHRED,
            retention="account",
            reason="encryption of personal data (Law 94-V Art. 22); crypto-shredding",
            not_exported="a key, not data about the person; what it unlocks is the profile",
            erasure_note="the row is destroyed (PdGate.shred): this is the shredding; gone"
            " from every backup once the key store's backups of before it expire",
        ),
    ),
    unlinked={
        "master_keys": "which master key versions exist (fingerprints)",
        "schema_migrations": "the migrations applied",
    },
)
