"""The domain: the policy config (indicators, targets), regions, population, periods, the clock.

Nothing here reads the store; everything else builds on it."""
