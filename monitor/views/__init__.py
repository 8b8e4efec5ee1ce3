"""View models: what a page shows, computed from the store and the evaluation (overview counts,
indicator detail, status matrix, map values, rankings, comparison, roll-ups, 催报) and the
figures that draw them (``charts``, one builder per chart for pages and briefing)."""
