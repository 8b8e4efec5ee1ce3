"""View models: what a page shows, computed from the store and the evaluation (overview counts,
indicator detail, status matrix, map values, rankings, comparison, roll-ups, 催报)."""
