-- PostgreSQL variant of ../001_initial.sql (monitor/store/database.py applies it instead on a
-- postgresql:// store): DOUBLE PRECISION for DOUBLE; the JSON columns as TEXT, so a read gives the same
-- text a DuckDB read gives (psycopg would parse json into dicts).

-- Schema version 1. Months are stored as 'YYYY-MM' text: they sort and compare correctly as text
-- and read the same in SQL, CSV and the UI.

CREATE TABLE regions (
    code        VARCHAR PRIMARY KEY,   -- GB/T 2260 six-digit code, or a documented special code
    name        VARCHAR NOT NULL,
    short_name  VARCHAR NOT NULL,
    level       VARCHAR NOT NULL,      -- country | province | city | county | zone
    parent      VARCHAR
);

CREATE TABLE population (
    region_code VARCHAR NOT NULL,
    year        INTEGER NOT NULL,
    population  BIGINT  NOT NULL,
    basis       VARCHAR NOT NULL,      -- 七普常住人口 | 年末常住人口
    source_url  VARCHAR,
    PRIMARY KEY (region_code, year)
);

CREATE TABLE indicators (
    id          VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,
    unit        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    frequency   VARCHAR NOT NULL,
    direction   VARCHAR NOT NULL,
    aggregation VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    definition  TEXT NOT NULL          -- the full validated config entry
);

CREATE TABLE target_sets (
    id          VARCHAR PRIMARY KEY,
    title       VARCHAR NOT NULL,
    issuer      VARCHAR NOT NULL,
    doc_number  VARCHAR,
    issued_on   DATE,
    source      VARCHAR NOT NULL,
    region      VARCHAR NOT NULL
);

CREATE TABLE targets (
    id          VARCHAR PRIMARY KEY,
    target_set  VARCHAR NOT NULL,
    type        VARCHAR NOT NULL,
    indicator   VARCHAR,
    region      VARCHAR NOT NULL,
    value       DOUBLE PRECISION,
    deadline    VARCHAR,
    clause      VARCHAR NOT NULL,
    definition  TEXT NOT NULL
);

CREATE SEQUENCE load_batch_ids START 1;

CREATE TABLE load_batches (
    id              INTEGER PRIMARY KEY DEFAULT nextval('load_batch_ids'),
    file_name       VARCHAR NOT NULL,
    file_hash       VARCHAR NOT NULL,  -- sha256 of the file as received
    loaded_at       TIMESTAMP NOT NULL,
    loaded_by       VARCHAR NOT NULL,
    origin          VARCHAR NOT NULL,  -- published | demo | upload
    rows_total      INTEGER NOT NULL,
    rows_inserted   INTEGER NOT NULL,
    rows_updated    INTEGER NOT NULL,
    rows_unchanged  INTEGER NOT NULL,
    status          VARCHAR NOT NULL DEFAULT 'committed',
    note            VARCHAR
);

CREATE TABLE observations (
    region_code  VARCHAR NOT NULL,
    indicator_id VARCHAR NOT NULL,
    month        VARCHAR NOT NULL,     -- 'YYYY-MM'
    value        DOUBLE PRECISION NOT NULL,
    origin       VARCHAR NOT NULL,     -- published | demo | upload
    batch_id     INTEGER NOT NULL,
    source_url   VARCHAR,
    note         VARCHAR,
    PRIMARY KEY (region_code, indicator_id, month)
);

CREATE TABLE milestone_updates (
    id           INTEGER PRIMARY KEY,
    target_id    VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,     -- not_started | in_progress | done
    updated_on   DATE NOT NULL,        -- the date the status took effect
    note         VARCHAR NOT NULL,
    recorded_at  TIMESTAMP NOT NULL,
    recorded_by  VARCHAR NOT NULL
);

CREATE TABLE store_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
INSERT INTO store_meta VALUES ('data_version', '0');
