"""The verdicts: what a status is called, its colour and order, and the numbers behind one verdict."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal


class Status(str, Enum):
    """The verdict on one target; the value is the label users see."""

    ACHIEVED = "已达成"
    ON_TRACK = "按期推进"
    NEEDS_ACCELERATION = "需加快"  # behind the straight line, but the projection reaches the target
    BEHIND = "滞后"
    MISSED = "未达成"  # deadline passed, not reached
    NO_DATA = "无数据"
    NOT_STARTED = "未开始"  # the as-of month is before the measured period begins


STATUS_ORDER: tuple[Status, ...] = (
    Status.ACHIEVED,
    Status.ON_TRACK,
    Status.NEEDS_ACCELERATION,
    Status.BEHIND,
    Status.MISSED,
    Status.NO_DATA,
    Status.NOT_STARTED,
)

# Traffic-light colours, from good to bad, then the two "nothing to judge yet" greys.
STATUS_COLORS: dict[Status, str] = {
    Status.ACHIEVED: "#1a9641",
    Status.ON_TRACK: "#4db6ac",
    Status.NEEDS_ACCELERATION: "#f5a623",
    Status.BEHIND: "#e8590c",
    Status.MISSED: "#a50f15",
    Status.NO_DATA: "#9e9e9e",
    Status.NOT_STARTED: "#d9d9d9",
}

PACE_BANDS: tuple[str, ...] = ("≥1", "0.5–1", "0–0.5", "<0")

BaselineOrigin = Literal["document", "observed"]


@dataclass(frozen=True)
class Evaluation:
    """Where one target stands as of a month, with the numbers behind the status."""

    target_id: str
    status: Status
    as_of: str
    measure: str  # what is measured, e.g. "有效发明专利拥有量", "2022年新增", "2022年累计（1—当月）"
    unit: str
    current: float | None
    current_period: str | None  # the observation month used, never after as_of (nor after a passed deadline)
    target_value: float | None  # in the same terms as current
    baseline: float | None
    baseline_period: str | None
    baseline_origin: BaselineOrigin | None
    expected_now: float | None  # on the straight line from baseline to target at current_period
    progress: float | None  # share of the distance baseline → target covered (may be < 0 or > 1)
    gap: float | None  # how far short of the target in the target's direction (> 0 short, <= 0 reached)
    months_left: int | None
    needed_per_month: float | None
    projection: float | None  # value projected at the deadline
    projection_method: str | None
    pace_ratio: float | None  # observed pace ÷ required pace
    pace_band: str | None
    reference_value: float | None = None  # above_reference: the reference region's value
    explanation: str = ""  # one Chinese sentence saying why


def pace_band(ratio: float) -> str:
    """The band of a pace ratio: "≥1", "0.5–1", "0–0.5" or "<0"."""
    if ratio >= 1:
        return PACE_BANDS[0]
    if ratio >= 0.5:
        return PACE_BANDS[1]
    if ratio >= 0:
        return PACE_BANDS[2]
    return PACE_BANDS[3]

