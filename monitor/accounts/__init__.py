"""People: accounts and sessions (``users``), what each role may do (``access``), the audit trail
and subscriptions, all in the accounts file beside the store (docs/decisions.md says why)."""
