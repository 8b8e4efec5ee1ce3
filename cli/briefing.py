"""``python -m etl briefing``: the A4 PDF briefing of a target set, for one region or every city of
a province.

    python -m etl briefing --region 140500 --target-set jincheng_2025 --as-of 2025-12 --out briefing.pdf
    python -m etl briefing --all-cities-of 140000 --target-set jincheng_2025 --as-of 2025-12 --out-dir briefings/

Exit codes: 0 written, 1 failed (nothing or not everything written), 2 usage (unknown region,
target set or month).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from monitor.errors import ExportSetupError, MonitorError, PeriodError, RegionError


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("briefing", help="生成 A4 PDF 监测简报（单个地区，或一个省的每个市）")
    p.add_argument("--target-set", required=True, help="目标集 id，例如 jincheng_2025")
    p.add_argument("--as-of", required=True, help="截至月份 YYYY-MM")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--region", help="地区代码或名称，例如 140500 或 晋城市")
    where.add_argument("--all-cities-of", metavar="PROVINCE", help="为该省（代码或名称）每个市各生成一份简报")
    p.add_argument("--out", help="输出 PDF 文件（与 --region 配合；默认按地区与月份命名，写在当前目录）")
    p.add_argument("--out-dir", help="输出目录（与 --all-cities-of 配合；默认当前目录）")
    p.set_defaults(func=cmd_briefing)
    return p


def _usage(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def cmd_briefing(args: argparse.Namespace) -> int:
    from monitor.context import open_context
    from monitor.domain.periods import parse_month
    from monitor.output.briefing import briefing_file_name
    from monitor.store.readings import with_readings

    if args.region and args.out_dir:
        return _usage("--out-dir 只用于 --all-cities-of；单个地区请用 --out")
    if args.all_cities_of and args.out:
        return _usage("--out 只用于 --region；批量生成请用 --out-dir")
    try:
        as_of = parse_month(args.as_of)
    except PeriodError as e:
        return _usage(str(e))
    ctx = with_readings(open_context(args.config, args.db))  # the readings chosen on 总览
    if args.target_set not in ctx.config.target_set_by_id:
        return _usage(f"没有目标集「{args.target_set}」；可用：{'、'.join(ctx.config.target_set_by_id)}")
    try:
        if args.region:
            regions = [ctx.regions.resolve(args.region)]
        else:
            province = ctx.regions.resolve(args.all_cities_of)
            regions = [r.code for r in ctx.regions.cities_of(province) if not r.is_grouping]
    except RegionError as e:
        return _usage(f"地区无效：{e}")
    from monitor.evaluation.applied import applies_to, not_applicable_note

    set_region = ctx.config.target_set(args.target_set).region
    above = [code for code in regions if not applies_to(ctx.regions, set_region, code)]
    if above:  # never upward: a city's plan is not its province's
        names = "、".join(ctx.regions[c].name for c in above)
        return _usage(f"{not_applicable_note(ctx.regions[set_region].name)}（{names}）")

    if args.region:
        targets = [(regions[0], Path(args.out or briefing_file_name(ctx, args.target_set, regions[0], as_of)))]
    else:
        out_dir = Path(args.out_dir or ".")
        out_dir.mkdir(parents=True, exist_ok=True)
        targets = [(code, out_dir / briefing_file_name(ctx, args.target_set, code, as_of)) for code in regions]

    from monitor.output.export import shutdown

    try:
        return _write_all(ctx, args.target_set, as_of, targets)
    finally:
        shutdown()


def _write_all(ctx, set_id: str, as_of: str, targets: list[tuple[str, Path]]) -> int:
    from monitor.output.briefing import build_briefing

    failed = 0
    for code, path in targets:
        started = time.perf_counter()
        try:
            briefing = build_briefing(ctx, set_id, code, as_of)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(briefing.pdf)
        except ExportSetupError as e:  # the machine lacks the font or browser: every other one would fail too
            print(f"无法生成简报：{e}", file=sys.stderr)
            return 1
        except (MonitorError, OSError) as e:
            failed += 1
            print(f"{ctx.regions[code].name}：生成失败：{e}", file=sys.stderr)
            continue
        print(f"已生成 {path}（{briefing.title}；{briefing.chart_count} 张图，{len(briefing.pdf) / 1024:.0f} KB，"
              f"{time.perf_counter() - started:.1f} 秒）")
    if failed:
        print(f"{failed} 份简报生成失败（共 {len(targets)} 份）", file=sys.stderr)
        return 1
    return 0
