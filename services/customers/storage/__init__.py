"""PostgreSQL access of the customers service: plain SQL, functions taking a connection.

Only ciphertexts, blind indexes, ids and hashes pass through here; the crypto module and
``personal_data.py`` turn them into personal data in memory. One module per aggregate; this
package names them all, so callers write ``storage.current_policy`` wherever it lives.
"""

from __future__ import annotations

from .audit import (
    AUDIT_LOCK,
    append_audit,
    append_audit_many,
    chain_pending_audit,
    first_broken_audit_row,
    seal_all_pending_audit,
    verify_audit_chain,
)
from .breaches import (
    BreachRow,
    breach_subjects,
    get_breach,
    insert_breach,
    known_customers,
    mark_notice_sent,
    page_of_breaches,
    set_subject_release,
)
from .consents import add_consent, consent_history, latest_record, live_consents
from .customers import (
    BlockState,
    Conflict,
    CustomerRow,
    find_login,
    get_customer,
    insert_customer,
    lock_block_state,
    set_block_state,
    update_customer,
)
from .encrypted import (
    count_keys_not_at,
    delete_fields,
    delete_key,
    get_fields,
    keys_to_rewrap,
    master_key_version,
    put_fields,
    put_rewrapped,
    register_master_key,
    wrapped_key,
)
from .legal_disclosures import (
    LegalDisclosureRow,
    insert_legal_disclosure,
    page_of_legal_disclosures,
)
from .policy import Policy, current_policy, insert_policy, latest_effective_date
from .releases import (
    add_disclosure,
    add_disclosures_many,
    claim_transfer_notice,
    contact_sources,
    disclosures,
    order_cancelled,
    remember_cancelled_order,
    transfer_notice_filed,
)
from .requests import (
    customer_requests,
    desk_requests,
    get_request,
    insert_request,
    lock_request,
    open_requests,
    update_request,
)
from .sessions import (
    end_web_sessions,
    insert_session,
    lock_session,
    mark_rotated,
    revoke_customer_sessions,
    revoke_family,
)
from .staff import find_staff, insert_staff, update_staff_hash

__all__ = [
    "AUDIT_LOCK",
    "BlockState",
    "BreachRow",
    "Conflict",
    "CustomerRow",
    "LegalDisclosureRow",
    "Policy",
    "add_consent",
    "add_disclosure",
    "add_disclosures_many",
    "append_audit",
    "append_audit_many",
    "breach_subjects",
    "chain_pending_audit",
    "claim_transfer_notice",
    "consent_history",
    "contact_sources",
    "count_keys_not_at",
    "current_policy",
    "customer_requests",
    "delete_fields",
    "delete_key",
    "desk_requests",
    "disclosures",
    "end_web_sessions",
    "find_login",
    "find_staff",
    "first_broken_audit_row",
    "get_breach",
    "get_customer",
    "get_fields",
    "get_request",
    "insert_breach",
    "insert_customer",
    "insert_legal_disclosure",
    "insert_policy",
    "insert_request",
    "insert_session",
    "insert_staff",
    "keys_to_rewrap",
    "known_customers",
    "latest_effective_date",
    "latest_record",
    "live_consents",
    "lock_block_state",
    "lock_request",
    "lock_session",
    "mark_notice_sent",
    "mark_rotated",
    "master_key_version",
    "open_requests",
    "order_cancelled",
    "page_of_breaches",
    "page_of_legal_disclosures",
    "put_fields",
    "put_rewrapped",
    "register_master_key",
    "remember_cancelled_order",
    "revoke_customer_sessions",
    "revoke_family",
    "seal_all_pending_audit",
    "set_block_state",
    "set_subject_release",
    "transfer_notice_filed",
    "update_customer",
    "update_request",
    "update_staff_hash",
    "verify_audit_chain",
    "wrapped_key",
]
