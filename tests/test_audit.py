"""monitor/accounts/audit.py and the ``python -m etl users`` / ``audit`` commands, on real files under tmp_path and
real PostgreSQL databases (each test on both)."""

from __future__ import annotations

import contextlib
import io
from datetime import datetime

import pandas as pd
import pytest
from conftest import TEST_PASSWORD, everything_stored

from cli.main import main
from monitor.accounts.audit import AuditLog, readable
from monitor.accounts.users import AccountStore
from monitor.output.tables import csv_bytes


@pytest.fixture(params=("sqlite", "postgresql"))
def accounts_backend(request) -> str:
    return request.param


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_the_trail_filters_by_time_actor_action_and_outcome(accounts_location):
    moments = iter([datetime(2026, 10, 30, 8), datetime(2026, 11, 1, 9), datetime(2026, 11, 2, 10)])
    log = AuditLog(accounts_location, clock=lambda: next(moments))
    log.record("login", actor="clerk", client="10.0.0.1", via="password")
    log.record("commit", actor="clerk", target="批次 3", detail="10月.csv：有效值 2 个")
    log.record("login_failed", actor="admin", outcome="refused")
    assert log.query()["id"].tolist() == [3, 2, 1]  # newest first
    assert log.query(since=datetime(2026, 11, 1))["action"].tolist() == ["login_failed", "commit"]
    assert log.query(until=datetime(2026, 11, 1, 23, 59))["action"].tolist() == ["commit", "login"]
    assert log.query(actor="clerk", actions=["commit"])["target"].tolist() == ["批次 3"]
    assert log.query(outcome="refused")["actor"].tolist() == ["admin"]
    assert log.actors() == ["admin", "clerk"]
    with pytest.raises(ValueError):
        log.record("format_disk", actor="clerk")


def test_the_csv_export_neutralises_formula_text_from_file_names(accounts_location):
    log = AuditLog(accounts_location)
    log.record("upload", actor="clerk", target='=HYPERLINK("http://x","点我").csv', outcome="refused")
    data = csv_bytes(readable(log.query()))
    assert data.startswith("\ufeff".encode())
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert frame.columns.tolist() == ["序号", "时间", "操作人", "操作", "结果", "对象", "说明", "来源地址", "方式"]
    assert frame["对象"].iloc[0] == "'=HYPERLINK(\"http://x\",\"点我\").csv"
    assert (frame["操作"].iloc[0], frame["结果"].iloc[0]) == ("上传文件（预检）", "拒绝")


def test_users_cli_adds_changes_resets_and_disables_accounts_and_audits_each(accounts_location, monkeypatch):
    path = accounts_location
    monkeypatch.setenv("IPMON_ACCOUNTS", str(path))
    code, out, err = run("users", "add", "JC-Clerk", "--role", "uploader", "--scope", "晋城市", "--name", "晋城市局数据员",
                         "--password-stdin", stdin=TEST_PASSWORD + "\n")
    assert (code, err) == (0, "")
    assert out == "已新建账户 jc-clerk（数据上传员，140500）\n"
    store = AccountStore(path)
    assert store.login("jc-clerk", TEST_PASSWORD).scope == ("140500",)

    assert run("users", "set-role", "jc-clerk", "viewer", "--all-regions")[0] == 0
    assert (store.get("jc-clerk").role, store.get("jc-clerk").scope) == ("viewer", ())
    assert run("users", "reset-password", "jc-clerk", "--password-stdin", stdin="new-password-2026\n")[0] == 0
    assert store.login("jc-clerk", "new-password-2026").role == "viewer"
    assert run("users", "disable", "jc-clerk")[0] == 0
    code, out, _ = run("users", "list")
    assert code == 0 and out.startswith("jc-clerk\t查看者\t全部地区\t—\t已停用")

    actions = AuditLog(path).query()["action"].tolist()[::-1]
    assert actions == ["user_add", "login", "user_set_role", "user_reset_password", "login", "user_disable"]
    assert AuditLog(path).query(actions=["user_add"])["actor"].iloc[0].startswith("cli:")
    for secret in (TEST_PASSWORD, "new-password-2026"):
        assert secret.encode() not in everything_stored(path)


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (["users", "add", "x1", "--role", "viewer", "--password-stdin"], "short\n", "密码太短"),
    (["users", "add", "x1", "--role", "viewer", "--scope", "晋阳"], "", "地区范围无效"),
    (["users", "add", "x1", "--role", "viewer"], "", "没有终端可输入密码：请加 --password-stdin"),
    (["users", "set-role", "ghost", "admin"], "", "没有账户「ghost」"),
    (["audit", "--since", "2026/11/01"], "", "日期「2026/11/01」无效"),
])
def test_users_cli_refuses_bad_input_with_exit_1(accounts_location, monkeypatch, argv, stdin, message):
    monkeypatch.setenv("IPMON_ACCOUNTS", str(accounts_location))
    code, _, err = run(*argv, stdin=stdin)
    assert code == 1 and message in err, err


def test_a_password_is_never_an_argument():
    code, _, err = run("users", "add", "x1", "--role", "viewer", "--password", TEST_PASSWORD)
    assert code == 2 and "unrecognized arguments" in err


def test_cli_loads_and_rollbacks_are_audited_and_the_trail_exports_as_csv(tmp_path, accounts_location, monkeypatch):
    monkeypatch.setenv("IPMON_ACCOUNTS", str(accounts_location))
    db = str(tmp_path / "x.duckdb")
    data = tmp_path / "10月.csv"
    # an open month (IPMON_TODAY, tests/conftest.py): rolling back a closed one is a 更正 (tests/test_corrections.py)
    data.write_text("地区,指标,期间,数值\n晋城,有效发明专利拥有量,2026-10,600\n", encoding="utf-8")
    assert run("--db", db, "load", str(data), "--commit")[0] == 0
    assert run("--db", db, "rollback", "1")[0] == 0
    out_file = tmp_path / "audit.csv"
    code, out, _ = run("audit", "--since", "2000-01-01", "--out", str(out_file))
    assert code == 0 and out == f"审计记录 2 条已写入 {out_file}\n"
    frame = pd.read_csv(out_file, encoding="utf-8-sig")
    assert frame["操作"].tolist() == ["回滚批次", "导入提交"]
    assert frame["对象"].tolist() == ["批次 1", "批次 1"]
    assert frame["说明"].iloc[1].startswith("10月.csv：有效值 1 个，新增 1")
    assert set(frame["来源地址"]) == {"本机命令行"} and frame["操作人"].str.endswith("（命令行）").all()
    code, out, _ = run("audit", "--action", "login")
    assert (code, out) == (0, "没有符合条件的审计记录\n")


def test_the_readable_trail_shows_no_internal_codes():
    import pandas as pd

    from monitor.accounts.audit import readable

    frame = pd.DataFrame({"id": [1, 2], "at": ["2026-11-01 09:00:00"] * 2, "actor": ["admin", "cli:root"],
                          "action": ["login", "commit"], "outcome": ["ok", "ok"], "target": [None, "批次 3"],
                          "detail": ["角色 admin", None], "client": ["10.0.0.8", "cli"], "via": ["password", "cli"]})
    shown = readable(frame)
    assert shown["说明"].tolist() == ["角色 管理员", ""]
    assert shown["方式"].tolist() == ["密码登录", "命令行"]
    assert shown["来源地址"].tolist() == ["10.0.0.8", "本机命令行"]


def test_a_commands_actor_reads_as_its_user_and_the_word_command_line():
    from monitor.accounts.audit import actor_label

    assert actor_label("cli:root") == "root（命令行）"
    assert actor_label("admin") == "admin" and actor_label(None) == ""
