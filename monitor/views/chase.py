"""催报: for a month, who still owes which values, since when, and whom to ask.

Built on the month's completeness (monitor/store/history.py): every (region, indicator) still 未报送,
with its due date (the indicator's, from the reporting calendar in indicators.yaml), the days it is
overdue as of the product's today, and the region's contacts: the enabled accounts that may
upload and whose region scope covers it (an account limited to 晋城市 answers for 晋城市 and its
counties). Accounts without a region limit (provincial staff, administrators) answer for
everything and so are nobody's contact in particular: they are not listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

from monitor.accounts.users import ROLES, Account, allowed_regions
from monitor.store.history import Completeness

OWED_COLUMNS = ["region_code", "region_name", "indicator_id", "indicator_name", "month", "due", "days_overdue",
                "contacts", "emails"]
BY_REGION_COLUMNS = ["region_code", "region_name", "owed", "indicators", "due", "days_overdue", "contacts", "emails"]
# The chase lists as people read them (报送情况, the CLI, the files both write): one header per column.
OWED_HEADERS = {"region_code": "地区代码", "region_name": "地区", "indicator_name": "指标", "month": "月份",
                "due": "截止日期", "days_overdue": "逾期天数", "contacts": "联系人", "emails": "联系邮箱"}
BY_REGION_HEADERS = {"region_name": "地区", "owed": "未报项数", "indicators": "未报指标", "due": "截止日期",
                     "days_overdue": "逾期天数", "contacts": "联系人", "emails": "联系邮箱"}
NO_CONTACT = "（无负责该地区的账户）"  # what the contacts cell says when no scoped account covers the region


def contacts_for(code: str, accounts: Iterable[Account], regions) -> list[Account]:
    """The enabled accounts that may upload for ``code`` by their region scope, the closest first
    (an account for the region itself before one for its province)."""
    found = []
    for account in accounts:
        if not account.enabled or not account.scope or ROLES.index(account.role) < ROLES.index("uploader"):
            continue
        if code in allowed_regions(account.scope, regions):
            depth = 0 if code in account.scope else 1
            found.append((depth, account.username, account))
    return [a for _, _, a in sorted(found, key=lambda x: x[:2])]


def due_dates_text(result: Completeness, fmt: str = "%Y年%-m月%-d日") -> str:
    """The month's due date as a sentence says it: 「2026年11月15日」, or with the later dates of
    indicators due on other days (annual ones, exceptions): 「2026年12月15日（部分指标 2027年3月31日）」."""
    dues = sorted({pd.Timestamp(d).date() for d in result.cells["due"]}) or [result.due.date()]
    later = "、".join(d.strftime(fmt) for d in dues[1:])
    return dues[0].strftime(fmt) + (f"（部分指标 {later}）" if later else "")


def days_overdue(due: date, today: date) -> int:
    """Whole days past the due date (0 on the due day and before it)."""
    return max(0, (today - due).days)


def owed_reports(result: Completeness, accounts: Iterable[Account], regions, today: date) -> pd.DataFrame:
    """One row per (region, indicator) of ``result`` still 未报送: OWED_COLUMNS (contacts and emails
    joined with 「、」, "" for none), most overdue regions in the order the completeness summary lists
    them."""
    accounts = list(accounts)
    owed = result.cells[result.cells["state"] == "owed"]
    order = {code: k for k, code in enumerate(result.summary["region_code"])}
    rows = []
    for cell in owed.itertuples():
        people = contacts_for(cell.region_code, accounts, regions)
        due = pd.Timestamp(cell.due).date()
        rows.append((cell.region_code, cell.region_name, cell.indicator_id, cell.indicator_name, result.month,
                     due.isoformat(), days_overdue(due, today), "、".join(a.label for a in people),
                     "、".join(a.email for a in people if a.email)))
    frame = pd.DataFrame(rows, columns=OWED_COLUMNS)
    frame["_order"] = frame["region_code"].map(order)
    return frame.sort_values(["_order", "indicator_id"]).drop(columns="_order").reset_index(drop=True)


def owed_by_region(owed: pd.DataFrame) -> pd.DataFrame:
    """The owed values one row per region (BY_REGION_COLUMNS): how many and which, with the contacts."""
    if owed.empty:
        return pd.DataFrame(columns=BY_REGION_COLUMNS)
    grouped = owed.groupby("region_code", sort=False)
    return pd.DataFrame({
        "region_code": list(grouped.groups),
        "region_name": grouped["region_name"].first().to_list(),
        "owed": grouped.size().to_list(),
        "indicators": grouped["indicator_name"].agg("、".join).to_list(),
        "due": grouped["due"].min().to_list(),  # the earliest, when the region owes indicators due on different days
        "days_overdue": grouped["days_overdue"].max().to_list(),
        "contacts": grouped["contacts"].first().to_list(),
        "emails": grouped["emails"].first().to_list(),
    })
