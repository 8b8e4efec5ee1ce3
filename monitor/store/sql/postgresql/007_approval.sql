-- PostgreSQL variant of ../007_approval.sql: the same columns and the same view, written without
-- DuckDB's SEMI JOIN and QUALIFY (EXISTS, and row_number() in a subquery, mean the same).
ALTER TABLE load_batches ADD COLUMN review VARCHAR;
ALTER TABLE load_batches ADD COLUMN reviewed_by VARCHAR;
ALTER TABLE load_batches ADD COLUMN reviewed_at TIMESTAMP;
ALTER TABLE load_batches ADD COLUMN review_note VARCHAR;    -- the reason a batch was returned

CREATE VIEW official_observations AS
WITH pending AS (SELECT id FROM load_batches WHERE review = 'pending'),
held AS (SELECT region_code, indicator_id, month FROM observations WHERE batch_id IN (SELECT id FROM pending))
SELECT region_code, indicator_id, month, value, origin, batch_id, source_url, note
FROM observations WHERE batch_id NOT IN (SELECT id FROM pending)
UNION ALL
SELECT region_code, indicator_id, month, value, origin, source_batch AS batch_id, source_url, note FROM (
    SELECT l.*, row_number() OVER (PARTITION BY l.region_code, l.indicator_id, l.month ORDER BY l.seq DESC) AS newest
    FROM observation_log l
    WHERE EXISTS (SELECT 1 FROM held h WHERE h.region_code = l.region_code AND h.indicator_id = l.indicator_id
                  AND h.month = l.month)
      AND l.batch_id NOT IN (SELECT id FROM pending)
      AND coalesce(l.source_batch, -1) NOT IN (SELECT id FROM pending)) AS last  -- nor a value one restored
WHERE newest = 1 AND value IS NOT NULL;
