-- PostgreSQL variant of ../008_corrections.sql: DOUBLE PRECISION for DOUBLE.

-- Schema version 8: the reporting calendar and corrections (更正) to closed periods.
--
-- reporting_calendar mirrors indicators.yaml's ``reporting`` block per stored indicator
-- (monitor/store/database.py sync_reference), so the writer decides inside a commit's own
-- transaction, whatever door it came through, which of the values it changes belong to a closed
-- period (monitor/store/writer.py).
CREATE TABLE reporting_calendar (
    indicator_id     VARCHAR PRIMARY KEY,
    due_rule         VARCHAR NOT NULL,   -- a day of the following month ('15') or MM-DD of the following year ('03-31')
    close_after_days INTEGER             -- NULL: the indicator's periods never close
);

-- a batch that changes values of closed periods is a correction: the reason its uploader gave
ALTER TABLE load_batches ADD COLUMN correction_reason VARCHAR;

-- one row per value a correction batch changed in a closed period: what it replaced, and since
-- when the period was closed. A value is flagged 更正 while the batch that wrote it is one of these.
CREATE TABLE observation_corrections (
    batch_id     INTEGER NOT NULL,
    region_code  VARCHAR NOT NULL,
    indicator_id VARCHAR NOT NULL,
    month        VARCHAR NOT NULL,
    old_value    DOUBLE PRECISION,
    value        DOUBLE PRECISION NOT NULL,
    closed_on    DATE NOT NULL
);
