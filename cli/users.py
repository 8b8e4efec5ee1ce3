"""``python -m etl users …`` and ``python -m etl audit``: accounts and the audit trail from a shell.

    python -m etl users add admin --role admin                 # password asked twice (getpass)
    python -m etl users add jc-clerk --role uploader --scope 140500 --name 晋城市局数据员
    printf '%s\\n' "$PW" | python -m etl users reset-password jc-clerk --password-stdin
    python -m etl users set-role jc-clerk viewer               # --scope … / --all-regions to change the scope
    python -m etl users set-contact jc-clerk --email jc@example.gov.cn --name 晋城市局数据员
    python -m etl users disable jc-clerk
    python -m etl users list
    python -m etl audit --since 2026-11-01 --out audit.csv

A password is never taken from the command line (shell history, the process list): it is asked
for, or read from standard input with ``--password-stdin``. Every change is audited as
``cli:<os user>``. Exit codes: 0 done, 1 refused, 2 usage.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime, time
from pathlib import Path

from monitor.accounts.audit import ACTIONS, AuditLog, cli_actor, readable
from monitor.accounts.users import MIN_PASSWORD_LENGTH, ROLE_LABELS, ROLES, AccountStore, check_scope, scope_label
from monitor.errors import AccountError
from monitor.output.tables import csv_bytes


def add_parser(subparsers) -> None:
    users = subparsers.add_parser("users", help="账户：新建、修改角色与地区范围、重置密码、停用、列出")
    users.add_argument("--accounts", help="账户文件或 postgresql:// 地址（默认 ~/.config/ipmon/accounts.sqlite3，或环境变量 IPMON_ACCOUNTS）")
    sub = users.add_subparsers(dest="users_command", required=True)

    p = sub.add_parser("add", help="新建账户")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES, help="viewer 查看者 / uploader 数据上传员 / reviewer 审核员 / admin 管理员")
    p.add_argument("--scope", action="append", default=[], metavar="REGION",
                   help="只能导入该地区及其下辖地区（代码或名称，可重复）；不写则为全部地区")
    p.add_argument("--email", help="联系邮箱：催报名单与提醒用；统一身份认证（OIDC）登录时也按此邮箱对应到本账户")
    p.add_argument("--name", help="显示名，例如 晋城市局数据员")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（脚本用）")
    how.add_argument("--no-password", action="store_true", help="不设密码：只能通过统一身份认证登录")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("set-role", help="修改角色（及地区范围）")
    p.add_argument("username")
    p.add_argument("role", choices=ROLES)
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--scope", action="append", metavar="REGION", help="新的地区范围（可重复）")
    scope.add_argument("--all-regions", action="store_true", help="取消地区限制")
    p.set_defaults(func=cmd_set_role)

    p = sub.add_parser("set-contact", help="修改邮箱（催报名单、提醒、统一身份认证）或显示名")
    p.add_argument("username")
    p.add_argument("--email", help="新邮箱；空字符串 \"\" 清除")
    p.add_argument("--name", help="新显示名；空字符串 \"\" 清除")
    p.set_defaults(func=cmd_set_contact)

    p = sub.add_parser("reset-password", help="重置密码（同时清除失败登录计数）")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（脚本用）")
    p.set_defaults(func=cmd_reset_password)

    for name, enabled, text in (("disable", False, "停用账户（立即生效，已登录的会话在下一次操作时结束）"),
                                ("enable", True, "重新启用账户")):
        p = sub.add_parser(name, help=text)
        p.add_argument("username")
        p.set_defaults(func=cmd_enable, enabled=enabled)

    p = sub.add_parser("list", help="列出账户")
    p.set_defaults(func=cmd_list)

    p = subparsers.add_parser("audit", help="导出审计记录（CSV）")
    p.add_argument("--accounts", help="账户文件或 postgresql:// 地址（默认 ~/.config/ipmon/accounts.sqlite3，或环境变量 IPMON_ACCOUNTS）")
    p.add_argument("--since", help="起始日期 YYYY-MM-DD（含）")
    p.add_argument("--until", help="截止日期 YYYY-MM-DD（含当天）")
    p.add_argument("--user", help="只看此操作人")
    p.add_argument("--action", action="append", choices=sorted(ACTIONS), help="只看这些操作（可重复）")
    p.add_argument("--out", help="写入 CSV 文件（带 BOM）；不写则在终端显示")
    p.set_defaults(func=cmd_audit)


def _store(args: argparse.Namespace) -> AccountStore:
    return AccountStore(args.accounts)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise AccountError("没有终端可输入密码：请加 --password-stdin 从标准输入读取")
    first = getpass.getpass(f"密码（至少 {MIN_PASSWORD_LENGTH} 个字符）：")
    if getpass.getpass("再输入一次：") != first:
        raise AccountError("两次输入的密码不一致")
    return first


def _scope(values: list[str] | None) -> tuple[str, ...]:
    if not values:
        return ()
    from monitor.domain.regions import load_regions

    return check_scope(values, load_regions())


def cmd_add(args: argparse.Namespace) -> int:
    scope = _scope(args.scope)
    password = None if args.no_password else _read_password(args)
    account = _store(args).add(args.username, password, args.role, scope=scope, email=args.email,
                               display_name=args.name, actor=cli_actor(), client="cli", via="cli")
    print(f"已新建账户 {account.username}（{ROLE_LABELS[account.role]}" + (f"，{', '.join(scope)}" if scope else "") + "）")
    return 0


def cmd_set_role(args: argparse.Namespace) -> int:
    scope = () if args.all_regions else (_scope(args.scope) if args.scope else None)
    account = _store(args).set_role(args.username, args.role, scope=scope, actor=cli_actor(), client="cli", via="cli")
    print(f"账户 {account.username}：{ROLE_LABELS[account.role]}，地区范围 {','.join(account.scope) or '全部地区'}")
    return 0


def cmd_set_contact(args: argparse.Namespace) -> int:
    if args.email is None and args.name is None:
        print("请给出 --email 或 --name", file=sys.stderr)
        return 2
    account = _store(args).set_contact(args.username, email=args.email, display_name=args.name, actor=cli_actor(),
                                       client="cli", via="cli")
    print(f"账户 {account.username}：邮箱 {account.email or '—'}，显示名 {account.display_name or '—'}")
    return 0


def cmd_reset_password(args: argparse.Namespace) -> int:
    store = _store(args)
    if store.get(args.username) is None:
        raise AccountError(f"没有账户「{args.username}」")
    store.reset_password(args.username, _read_password(args), actor=cli_actor(), client="cli", via="cli")
    print(f"账户 {args.username.strip().lower()} 的密码已重置")
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    _store(args).set_enabled(args.username, args.enabled, actor=cli_actor(), client="cli", via="cli")
    print(f"账户 {args.username.strip().lower()} 已{'启用' if args.enabled else '停用'}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    accounts = _store(args).list()
    if not accounts:
        print("还没有账户。新建管理员：python -m etl users add admin --role admin")
        return 0
    from monitor.domain.regions import load_regions

    regions = load_regions()
    for a in accounts:
        state = "启用" if a.enabled else "已停用"
        print(f"{a.username}\t{ROLE_LABELS[a.role]}\t{scope_label(a.scope, regions)}\t{a.email or '—'}\t{state}\t"
              f"最近登录 {a.last_login or '—'}")
    return 0


def _day(text: str | None, *, end: bool) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as e:
        raise AccountError(f"日期「{text}」无效，应为 YYYY-MM-DD") from e
    return datetime.combine(day, time.max if end else time.min)


def cmd_audit(args: argparse.Namespace) -> int:
    frame = AuditLog(args.accounts).query(since=_day(args.since, end=False), until=_day(args.until, end=True),
                                          actor=args.user, actions=args.action)
    if args.out:
        Path(args.out).write_bytes(csv_bytes(readable(frame)))
        print(f"审计记录 {len(frame)} 条已写入 {args.out}")
    elif frame.empty:
        print("没有符合条件的审计记录")
    else:
        print(readable(frame).to_string(index=False))
    return 0
