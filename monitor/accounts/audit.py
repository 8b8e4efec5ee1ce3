"""The audit trail: who did what, when, from where, and which batch, task or account it touched.

Rows are appended to the ``audit`` table of the accounts (monitor/accounts/access.py explains why
there and not in the store) and never changed. Nothing secret is ever passed in: callers give
names, ids and counts, never a password, hash or token, and a failed login with a user name that
is not an account is recorded without the name (people type their password into the wrong box).
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable
from datetime import datetime

import pandas as pd

from monitor.accounts.access import Location, connect, location
from monitor.domain.clock import now as product_now

ACTIONS = {
    "login": "登录",
    "login_failed": "登录失败",
    "login_throttled": "登录受限（失败次数过多）",
    "logout": "退出登录",
    "session_expired": "会话超时",
    "access_denied": "无权访问",
    "subscription_add": "新建订阅",
    "subscription_edit": "修改订阅",
    "subscription_stop": "停止订阅",
    "subscription_resume": "恢复订阅",
    "subscription_remove": "删除订阅",
    "user_set_contact": "修改联系方式",
    "upload": "上传文件（预检）",
    "commit": "导入提交",
    "rollback": "回滚批次",
    "approve": "审核通过（发布批次）",
    "return": "退回批次",
    "correction": "更正已关账期间的数值",
    "milestone": "任务进度登记",
    "value_note": "数值备注",
    "value_flag": "标记跟踪核实",
    "value_flag_clear": "解除跟踪核实",
    "demo_reset": "重置示例数据",
    "reading": "切换目标读法",
    "config_reload": "重新加载配置",
    "user_add": "新建账户",
    "user_set_role": "修改角色或地区范围",
    "user_reset_password": "重置密码",
    "user_disable": "停用账户",
    "user_enable": "启用账户",
    "mapping_add": "新建列对应关系",
    "mapping_edit": "修改列对应关系",
    "mapping_remove": "删除列对应关系",
}
OUTCOMES = {"ok": "成功", "refused": "拒绝", "failed": "失败"}
COLUMNS = ["id", "at", "actor", "action", "outcome", "target", "detail", "client", "via"]
ANONYMOUS = "匿名"


def cli_actor() -> str:
    """Who runs a CLI command: the operating-system user (whoever has a shell can open the files)."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli:unknown"


class AuditLog:
    def __init__(self, path: Location | None = None, *, clock: Callable[[], datetime] = product_now,
                 timeout: float | None = None):
        self.path = location(path)  # a SQLite file or a postgresql:// URL
        self.clock = clock
        self.timeout = timeout  # None: IPMON_ACCOUNTS_TIMEOUT (monitor/accounts/access.py)

    def record(self, action: str, *, actor: str | None, outcome: str = "ok", target: str | None = None,
               detail: str | None = None, client: str | None = None, via: str | None = None) -> int:
        """Append one row; returns its id."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        at = self.clock().isoformat(sep=" ", timespec="seconds")
        with connect(self.path, timeout=self.timeout) as con:
            return con.insert("INSERT INTO audit (at, actor, action, outcome, target, detail, client, via) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              [at, actor or ANONYMOUS, action, outcome, target, detail, client, via])

    def deliver(self, rows: list[tuple]) -> int:
        """Append rows moved from the store's outbox (monitor/store/outbox.py): (outbox id, at, actor,
        action, outcome, target, detail, client, via). A row already delivered is skipped; returns
        how many were new."""
        with connect(self.path, timeout=self.timeout) as con:
            return con.executemany("INSERT INTO audit (outbox_id, at, actor, action, outcome, target, detail, "
                                   "client, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)

    def query(self, *, since: datetime | None = None, until: datetime | None = None, actor: str | None = None,
              actions: list[str] | None = None, outcome: str | None = None, limit: int | None = None) -> pd.DataFrame:
        """The rows matching every filter given, newest first."""
        where, params = ["1 = 1"], []
        if since is not None:
            where.append("at >= ?")
            params.append(since.isoformat(sep=" ", timespec="seconds"))
        if until is not None:
            where.append("at <= ?")
            params.append(until.isoformat(sep=" ", timespec="seconds"))
        if actor:
            where.append("actor = ?")
            params.append(actor)
        if actions:
            where.append(f"action IN ({', '.join('?' for _ in actions)})")  # placeholders only
            params.extend(actions)
        if outcome:
            where.append("outcome = ?")
            params.append(outcome)
        sql = f"SELECT {', '.join(COLUMNS)} FROM audit WHERE {' AND '.join(where)} ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with connect(self.path, write=False) as con:
            rows = con.execute(sql, params).fetchall()
        return pd.DataFrame(rows, columns=COLUMNS)

    def actors(self) -> list[str]:
        with connect(self.path, write=False) as con:
            return [r[0] for r in con.execute("SELECT DISTINCT actor FROM audit ORDER BY actor").fetchall()]


VIA_LABELS = {"password": "密码登录", "oidc": "单点登录", "cli": "命令行"}
# who acted, as the trail stores it (「cli:root」: the operating-system user of a command) and as read
_CLI_ACTOR = "cli:"


def actor_label(actor) -> str:
    """「root（命令行）」 for a command's 「cli:root」; a person's user name as it is."""
    if not isinstance(actor, str):
        return ""
    return f"{actor.removeprefix(_CLI_ACTOR)}（命令行）" if actor.startswith(_CLI_ACTOR) else actor
CLIENT_LABELS = {"cli": "本机命令行"}
_ROLE_CODES = re.compile(r"\b(viewer|uploader|reviewer|admin)\b")


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The audit rows as people read them (Chinese headers and labels, no internal codes), for the
    page and the export."""
    from monitor.accounts.users import ROLE_LABELS

    def detail(text) -> str:
        return _ROLE_CODES.sub(lambda m: ROLE_LABELS[m.group(1)], text) if isinstance(text, str) else ""

    return pd.DataFrame({
        "序号": frame["id"], "时间": frame["at"], "操作人": frame["actor"].map(actor_label),
        "操作": frame["action"].map(lambda a: ACTIONS.get(a, a)),
        "结果": frame["outcome"].map(lambda o: OUTCOMES.get(o, o)),
        "对象": frame["target"].fillna(""), "说明": frame["detail"].map(detail),
        "来源地址": frame["client"].map(lambda c: CLIENT_LABELS.get(c, c) if isinstance(c, str) else ""),
        "方式": frame["via"].map(lambda v: VIA_LABELS.get(v, v) if isinstance(v, str) else ""),
    })

