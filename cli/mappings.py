"""``python -m etl mappings …``: the saved column mappings of uploads (etl/mappings.py) from a shell.

    python -m etl mappings list                                    # every mapping
    python -m etl mappings add 2026-10.csv --column 专利质押（件） --indicator pledge_projects --unit 项
    python -m etl mappings add 2026-10.csv --column 序号2 --skip   # not an indicator: skipped quietly
    python -m etl mappings remove 3

``add`` takes a file of the layout (its header row is found as the loader finds it) and maps one of
its columns, for everyone's uploads unless ``--owner`` names the account it is for. ``load`` uses
everyone's mappings and those of ``--user``. Every change is audited as ``cli:<os user>``. Exit
codes: 0 done, 1 refused, 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etl.mappings import EVERYONE, MappingStore, file_headers, mappings_frame, owner_label
from monitor.accounts.audit import cli_actor
from monitor.accounts.users import AccountStore

ACCOUNTS_HELP = "账户文件或 postgresql:// 地址（默认 ~/.config/ipmon/accounts.sqlite3，或环境变量 IPMON_ACCOUNTS）"


def add_parser(subparsers) -> None:
    mappings = subparsers.add_parser("mappings", help="列对应关系：把文件中未识别的列对应到指标（列出、新建、删除）")
    mappings.add_argument("--accounts", help=ACCOUNTS_HELP)
    sub = mappings.add_subparsers(dest="mappings_command", required=True)

    p = sub.add_parser("list", help="列出列对应关系")
    p.add_argument("--owner", help="只列出适用于此账户的（不含所有人的）")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("add", help="按一个样例文件的表头，把其中一列对应到指标（已有则修改）")
    p.add_argument("file", help="这种表头的一个文件（CSV 或 Excel）")
    p.add_argument("--sheet", help="Excel 工作表名称或序号（默认第一个）")
    p.add_argument("--column", required=True, help="列名，按文件表头书写")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--indicator", help="指标代码、名称或别名")
    what.add_argument("--skip", action="store_true", help="该列不是指标：以后不导入也不再警告")
    p.add_argument("--unit", help="该列数值的单位，如 万元（默认取列名括号中的单位，否则为指标单位）")
    p.add_argument("--owner", help="只用于此账户的上传（默认用于所有人的上传）")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="删除一条列对应关系")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_remove)


def _config(args: argparse.Namespace):
    from monitor.domain.config import load_config
    from monitor.domain.regions import load_regions

    return load_config(args.config, regions=load_regions())


def cmd_list(args: argparse.Namespace) -> int:
    mappings = MappingStore(args.accounts).list(owner=args.owner)
    if not mappings:
        print("还没有列对应关系" + (f"（{args.owner}）" if args.owner else ""))
        return 0
    print(mappings_frame(mappings, _config(args)).to_string(index=False))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    if args.owner and AccountStore(args.accounts).get(args.owner) is None:
        print(f"没有账户「{args.owner}」；不加 --owner 则用于所有人的上传", file=sys.stderr)
        return 1
    config = _config(args)
    headers = file_headers(path.read_bytes(), path.name, config, sheet=args.sheet)
    mapping = MappingStore(args.accounts).save(config, headers, args.column, None if args.skip else args.indicator,
                                               args.unit, owner=args.owner or EVERYONE, actor=cli_actor(),
                                               client="cli", via="cli")
    print(f"已保存列对应关系 {mapping.id}：{mapping.describe(config)}；适用于{owner_label(mapping.owner)}的上传")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    config = _config(args)
    mapping = MappingStore(args.accounts).remove(config, args.id, actor=cli_actor(), client="cli", via="cli")
    print(f"已删除列对应关系 {mapping.id}：{mapping.describe(config)}")
    return 0
