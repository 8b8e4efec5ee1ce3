-- Schema version 7: approval before publish (docs/decisions.md D6).
--
-- An upload committed while approval is required (monitor/approval.py) is 待审核: its values are
-- written to observations and observation_log like any other batch's, so the uploader and the
-- reviewers see them, but the official view (official_observations, below) leaves them out until
-- a reviewer approves the batch. A returned batch is rolled back (monitor/history.py
-- rollback_batch), so nothing of it stays.
--
-- review: NULL  the batch never needed approval (published or demo data, approval off, rollbacks)
--         pending | approved | returned
ALTER TABLE load_batches ADD COLUMN review VARCHAR;
ALTER TABLE load_batches ADD COLUMN reviewed_by VARCHAR;
ALTER TABLE load_batches ADD COLUMN reviewed_at TIMESTAMP;
ALTER TABLE load_batches ADD COLUMN review_note VARCHAR;    -- the reason a batch was returned

-- The observations every official page, export and evaluation reads: the stored ones, except that
-- a key whose current value comes from a pending batch shows the value it had before (the last log
-- entry written by a batch that is not pending), or is absent when it had none. Pending batches
-- are few and small, so the second part reads the log only for their keys; with none pending the
-- view costs one anti-join against an empty list.
CREATE VIEW official_observations AS
WITH pending AS (SELECT id FROM load_batches WHERE review = 'pending'),
held AS (SELECT region_code, indicator_id, month FROM observations WHERE batch_id IN (SELECT id FROM pending))
SELECT region_code, indicator_id, month, value, origin, batch_id, source_url, note
FROM observations WHERE batch_id NOT IN (SELECT id FROM pending)
UNION ALL
SELECT region_code, indicator_id, month, value, origin, source_batch AS batch_id, source_url, note FROM (
    SELECT l.* FROM observation_log l SEMI JOIN held USING (region_code, indicator_id, month)
    WHERE l.batch_id NOT IN (SELECT id FROM pending)
      AND coalesce(l.source_batch, -1) NOT IN (SELECT id FROM pending)  -- nor a value one restored
    QUALIFY row_number() OVER (PARTITION BY l.region_code, l.indicator_id, l.month ORDER BY l.seq DESC) = 1)
WHERE value IS NOT NULL;
