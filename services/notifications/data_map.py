"""What the notifications service holds about a customer, table by table (shared.data_map).

Never an address or a name (the contact is released at send time and not kept): a person is
their customer id in the delivery log. tests/notifications/test_data_map.py checks this map
against the migrated schema.
"""

from __future__ import annotations

from dataclasses import replace

from shared.data_map import (
    BLOCKS_HOLDING,
    OUTBOX_HOLDING,
    REVOCATIONS_HOLDING,
    SHARED_UNLINKED,
    DataMap,
    Erasure,
    Holding,
    Kind,
)

DATA_MAP = DataMap(
    service="notifications",
    holdings=(
        Holding(
            table="deliveries",
            link="customer_id",
            holds="the delivery log: which message (kind, template, language, channel) was"
            " sent, skipped or failed, why (a code), for which order, the release used, when",
            kind=Kind.LINKED,
            section="notifications",
            erasure=Erasure.DEPERSONALISE,
            retention="delivery_log",
            reason="service communication (policy 3.2.6) and the evidence it was sent",
            erasure_note="customer_id and release_id (the key of the customers service's"
            " disclosure register) set NULL; the row stays unlinked until its retention",
        ),
        Holding(
            table="suppressions",
            link="customer_id",
            holds="a contact refused for good: the channel, why (hard_bounce,"
            " provider_rejected), when; never the address or number",
            kind=Kind.LINKED,
            section=None,
            not_exported="the customers service holds and exports the contact's suppression;"
            " this copy only lets a campaign that is running skip it until customers has it",
            erasure=Erasure.DELETE,
            retention="suppressions",
            reason="no marketing to a contact that cannot take it (ContactSuppressed)",
        ),
        Holding(
            table="unsubscribes",
            link="customer_id",
            holds="an unsubscribe link used: the channel, the campaign, how (one_click, page),"
            " when",
            kind=Kind.LINKED,
            section=None,
            not_exported="the withdrawal is in the customers service's consent history, which"
            " the export carries with its source; this row only keeps a second use of the same"
            " link from publishing again",
            erasure=Erasure.DELETE,
            retention="unsubscribes",
            reason="the customer's withdrawal of marketing consent, published once",
        ),
        Holding(
            table="campaigns",
            link="after_customer",
            holds="a campaign of a promotion (the promotion's public facts, counts by reason,"
            " who of the staff made it) and, while it runs, its position in the customers'"
            " keyset order: the id of the last customer of the contact batches done",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.DEPERSONALISE,
            retention="campaign_cursor",
            reason="sending a campaign to the end, once per person (marketing, policy 3.2)",
            not_exported="a position in the order of the batches; the customer's own messages"
            " of the campaign are in their delivery log",
            erasure_note="a cursor on the erased customer moves back to the campaign's previous"
            " recipient (the next batch starts there; those done are known by their rows)",
        ),
        BLOCKS_HOLDING,
        replace(
            OUTBOX_HOLDING,
            erasure_note="published bodies naming the customer id (unsubscribes, suppressions)"
            " are wiped at the erasure (the erasure waits while one is unpublished); the rest is"
            " purged after outbox_retention_s",
        ),
        REVOCATIONS_HOLDING,
    ),
    unlinked={
        **SHARED_UNLINKED,
        "policy_notices": "each published policy version to tell customers of: version,"
        " notice id, dates; no customer id (who was told is the delivery log)",
    },
)
