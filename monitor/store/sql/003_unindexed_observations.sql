-- Schema version 3: observations and observation_log without primary keys or indexes.
--
-- DuckDB's ART indexes (the two primary keys and observation_log's two indexes) cost far more
-- than they gave. Building the national benchmark store (11.5 million values) took 71-80 s,
-- 3.9 GB of memory and a 2.1 GB file with them; 18-29 s, 1.0 GB and 111 MB without. Committing
-- a 463,544-value file into an empty store: 4.3 s and a 94 MB file with them, 1.7 s and 11 MB
-- without. Reading a page, previewing an upload and small commits against the national store
-- took the same time or less without them: these reads scan by indicator, region and month.
--
-- One row per (region_code, indicator_id, month) in observations is now the writer's job: it
-- deletes the keys it changes before inserting them again (monitor/writer.py, for a commit and a
-- rollback; its bulk_load writes only new keys). Two writers cannot interleave: every write transaction
-- updates the same store_meta row (Store.transaction bumps data_version), so of two
-- overlapping ones DuckDB fails the second.
--
-- observation_log.seq keeps its sequence: unique and increasing without an index, and numbering
-- 463,544 entries with nextval took the same time as max(seq) + row_number().
--
-- DuckDB cannot drop a primary key with ALTER, so both tables are rebuilt (keeping their NOT
-- NULL constraints and seq's default) and their rows copied in the order they are stored. Not
-- sorted by key: on the national benchmark store (11.5 million values) a sort took 1.6 GB more
-- memory and 8 s more, and made no measurable difference to reads, previews or commits.

CREATE TABLE observations_v3 (
    region_code  VARCHAR NOT NULL,
    indicator_id VARCHAR NOT NULL,
    month        VARCHAR NOT NULL,     -- 'YYYY-MM'
    value        DOUBLE NOT NULL,
    origin       VARCHAR NOT NULL,     -- published | demo | upload
    batch_id     INTEGER NOT NULL,
    source_url   VARCHAR,
    note         VARCHAR
);
INSERT INTO observations_v3
SELECT region_code, indicator_id, month, value, origin, batch_id, source_url, note
FROM observations;
DROP TABLE observations;
ALTER TABLE observations_v3 RENAME TO observations;

CREATE TABLE observation_log_v3 (
    seq          BIGINT  NOT NULL DEFAULT nextval('observation_log_seq'),  -- the order of writing
    batch_id     INTEGER NOT NULL,     -- the batch (a load or a rollback) that wrote this entry
    region_code  VARCHAR NOT NULL,
    indicator_id VARCHAR NOT NULL,
    month        VARCHAR NOT NULL,
    value        DOUBLE,               -- NULL: the key was removed (rollback of a new value)
    origin       VARCHAR,
    source_batch INTEGER,              -- the batch the value came from (differs for restored values)
    source_url   VARCHAR,
    note         VARCHAR,
    recorded_at  TIMESTAMP NOT NULL
);
INSERT INTO observation_log_v3
SELECT seq, batch_id, region_code, indicator_id, month, value, origin, source_batch, source_url, note, recorded_at
FROM observation_log;
DROP TABLE observation_log;            -- and its two indexes
ALTER TABLE observation_log_v3 RENAME TO observation_log;
