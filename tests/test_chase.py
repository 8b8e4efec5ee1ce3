"""催报: who still owes which values for a month, how late, and whom to ask (monitor/views/chase.py, and
``python -m etl completeness --owed``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from cli.main import main
from monitor.context import open_context
from monitor.store.history import completeness
from monitor.views.chase import contacts_for, days_overdue, owed_by_region, owed_reports


def test_owed_values_name_the_region_s_scoped_uploaders_as_contacts(copy_demo_store, accounts):
    ctx = open_context(store_path=copy_demo_store("chase"))
    accounts.set_contact("jc-clerk", email="jc@example.gov.cn", actor="admin")
    result = completeness(ctx.store, ctx.config, ctx.regions, "140000", "2026-11")  # the demo ends in 2026-10

    owed = owed_reports(result, accounts.list(), ctx.regions, dt.date(2026, 12, 20))

    jincheng = owed[owed["region_code"] == "140500"]
    assert len(jincheng) == len(result.cells[result.cells["region_code"] == "140500"])  # every value is owed
    assert set(jincheng["contacts"]) == {"晋城市局数据员"} and set(jincheng["emails"]) == {"jc@example.gov.cn"}
    assert set(owed.loc[owed["region_code"] == "140100", "contacts"]) == {""}  # clerk has no region limit: nobody's contact
    assert set(owed["due"]) == {"2026-12-15"} and set(owed["days_overdue"]) == {5}
    regions = owed_by_region(owed).set_index("region_code")
    assert regions.loc["140500", "owed"] == len(jincheng)
    assert regions.loc["140500", "indicators"] == "、".join(jincheng["indicator_name"])


def test_contacts_cover_the_counties_of_a_city_and_skip_disabled_accounts_and_viewers(accounts, small_regions):
    assert [a.username for a in contacts_for("140521", accounts.list(), small_regions)] == ["jc-clerk"]
    accounts.set_enabled("jc-clerk", False, actor="admin")
    assert contacts_for("140500", accounts.list(), small_regions) == []
    accounts.set_role("viewer", "viewer", scope=("140500",), actor="admin")
    assert contacts_for("140500", accounts.list(), small_regions) == []


def test_days_overdue_count_from_the_day_after_the_due_date():
    due = dt.date(2026, 12, 15)
    assert [days_overdue(due, dt.date(2026, 12, d)) for d in (14, 15, 16, 20)] == [0, 0, 1, 5]


def test_the_cli_prints_and_writes_the_chase_list(copy_demo_store, accounts, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IPMON_TODAY", "2026-12-20")
    accounts.set_contact("jc-clerk", email="jc@example.gov.cn", actor="admin")
    out = tmp_path / "催报.xlsx"
    code = main(["--db", str(copy_demo_store("chase_cli")), "completeness", "--region", "山西", "--month", "2026-11",
                 "--owed", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.startswith("山西省 2026-11 催报名单（应于 2026-12-15 前报送，已逾期 5 天）：")
    assert "晋城市局数据员" in printed and "（无负责该地区的账户）" in printed
    frame = pd.read_excel(out, engine="openpyxl")
    assert list(frame.columns) == ["地区代码", "地区", "指标", "月份", "截止日期", "逾期天数", "联系人", "联系邮箱"]
    assert set(frame.loc[frame["地区"] == "晋城市", "联系邮箱"]) == {"jc@example.gov.cn"}


def test_users_set_contact_changes_the_e_mail_and_refuses_one_taken(accounts, capsys):
    assert main(["users", "set-contact", "jc-clerk", "--email", "JC@example.gov.cn"]) == 0
    assert accounts.get("jc-clerk").email == "jc@example.gov.cn"
    assert main(["users", "set-contact", "clerk", "--email", "jc@example.gov.cn"]) == 1
    assert "已属于另一个账户" in capsys.readouterr().err
    assert main(["users", "set-contact", "clerk"]) == 2
    assert accounts.audit.query(actions=["user_set_contact"])["target"].tolist() == ["jc-clerk"]
