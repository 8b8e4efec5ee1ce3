"""Pure core of the IP indicator monitor: config, regions, store, evaluation, charts.

Nothing in this package imports streamlit; pages under ``pages/`` render what it returns.
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"
POLICIES_DIR = DATA_DIR / "policies"
DEFAULT_CONFIG = PROJECT_ROOT / "indicators.yaml"
