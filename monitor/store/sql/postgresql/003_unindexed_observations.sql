-- PostgreSQL variant of ../003_unindexed_observations.sql.
--
-- As on DuckDB, observations loses its primary key: one row per key is the writer's job
-- (monitor/store/writer.py deletes a key's old row before inserting its new one), so the same
-- writer code runs on both engines. Unlike DuckDB's ART indexes, PostgreSQL's B-tree indexes are
-- cheap to keep and are what make a small commit or rollback against a national store touch only
-- its own keys (the writer's diff, DELETE … USING and the rollback's history reads join on the
-- key): observations keeps a plain (non-unique) index on the key, and observation_log keeps its
-- primary key on seq (the read mirror, monitor/store/mirror.py, reads the log from a seq on) and
-- its two indexes from schema 2.
ALTER TABLE observations DROP CONSTRAINT observations_pkey;
CREATE INDEX observations_key ON observations (region_code, indicator_id, month);
