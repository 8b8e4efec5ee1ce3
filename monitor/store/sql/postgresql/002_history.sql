-- PostgreSQL variant of ../002_history.sql: DOUBLE PRECISION for DOUBLE, BYTEA for BLOB.

-- Schema version 2: history. Every value ever written is kept in observation_log (append-only),
-- so a batch can be rolled back to exactly the values it replaced, and the store can be read
-- "as published" at any moment. The uploaded files themselves are kept, content-addressed.

CREATE SEQUENCE observation_log_seq START 1;

CREATE TABLE observation_log (
    seq          BIGINT  PRIMARY KEY DEFAULT nextval('observation_log_seq'),
    batch_id     INTEGER NOT NULL,     -- the batch (a load or a rollback) that wrote this entry
    region_code  VARCHAR NOT NULL,
    indicator_id VARCHAR NOT NULL,
    month        VARCHAR NOT NULL,
    value        DOUBLE PRECISION,               -- NULL: the key was removed (rollback of a new value)
    origin       VARCHAR,
    source_batch INTEGER,              -- the batch the value came from (differs for restored values)
    source_url   VARCHAR,
    note         VARCHAR,
    recorded_at  TIMESTAMP NOT NULL
);
CREATE INDEX observation_log_key ON observation_log (region_code, indicator_id, month);
CREATE INDEX observation_log_batch ON observation_log (batch_id);

-- the files as received; load_batches.file_hash refers here
CREATE TABLE upload_files (
    file_hash   VARCHAR PRIMARY KEY,
    file_name   VARCHAR NOT NULL,      -- the name it was first received under (display only)
    size        BIGINT  NOT NULL,
    content     BYTEA   NOT NULL,
    stored_at   TIMESTAMP NOT NULL
);

ALTER TABLE load_batches ADD COLUMN kind VARCHAR DEFAULT 'load';        -- load | rollback
ALTER TABLE load_batches ADD COLUMN rolls_back INTEGER;                 -- for kind = rollback
ALTER TABLE load_batches ADD COLUMN rolled_back_by INTEGER;             -- set on a rolled-back load
ALTER TABLE load_batches ADD COLUMN rows_warnings INTEGER DEFAULT 0;
ALTER TABLE load_batches ADD COLUMN sheet VARCHAR;
ALTER TABLE load_batches ADD COLUMN period VARCHAR;                     -- the period option or title period
ALTER TABLE load_batches ADD COLUMN file_format VARCHAR;                -- e.g. "CSV 文本，编码 GBK/GB18030，逗号分隔"

-- what was loaded before this version becomes the first entry of each key's history
INSERT INTO observation_log (batch_id, region_code, indicator_id, month, value, origin, source_batch, source_url,
                             note, recorded_at)
SELECT o.batch_id, o.region_code, o.indicator_id, o.month, o.value, o.origin, o.batch_id, o.source_url, o.note,
       coalesce(b.loaded_at, now())
FROM observations o LEFT JOIN load_batches b ON b.id = o.batch_id
ORDER BY b.loaded_at, o.region_code, o.indicator_id, o.month;
