"""What the notifications service holds about a customer, table by table (shared.data_map).

Never an address or a name (the contact is released at send time and not kept): a person is
their customer id in the delivery log. tests/notifications/test_data_map.py checks this map
against the migrated schema.
"""

from __future__ import annotations

from shared.data_map import (
    BLOCKS_HOLDING,
    SHARED_HOLDINGS,
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
        BLOCKS_HOLDING,
        *SHARED_HOLDINGS,
    ),
    unlinked=dict(SHARED_UNLINKED),
)
