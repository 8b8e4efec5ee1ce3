"""Output: PNG/PDF export of the figures, the briefing, spreadsheets, notifications."""
