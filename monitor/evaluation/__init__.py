"""Target evaluation: where an indicator stands against a policy target as of a month.

One engine. Every view (总览, 指标详情, the briefing, the CLI, 状态矩阵, 地图, 地区对比) evaluates
through the same vectorised rules; one region is a one-row panel.

- ``status``: the verdicts (Status, colours, order) and ``Evaluation``, the numbers behind one;
- ``panels``: reading regions × months matrices from the store, derived indicators;
- ``rules``: every target type applied to every row of a panel;
- ``applied``: a set's target applied to a region other than the set's own;
- ``words``: the one sentence per verdict;
- ``sets``: whole target sets for many regions on one read;
- ``single``: one target for one series (``evaluate_target``) and what its chart draws.
"""

from monitor.evaluation.single import MeasurePath, evaluate_target, measure_path
from monitor.evaluation.status import (
    PACE_BANDS,
    STATUS_COLORS,
    STATUS_ORDER,
    BaselineOrigin,
    Evaluation,
    Status,
    pace_band,
)
from monitor.evaluation.words import Standing, explain

__all__ = [
    "PACE_BANDS", "STATUS_COLORS", "STATUS_ORDER", "BaselineOrigin", "Evaluation", "MeasurePath", "Standing",
    "Status", "evaluate_target", "explain", "measure_path", "pace_band",
]
