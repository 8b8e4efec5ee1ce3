"""``python -m etl``: the command-line door to the same engine the pages use.

Exit codes: 0 success (or a clean dry run), 1 rejected / invalid (nothing written), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from cli import briefing as briefing_cli
from cli import copying as copying_cli
from cli import mappings as mappings_cli
from cli import notes as notes_cli
from cli import notify as notify_cli
from cli import users as users_cli
from monitor.errors import (
    AccountsBusyError,
    ClosedPeriodError,
    ConfigError,
    LoadError,
    MonitorError,
    UnknownColumnsError,
)


def _print_table(frame, *, limit: int = 50) -> None:
    if frame.empty:
        return
    print(frame.head(limit).to_string(index=False))
    if len(frame) > limit:
        print(f"……（共 {len(frame)} 行，仅显示前 {limit} 行）")


def _writer(name: str | None = None):
    """Who writes from the command line: ``name`` (--user) or the operating-system user on the batch,
    every region (whoever has a shell can open the files), audited as the operating-system user
    (monitor/accounts/audit.py cli_actor). The writer commits the record with the write (monitor/store/writer.py)."""
    from monitor.accounts.audit import cli_actor
    from monitor.store.writer import Writer, current_user

    return Writer(name or current_user(), actor=cli_actor(), client="cli", via="cli")


LATER = "审计记录稍后补写（审计文件暂时被另一个程序占用；记录已随数据保存在数据库中，下次运行任一命令或打开看板时自动补写）"


def _deliver_audit(store) -> None:
    """Move the records just committed to the trail. The write has happened whatever becomes of
    this: a busy trail is said, not an error (exit 0 promises "written", 1 "nothing written")."""
    from monitor.store.outbox import drain_quietly

    if not drain_quietly(store):
        print(LATER)


def cmd_check_config(args: argparse.Namespace) -> int:
    from monitor.domain.config import load_config
    from monitor.domain.regions import load_regions

    try:
        config = load_config(args.file or args.config, regions=load_regions())
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    targets = sum(len(s.targets) for s in config.target_sets)
    print(f"配置有效：{len(config.indicators)} 个指标，{len(config.target_sets)} 个目标集，{targets} 个目标")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from monitor.context import ensure_demo_data, open_context, reset_demo_data

    ctx = open_context(args.config, args.db)
    by = _writer("demo-generator")
    if args.reset_demo:
        written = reset_demo_data(ctx, by=by)
    elif args.demo:
        written = ensure_demo_data(ctx, by=by)
    else:
        written = 0
    if args.reset_demo or written:
        _deliver_audit(ctx.store)
    rows = ctx.store.observation_count()
    print(f"数据库 {ctx.store.location}：结构已是最新；观测值 {rows} 条" + (f"（本次写入示例数据 {written} 条）" if written else ""))
    if args.maps:
        from monitor.domain.geo import prepare_maps

        maps = prepare_maps(ctx.config, ctx.regions)
        print(f"地图边界已准备（离线缓存）：{'、'.join(ctx.regions[c].name for c in maps)}")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from etl.loader import commit_plan, plan_upload
    from etl.mappings import MappingStore, SavedMappings
    from etl.preview import check_table, diff_table, duplicate_text, summary_text, warnings_note
    from monitor.context import open_context

    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    ctx = open_context(args.config, args.db)
    try:
        saved = MappingStore().for_user(args.user)  # everyone's, and --user's own
    except AccountsBusyError:  # the accounts are held by another process
        print("账户文件正忙，未能读取已保存的列对应关系，本次按没有对应关系检查（未知的列会被指出）；"
              "如需使用，请稍后重试", file=sys.stderr)
        saved = SavedMappings([])
    try:
        plan = plan_upload(ctx.store, ctx.config, ctx.regions, path.read_bytes(), path.name,
                           population=ctx.population, sheet=args.sheet, period=args.period,
                           within=ctx.regions.resolve(args.within) if args.within else None, mappings=saved)
    except LoadError as e:
        print(f"无法导入：{e}", file=sys.stderr)
        if isinstance(e, UnknownColumnsError):
            print("命令行可用 python -m etl mappings add 文件 --column 列名 --indicator 指标 保存列对应关系",
                  file=sys.stderr)
        return 1
    print(f"文件格式：{plan.source}；{plan.layout.description}")
    print(summary_text(plan))
    if (dup := duplicate_text(plan)) is not None:
        print(f"注意：{dup}")
    if plan.problems:
        _print_table(check_table(plan))
    if not plan.ok:
        print("有错误，未写入任何数据。请按上表修改后重新导入。", file=sys.stderr)
        return 1
    changed = diff_table(plan, ctx.config, ctx.regions, change="changed")
    if not changed.empty:
        print("将被修改的值（原值 → 新值）：")
        _print_table(changed)
    from monitor.store.writer import closed_summary, pending_corrections

    corrections = pending_corrections(ctx.store, plan.rows)
    if not corrections.empty:
        print(f"注意：本次{closed_summary(corrections)}，属于更正：提交时需用 --reason 说明更正理由，"
              "经管理员或审核员审核通过后才会发布。")
    if not args.commit:
        hint = "加 --commit 写入" + ("（有警告，还需加 --accept-warnings 确认，并用 --reason 说明理由）" if plan.warnings else "")
        print(f"预检完成，未写入。确认无误后{hint}。")
        return 0
    if plan.warnings and not args.accept_warnings:
        print(f"有 {len(plan.warnings)} 条警告，未写入。核对无误后加 --accept-warnings 确认写入，并用 --reason 说明理由。",
              file=sys.stderr)
        return 1
    reason = (args.reason or "").strip()
    if plan.warnings and not reason:
        print(f"有 {len(plan.warnings)} 条警告，未写入。确认写入需用 --reason 说明理由（记入批次说明和审计记录），"
              "例如 --reason \"已与市局核对，数值无误\"。", file=sys.stderr)
        return 1
    note = warnings_note(plan, reason) if plan.warnings else None
    detail = (summary_text(plan) + (f"；{note}" if note else "")
              + (f"；记录的操作人 {args.user}" if args.user else ""))
    try:
        batch = commit_plan(ctx.store, plan, by=_writer(args.user), accept_warnings=args.accept_warnings, note=note,
                            detail=detail, reason=reason or None)
    except ClosedPeriodError as e:
        print(str(e), file=sys.stderr)
        return 1
    print("数据无变化，未创建新批次。" if batch is None else f"已写入，批次号 {batch}", flush=True)
    _deliver_audit(ctx.store)
    return 0


def cmd_batches(args: argparse.Namespace) -> int:
    from monitor.context import open_context
    from monitor.store.approval import REVIEW_LABELS
    from monitor.store.history import BATCH_KIND_LABELS, BATCH_STATUS_LABELS, list_batches

    ctx = open_context(args.config, args.db)
    frame = list_batches(ctx.store, limit=args.limit)
    if frame.empty:
        print("还没有任何导入批次")
        return 0
    table = pd.DataFrame({
        "批次": frame["id"], "类型": frame["kind"].map(BATCH_KIND_LABELS), "时间": frame["loaded_at"].astype(str).str[:19],
        "操作人": frame["loaded_by"], "文件": frame["file_name"], "新增": frame["rows_inserted"],
        "修改": frame["rows_updated"], "未变": frame["rows_unchanged"], "状态": frame["status"].map(BATCH_STATUS_LABELS),
        "审核": frame["review"].map(REVIEW_LABELS).fillna("—"),
        "审核人": frame["reviewed_by"].fillna(""),
    })
    _print_table(table, limit=args.limit)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from monitor.context import open_context
    from monitor.store.history import batch, batch_row_count, batch_rows, stored_file

    ctx = open_context(args.config, args.db)
    info = batch(ctx.store, args.id)
    rows = batch_rows(ctx.store, args.id, limit=args.limit)
    print(f"批次 {info['id']}：{info['file_name']}，{str(info['loaded_at'])[:19]}，{info['loaded_by']}；写入 {batch_row_count(ctx.store, args.id)} 个值")
    _print_table(rows, limit=args.limit)
    if args.save_file:
        kept = stored_file(ctx.store, info["file_hash"])
        if kept is None:
            print("该批次没有保存原文件（例如示例数据）", file=sys.stderr)
            return 1
        Path(args.save_file).write_bytes(kept[1])
        print(f"原文件已保存到 {args.save_file}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from monitor.context import open_context
    from monitor.store.history import batch, rollback_preview
    from monitor.store.writer import rollback_batch

    ctx = open_context(args.config, args.db)
    preview = rollback_preview(ctx.store, args.id)
    rollback_id = rollback_batch(ctx.store, args.id, by=_writer(args.user), reason=args.reason)
    print(f"批次 {args.id} 已回滚（回滚记录为批次 {rollback_id}），被它替换的数值已恢复", flush=True)
    for sentence in preview.sentences():
        print(f"{sentence}。")
    if correction := batch(ctx.store, rollback_id)["correction_reason"]:
        print(f"本次回滚修改了已关账期间的数值，已记为更正（理由：{correction}）。")
    _deliver_audit(ctx.store)
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    from monitor.context import open_context
    from monitor.store.approval import approve

    ctx = open_context(args.config, args.db)
    by = _writer(args.user)
    approve(ctx.store, args.id, by=by, detail=f"审核人 {by.name}")
    print(f"批次 {args.id} 已审核通过并发布", flush=True)
    _deliver_audit(ctx.store)
    return 0


def cmd_return(args: argparse.Namespace) -> int:
    from monitor.context import open_context
    from monitor.store.approval import return_batch

    ctx = open_context(args.config, args.db)
    rollback_id = return_batch(ctx.store, args.id, by=_writer(args.user), reason=args.reason)
    print(f"批次 {args.id} 已退回（理由：{args.reason.strip()}），其数值已撤下（回滚记录为批次 {rollback_id}）", flush=True)
    _deliver_audit(ctx.store)
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from etl.templates import template_csv, template_frame, template_title, template_xlsx
    from monitor.context import open_context

    ctx = open_context(args.config, args.db)
    scope = ctx.regions.resolve(args.region)
    frame = template_frame(ctx.config, ctx.regions, scope, args.month, args.form)
    out = Path(args.out)
    if out.suffix.lower() == ".xlsx":
        out.write_bytes(template_xlsx(frame, ctx.config, title=template_title(ctx.regions, scope, args.month)))
    else:
        out.write_bytes(template_csv(frame))
    print(f"模板已写入 {out}（{len(frame)} 行）")
    return 0


def cmd_completeness(args: argparse.Namespace) -> int:
    from monitor.context import open_context
    from monitor.store.history import SUMMARY_HEADERS, completeness

    ctx = open_context(args.config, args.db)
    scope = ctx.regions.resolve(args.region)
    result = completeness(ctx.store, ctx.config, ctx.regions, scope, args.month)
    if args.owed:
        return _print_owed(ctx, result, scope, args)
    from monitor.views.chase import due_dates_text

    print(f"{ctx.regions[scope].name} {args.month} 报送情况（截止 {due_dates_text(result, '%Y-%m-%d')}）：")
    _print_table(result.summary.drop(columns=["region_code"]).rename(columns=SUMMARY_HEADERS), limit=200)
    return 0


def _print_owed(ctx, result, scope: str, args: argparse.Namespace) -> int:
    """催报: who still owes what for the month, with the contacts from the accounts."""
    from monitor.accounts.users import AccountStore
    from monitor.domain import clock
    from monitor.output.tables import csv_bytes, xlsx_bytes
    from monitor.views.chase import (
        BY_REGION_HEADERS,
        NO_CONTACT,
        OWED_HEADERS,
        days_overdue,
        due_dates_text,
        owed_by_region,
        owed_reports,
    )

    owed = owed_reports(result, AccountStore(args.accounts).list(), ctx.regions, clock.today())
    late = int(owed["days_overdue"].max()) if not owed.empty else days_overdue(result.due.date(), clock.today())
    state = f"已逾期 {late} 天" if late else "尚未到截止日"
    print(f"{ctx.regions[scope].name} {result.month} 催报名单（应于 {due_dates_text(result, '%Y-%m-%d')} 前报送，{state}）：")
    if owed.empty:
        print("没有未报送的数值")
    else:
        table = owed_by_region(owed).drop(columns=["region_code", "due"])
        names = owed.groupby("region_code", sort=False)["indicator_name"].agg(list)  # the whole list goes to --out
        table["indicators"] = [("、".join(n[:2]) + (f" 等 {len(n)} 项" if len(n) > 2 else "")) for n in names]
        table = table.replace({"contacts": {"": NO_CONTACT}}).rename(columns=BY_REGION_HEADERS)
        _print_table(table, limit=200)
    if args.out:
        out = Path(args.out)
        frame = owed.drop(columns=["indicator_id"]).rename(columns=OWED_HEADERS)
        out.write_bytes(xlsx_bytes(frame) if out.suffix.lower() == ".xlsx" else csv_bytes(frame))
        print(f"催报名单（{len(owed)} 行，每行一个地区的一项指标）已写入 {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """A target set for one region as of a month: a table for people, CSV or JSON for machines.
    Exit code 3 when any of the region's own targets is 滞后 or 未达成 (a scheduled job acts on it)."""
    from monitor.context import open_context
    from monitor.domain import clock
    from monitor.domain.periods import last_full_month, parse_month
    from monitor.errors import NotApplicableError, PeriodError, RegionError
    from monitor.store.readings import with_readings
    from monitor.views.report import BEHIND_EXIT_STATUSES, evaluation_report, report_table

    ctx = with_readings(open_context(args.config, args.db))  # the readings chosen on 总览
    if args.target_set not in ctx.config.target_set_by_id:
        print(f"没有目标集「{args.target_set}」；可用：{'、'.join(ctx.config.target_set_by_id)}", file=sys.stderr)
        return 2
    try:
        as_of = parse_month(args.as_of) if args.as_of else last_full_month(clock.today())
        region = ctx.regions.resolve(args.region) if args.region else None
        report = evaluation_report(ctx, args.target_set, as_of, region)
    except (PeriodError, RegionError, NotApplicableError) as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(report.to_json(orient="records", force_ascii=False, indent=1))
    elif args.format == "csv":
        sys.stdout.write(report.to_csv(index=False))
    else:
        tset = ctx.config.target_set(args.target_set)
        print(f"{ctx.regions[report['region'].iloc[0]].name} · {tset.short_title}（{tset.doc_number or '无文号'}）"
              f"　截至{as_of}")
        _print_table(report_table(report), limit=500)
        if report["demo"].any():
            print("注：标「示例」的行含示例数据（虚构，仅供演示），不是公布或报送的数据。")
        if report["reference"].any():
            print("注：状态后注「（参考）」的目标为按人口折算的参考值，不是该地区自己的目标。")
    own = report[~report["reference"]]
    return 3 if own["status"].isin(BEHIND_EXIT_STATUSES).any() else 0


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
    p.add_argument("--maps", action="store_true", help="预先简化并缓存常用地图边界（全国及各目标集所在省市）")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("load", help="导入 CSV 或 Excel（长表或宽表）；默认只预检，加 --commit 写入")
    p.add_argument("file")
    p.add_argument("--sheet", help="Excel 工作表名称或序号（默认第一个）")
    p.add_argument("--period", help="文件中没有期间列时使用的月份 YYYY-MM（优先于标题中的月份）")
    p.add_argument("--within", help="地区简称按此地区范围解析（代码或名称，如 140000）")
    p.add_argument("--commit", action="store_true", help="预检无错误时写入数据库")
    p.add_argument("--accept-warnings", action="store_true", help="确认警告（异常波动等）后仍写入")
    p.add_argument("--reason", help="理由：接受警告时必填；修改已关账期间的数值（更正）时必填；记入批次说明和审计记录")
    p.add_argument("--user", help="记录在批次中的操作人（默认当前系统用户）")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("batches", help="列出导入批次")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_batches)

    p = sub.add_parser("batch", help="显示一个批次写入的数值")
    p.add_argument("id", type=int)
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--save-file", help="把该批次的原文件保存到此路径")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("rollback", help="回滚一个批次，恢复被它替换的数值")
    p.add_argument("id", type=int)
    p.add_argument("--user", help="记录在回滚批次中的操作人")
    p.add_argument("--reason", help="更正理由：回滚会修改已关账期间的数值（更正）时必填，记入回滚批次和审计记录")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("approve", help="审核通过一个待审核批次，使其数值发布（不能审核本人上传的批次）")
    p.add_argument("id", type=int)
    p.add_argument("--user", help="记录的审核人（默认当前系统用户）")
    p.set_defaults(func=cmd_approve)

    p = sub.add_parser("return", help="退回一个待审核批次（撤下其数值），理由必填，上传人在导入记录中可见")
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True, help="退回理由")
    p.add_argument("--user", help="记录的审核人（默认当前系统用户）")
    p.set_defaults(func=cmd_return)

    p = sub.add_parser("template", help="生成空白报送模板（.csv 或 .xlsx）")
    p.add_argument("--region", required=True, help="省或市（代码或名称），模板列出它和下一级地区")
    p.add_argument("--month", required=True, help="月份 YYYY-MM")
    p.add_argument("--form", choices=["long", "wide"], default="wide", help="长表或宽表（默认宽表）")
    p.add_argument("--out", required=True, help="输出文件，扩展名 .csv 或 .xlsx")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("completeness", help="某月各地区报送情况")
    p.add_argument("--region", required=True, help="省或市（代码或名称）")
    p.add_argument("--month", required=True, help="月份 YYYY-MM")
    p.add_argument("--owed", action="store_true", help="催报名单：尚未报送的地区、指标、截止日期、逾期天数与联系人")
    p.add_argument("--out", help="与 --owed 配合：把催报名单写入 .csv 或 .xlsx")
    p.add_argument("--accounts", help="账户文件或 postgresql:// 地址（联系人来自账户；默认 ~/.config/ipmon/accounts.sqlite3 或 IPMON_ACCOUNTS）")
    p.set_defaults(func=cmd_completeness)

    p = sub.add_parser("evaluate", help="一个目标集在某地区、某月的评估结果（有目标滞后或未达成时退出码为 3）")
    p.add_argument("--target-set", required=True, help="目标集 id（见 indicators.yaml 或 check-config）")
    p.add_argument("--as-of", help="截至月份 YYYY-MM（默认上一个完整月份）")
    p.add_argument("--region", help="地区（代码或名称，默认目标集所在地区；可为同级或下级地区，按参考值评估）")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table",
                   help="table：中文表格；csv、json：英文列名的数值列，供程序读取")
    p.set_defaults(func=cmd_evaluate)
    briefing_cli.add_parser(sub)
    notify_cli.add_parser(sub)
    notes_cli.add_parser(sub)
    users_cli.add_parser(sub)
    mappings_cli.add_parser(sub)
    copying_cli.add_parser(sub)
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
