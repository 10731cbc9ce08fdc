"""What the catalog service holds about a person: nothing but ended sessions (shared.data_map).

Its other tables are listed with the reason each holds nothing about a person, so a table that
does (a promotion per customer, say) fails tests/catalog/test_data_map.py until it is mapped.
"""

from __future__ import annotations

from shared.data_map import REVOCATIONS_HOLDING, SHARED_UNLINKED, DataMap

DATA_MAP = DataMap(
    service="catalog",
    holdings=(REVOCATIONS_HOLDING,),
    unlinked={
        **SHARED_UNLINKED,
        "categories": "the catalogue's category tree (parent, ru/kk names)",
        "products": "the catalogue's products: ru/kk text, prices, stock, attributes, image"
        " addresses, archive time, row version, low-stock threshold and flag, search columns;"
        " nothing about who edited them",
        "reservations": "stock held per order id; no customer id (an order leads to a person"
        " only through the orders service, whose erasure unlinks it)",
        "reservation_lines": "quantities per reserved order id and product",
        "promotions": "discounts on products or a category for a time window; created_by is"
        " the id of the staff member who made it (a staff account, not a customer)",
        "promotion_products": "which products a promotion covers",
        # Visit statistics (policy 1.2, 1.11, 3.2.9; Law 94-V Art. 17(1)): no customer id, no
        # address, no User-Agent, no time of day, no cookie in any of them.
        "stats_hits": "one coarse row per page view: day, masked path, product, referrer host,"
        " city and region, browser and system family; destroyed after stats_raw_hits_days",
        "stats_salts": "the day's random salt of the visitor hashes; destroyed at the day's"
        " roll-up",
        "stats_visitors": "the day's visitors as salted hashes of network (/24, /48) and"
        " browser, to count them; destroyed with the salt at the day's roll-up",
        "stats_days": "hits and visitors per day (counts)",
        "stats_daily": "hits per day and value of one dimension (page, product, referrer host,"
        " city, region, browser, system); referrer and city counters go after"
        " page_hits_detail_days",
        "outbox": "catalog's events (stock reserved, rejected, low; products created, changed,"
        " archived; promotions started, ended): order, product and promotion ids, product"
        " facts, states, promotion terms",
    },
)
