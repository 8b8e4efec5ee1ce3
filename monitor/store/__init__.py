"""The store: the DuckDB file and its migrations, the one writer of observations
(``writer``), reading series and readings back, history and the as-published view, approval,
tasks' progress, and the audit outbox committed with each write."""
