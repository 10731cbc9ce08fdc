-- Visit statistics with places, browsers and systems (policy 1.2, 1.11, 3.2.9, 4.4; Law 94-V
-- art. 17(1): statistics hold depersonalised data only). The beacon appends one raw hit per
-- page view, already coarse: the day, the masked path, the product, the referrer's host, the
-- city and region, the browser's and the system's family. Never an address, a user agent, a
-- customer id or a time of day. Each ended day is rolled up into daily counters per
-- dimension (stats_daily), each dimension on its own, so no combination of them outlives the
-- raw hits, which retention destroys after stats_raw_hits_days.

CREATE TABLE stats_hits (
    day           date NOT NULL,
    path          text NOT NULL,
    product_id    uuid,
    referrer_host text NOT NULL DEFAULT '',
    city          text NOT NULL DEFAULT '',
    region        text NOT NULL DEFAULT '',
    browser       text NOT NULL DEFAULT '',
    os            text NOT NULL DEFAULT ''
);
CREATE INDEX stats_hits_day ON stats_hits (day);

-- The day's visitors as salted hashes (the salt of the day below); both are destroyed when
-- the day is rolled up, so a visitor cannot be followed from one day to the next.
CREATE TABLE stats_salts (
    day  date  PRIMARY KEY,
    salt bytea NOT NULL
);
CREATE TABLE stats_visitors (
    day     date  NOT NULL,
    visitor bytea NOT NULL,
    PRIMARY KEY (day, visitor)
);

-- One row per rolled-up day: its totals. A day without a row here is read from stats_hits.
CREATE TABLE stats_days (
    day       date        PRIMARY KEY,
    hits      bigint      NOT NULL,
    visitors  bigint      NOT NULL,
    rolled_at timestamptz NOT NULL DEFAULT now()
);

-- The day's hits per value of one dimension; detail is the region of a city, else ''.
CREATE TABLE stats_daily (
    day       date   NOT NULL,
    dimension text   NOT NULL
              CHECK (dimension IN ('page', 'product', 'referrer', 'city', 'region', 'browser',
                                   'os')),
    value     text   NOT NULL,
    detail    text   NOT NULL DEFAULT '',
    hits      bigint NOT NULL,
    PRIMARY KEY (day, dimension, value, detail)
);

-- The old day counters become the new daily counters of the dimensions they had.
INSERT INTO stats_daily (day, dimension, value, detail, hits)
SELECT day, 'page', path, '', sum(hits) FROM page_hits GROUP BY day, path
UNION ALL
SELECT day, 'referrer', referrer_host, '', sum(hits) FROM page_hits GROUP BY day, referrer_host
UNION ALL
SELECT day, 'city', city, region, sum(hits) FROM page_hits GROUP BY day, city, region
UNION ALL
SELECT day, 'region', region, '', sum(hits) FROM page_hits GROUP BY day, region;

INSERT INTO stats_days (day, hits, visitors)
SELECT day, sum(hits), 0 FROM page_hits GROUP BY day;

DROP TABLE page_hits;
