"""Output: charts, number formatting, PNG/PDF export, the briefing, spreadsheets, notifications."""
