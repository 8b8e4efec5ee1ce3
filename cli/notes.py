"""``python -m etl notes …``: notes with values and the flag 跟踪核实 (monitor/store/notes.py) from a shell.

    python -m etl notes list                                  # values flagged 跟踪核实, every region
    python -m etl notes list --region 晋城市 --history        # every note on 晋城市's values
    python -m etl notes add --region 晋城市 --indicator invention_grants --month 2026-10 --text 同比跳升，请核对 --flag
    python -m etl notes clear --region 晋城市 --indicator invention_grants --month 2026-10 --text 已与统计科核实

Whoever has a shell can open the files, so every region and every action is open here, as for
``approve``; each note is audited as ``cli:<os user>`` and signed with ``--user`` (default: the
operating-system user). Exit codes: 0 done, 1 refused, 2 usage.
"""

from __future__ import annotations

import argparse

from monitor.store.notes import FLAG_LABEL, ValueKey, add_note, clear_flag


def add_parser(subparsers) -> None:
    notes = subparsers.add_parser("notes", help=f"数值备注与{FLAG_LABEL}标记：列出、添加、解除")
    sub = notes.add_subparsers(dest="notes_command", required=True)

    p = sub.add_parser("list", help=f"列出{FLAG_LABEL}中的数值（加 --history 列出全部备注）")
    p.add_argument("--region", help="只列出此地区及其下辖地区（代码或名称）")
    p.add_argument("--history", action="store_true", help="列出全部备注及标记、解除记录")
    p.set_defaults(func=cmd_list)

    for name, text in (("add", f"给一个数值写备注（加 --flag 同时标记{FLAG_LABEL}）"),
                       ("clear", f"解除一个数值的{FLAG_LABEL}标记（可附核实结果）")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--region", required=True, help="地区（代码或名称）")
        p.add_argument("--indicator", required=True, help="指标代码、名称或别名")
        p.add_argument("--month", required=True, help="月份 YYYY-MM")
        p.add_argument("--ytd", action="store_true", help="备注 1—N月累计值（而非当月值）")
        p.add_argument("--text", help="备注内容" + ("（只标记时可不填）" if name == "add" else "（核实结果，可不填）"))
        p.add_argument("--user", help="记录的作者（默认当前系统用户）")
        if name == "add":
            p.add_argument("--flag", action="store_true", help=f"同时标记{FLAG_LABEL}")
        p.set_defaults(func=cmd_add if name == "add" else cmd_clear)


def _key(ctx, args: argparse.Namespace) -> ValueKey:
    from monitor.domain.yeartodate import ytd_id
    from monitor.errors import NoteError

    region = ctx.regions.resolve(args.region)
    indicator = ctx.config.resolve_indicator(args.indicator)
    if indicator is None:
        raise NoteError(f"没有指标「{args.indicator}」；可用指标见 python -m etl check-config 或 indicators.yaml")
    return ValueKey(region, ytd_id(indicator) if args.ytd else indicator, args.month)


def cmd_list(args: argparse.Namespace) -> int:
    from monitor.context import open_context
    from monitor.views.valuenotes import note_history_table, open_flags_table

    ctx = open_context(args.config, args.db)
    regions = None
    if args.region:
        code = ctx.regions.resolve(args.region)
        regions = {code, *(r.code for r in ctx.regions.descendants(code))}
    if args.history:
        frame = note_history_table(ctx, sorted(regions) if regions is not None else None)
        empty = "还没有数值备注"
    else:
        frame = open_flags_table(ctx, regions)
        empty = f"没有{FLAG_LABEL}中的数值"
    if frame.empty:
        print(empty)
        return 0
    print(frame.to_string(index=False))
    return 0


def _write(args: argparse.Namespace, write, done: str) -> int:
    from cli.main import _deliver_audit, _writer
    from monitor.context import open_context
    from monitor.domain.periods import format_month_cn
    from monitor.domain.yeartodate import series_name

    ctx = open_context(args.config, args.db)
    key = _key(ctx, args)
    write(ctx.store, key, _writer(args.user))
    print(f"{done}：{ctx.regions[key.region_code].name} · {series_name(ctx.config, key.indicator_id, key.month)} · "
          f"{format_month_cn(key.month)}", flush=True)
    _deliver_audit(ctx.store)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    return _write(args, lambda store, key, by: add_note(store, key, args.text, by=by, raise_flag=args.flag),
                  f"已备注并标记{FLAG_LABEL}" if args.flag else "已备注")


def cmd_clear(args: argparse.Namespace) -> int:
    return _write(args, lambda store, key, by: clear_flag(store, key, args.text, by=by), f"已解除{FLAG_LABEL}")

