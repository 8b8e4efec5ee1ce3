"""``python -m etl``: the command-line door to the same engine the pages use.

Exit codes: 0 success (or a clean dry run), 1 rejected / invalid (nothing written), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etl import briefing_cli
from monitor.errors import ConfigError, LoadError, MonitorError


def _print_table(frame, *, limit: int = 50) -> None:
    if frame.empty:
        return
    print(frame.head(limit).to_string(index=False))
    if len(frame) > limit:
        print(f"……（共 {len(frame)} 行，仅显示前 {limit} 行）")


def cmd_check_config(args: argparse.Namespace) -> int:
    from monitor.config import load_config
    from monitor.regions import load_regions

    try:
        config = load_config(args.file or args.config, regions=load_regions())
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    targets = sum(len(s.targets) for s in config.target_sets)
    print(f"配置有效：{len(config.indicators)} 个指标，{len(config.target_sets)} 个目标集，{targets} 个目标")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from monitor.context import ensure_demo_data, load_demo_data, open_context

    ctx = open_context(args.config, args.db)
    if args.reset_demo:
        with ctx.store.transaction() as con:
            con.execute("DELETE FROM observations")
            con.execute("DELETE FROM load_batches")
        written = load_demo_data(ctx)
    elif args.demo:
        written = ensure_demo_data(ctx)
    else:
        written = 0
    rows = ctx.store.observation_count()
    print(f"数据库 {ctx.store.path}：结构已是最新；观测值 {rows} 条" + (f"（本次写入示例数据 {written} 条）" if written else ""))
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from etl.loader import load_file
    from etl.problems import problems_frame
    from monitor.context import open_context

    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    ctx = open_context(args.config, args.db)
    try:
        plan, batch = load_file(ctx.store, ctx.config, ctx.regions, path, commit=args.commit,
                                loaded_by=args.user)
    except LoadError as e:
        print(e, file=sys.stderr)
        return 1
    c = plan.counts()
    print(f"{path.name}：有效行 {c['total']}，新增 {c['new']}，修改 {c['changed']}，未变 {c['unchanged']}；"
          f"错误 {c['errors']}，警告 {c['warnings']}")
    if plan.duplicate_of is not None:
        print(f"注意：内容完全相同的文件已于批次 {plan.duplicate_of} 导入过")
    if plan.problems:
        _print_table(problems_frame(plan.problems))
    if not plan.ok:
        print("有错误，未写入任何数据。请按上表修改后重新导入。", file=sys.stderr)
        return 1
    changed = plan.diff[plan.diff["change"] == "changed"]
    if not changed.empty:
        print("将被修改的值（旧 → 新）：")
        _print_table(changed[["region_code", "indicator_id", "month", "old_value", "value"]])
    if batch is None:
        print("预检完成（未写入）。确认无误后加 --commit 写入。")
    else:
        print(f"已写入，批次号 {batch}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from monitor.context import open_context
    from monitor.overview import evaluate_target_set

    ctx = open_context(args.config, args.db)
    if args.target_set not in ctx.config.target_set_by_id:
        print(f"没有目标集「{args.target_set}」；可用：{'、'.join(ctx.config.target_set_by_id)}", file=sys.stderr)
        return 2
    frame = evaluate_target_set(ctx, args.target_set, args.as_of)
    _print_table(frame[["target_id", "indicator", "status", "explanation"]], limit=200)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m etl", description="知识产权指标监测：配置检查、数据导入与初始化")
    parser.add_argument("--config", help="indicators.yaml 路径（默认为仓库根目录下的 indicators.yaml）")
    parser.add_argument("--db", help="DuckDB 数据库文件（默认 data/monitor.duckdb，或环境变量 IPMON_DB）")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check-config", help="校验 indicators.yaml")
    p.add_argument("file", nargs="?", help="要校验的文件（默认 indicators.yaml）")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("init", help="创建或升级数据库，同步配置与地区库")
    p.add_argument("--demo", action="store_true", help="数据库为空时载入示例数据")
    p.add_argument("--reset-demo", action="store_true", help="清空观测值并重新载入示例数据")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("load", help="导入长表 CSV（地区,指标,期间,数值）；默认只预检")
    p.add_argument("file")
    p.add_argument("--commit", action="store_true", help="预检无错误时写入数据库")
    p.add_argument("--user", help="记录在批次中的操作人（默认当前系统用户）")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("evaluate", help="在终端输出一个目标集的评估结果")
    p.add_argument("--target-set", required=True)
    p.add_argument("--as-of", required=True, help="截至月份 YYYY-MM")
    p.set_defaults(func=cmd_evaluate)
    briefing_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    try:
        return args.func(args)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    except MonitorError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 1
