"""``python -m etl copy-to postgresql://…``: move from one machine to several (docs/decisions.md D19).

    python -m etl copy-to postgresql://ipmon@db.internal/ipmon     # the store and the accounts
    python -m etl --db data/monitor.duckdb copy-to postgresql://… --no-accounts

Copies the DuckDB store (``--db``, IPMON_DB or data/monitor.duckdb) whole into a new, empty
PostgreSQL database (monitor/store/copying.py), and the accounts file (``--accounts``,
IPMON_ACCOUNTS or the default) into that database's schema ``accounts``: accounts, the audit trail,
column mappings, subscriptions and what notify remembers. Then every process started with
IPMON_DB set to the URL reads and writes there. Exit codes: 0 copied, 1 refused (nothing copied
where it was refused), 2 usage.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("copy-to", help="把本机的 DuckDB 数据库和账户文件整体复制到一个新建的空 PostgreSQL 数据库（迁往多台服务器）")
    p.add_argument("url", help="目标数据库 postgresql://用户@主机:端口/库名（新建的空库）")
    p.add_argument("--accounts", help="要复制的账户文件（默认 ~/.config/ipmon/accounts.sqlite3，或环境变量 IPMON_ACCOUNTS）")
    p.add_argument("--no-accounts", action="store_true", help="只复制数据库，不复制账户、审计记录、列对应关系和订阅")
    p.set_defaults(func=cmd_copy_to)


def cmd_copy_to(args: argparse.Namespace) -> int:
    from monitor import postgres
    from monitor.accounts.access import ACCOUNTS_SCHEMA, copy_accounts, is_postgres, location
    from monitor.accounts.subscriptions import NOTIFY_SCHEMA
    from monitor.store.copying import copy_store
    from monitor.store.database import Store, default_store_path

    if not postgres.is_url(args.url):
        print("目标应是 postgresql://… 地址", file=sys.stderr)
        return 2
    source = Store(args.db or default_store_path())
    copied = copy_store(source, Store(args.url))
    print(f"数据库 {source.location} 已复制到 {Store(args.url).location}：")
    for table, rows in copied.items():
        if rows:
            print(f"  {table}：{rows:,} 行")
    if args.no_accounts:
        return 0
    accounts = location(args.accounts)
    if is_postgres(accounts):
        print(f"账户已在 PostgreSQL（{accounts}），未复制", file=sys.stderr)
        return 1
    if not accounts.exists():
        print(f"没有账户文件 {accounts}：只复制了数据库；在目标上用 python -m etl users add 新建账户")
        return 0
    rows = copy_accounts(accounts, args.url, (ACCOUNTS_SCHEMA, NOTIFY_SCHEMA))
    print(f"账户文件 {accounts} 已复制到该库的 accounts 模式："
          + "、".join(f"{table} {n:,} 行" for table, n in rows.items() if n))
    print(f"此后以 IPMON_DB={args.url} 启动看板和命令行（账户随之使用该库）")
    return 0
