-- PostgreSQL variant of ../005_audit_outbox.sql: DOUBLE PRECISION for DOUBLE.

-- Schema version 5: the audit outbox and confirmations (docs/decisions.md D3, D5).
--
-- audit_outbox: the audit record of a write, committed in the same transaction as the write
-- itself (a load, a rollback, a task's progress, a demo reset). The audit trail lives in the
-- accounts file (monitor/access.py says why), so a process killed between the store's commit and
-- the trail's would leave a batch nobody is recorded as having written. Instead each writer adds
-- its row here; monitor/outbox.py moves the rows to the trail right after the commit and again at
-- every later open of the store. Each row carries a unique id that the trail keeps (a unique
-- index): moving a row twice, after a kill between the trail's commit and the deletion here,
-- records it once.
CREATE TABLE audit_outbox (
    id        VARCHAR NOT NULL,        -- uuid4 hex; the trail's outbox_id
    occurred  VARCHAR NOT NULL,        -- when the write happened (product clock, to the second)
    actor     VARCHAR NOT NULL,
    action    VARCHAR NOT NULL,        -- monitor/audit.py ACTIONS
    outcome   VARCHAR NOT NULL,
    target    VARCHAR,
    detail    VARCHAR,
    client    VARCHAR,
    via       VARCHAR,
    staged_at TIMESTAMP NOT NULL       -- the order of writing
);

-- observation_confirmations: a key a batch re-reported with the value already stored. Such a key
-- is not rewritten (observations and observation_log hold changes only), but it counts as
-- touched: rolling back the batch that first wrote the value keeps it when a later committed
-- batch confirmed it (monitor/history.py rollback_batch). seq comes from the log's sequence, so a
-- confirmation and the log entries of its key are in one order.
CREATE TABLE observation_confirmations (
    seq          BIGINT  NOT NULL DEFAULT nextval('observation_log_seq'),
    batch_id     INTEGER NOT NULL,
    region_code  VARCHAR NOT NULL,
    indicator_id VARCHAR NOT NULL,
    month        VARCHAR NOT NULL,
    value        DOUBLE PRECISION  NOT NULL,
    origin       VARCHAR NOT NULL,
    source_url   VARCHAR,
    note         VARCHAR,
    recorded_at  TIMESTAMP NOT NULL
);
