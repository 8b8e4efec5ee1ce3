"""``python -m etl notify``: send each subscriber what changed since the last run (monitor/output/notify.py).

    python -m etl notify              # find, send, record; for cron or a systemd timer
    python -m etl notify --dry-run    # what would be sent to whom; sends and records nothing

Settings: IPMON_SMTP_HOST, IPMON_SMTP_PORT, IPMON_SMTP_SECURITY (starttls | ssl | none),
IPMON_SMTP_USER, IPMON_SMTP_PASSWORD, IPMON_SMTP_FROM, IPMON_SMTP_CAFILE, IPMON_NOTIFY_TIMEOUT,
IPMON_PUBLIC_URL (the dashboard's address, for links), IPMON_BRIEFINGS_DIR (where briefings sent as
links are written). Exit codes: 0 everything sent (or nothing
to send), 1 some messages failed (they are tried again on the next run), 2 usage or settings.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("notify", help="向订阅者发送自上次运行以来的变化（目标滞后、逾期未报、待审核、带警告导入、每月简报）")
    p.add_argument("--accounts", help="账户文件或 postgresql:// 地址（默认 ~/.config/ipmon/accounts.sqlite3，或环境变量 IPMON_ACCOUNTS）")
    p.add_argument("--dry-run", action="store_true", help="只列出将发送的消息，不发送、不记录")
    p.set_defaults(func=cmd_notify)


def cmd_notify(args: argparse.Namespace) -> int:
    from monitor.accounts.access import default_accounts_path
    from monitor.context import open_context
    from monitor.domain import clock
    from monitor.errors import NotifySettingError
    from monitor.output.notify import ITEM_SECTIONS, NotifySettings, run_notify
    from monitor.store.readings import with_readings

    try:
        settings = NotifySettings.from_env()
    except NotifySettingError as e:
        print(f"设置有误：{e}", file=sys.stderr)
        return 2
    ctx = with_readings(open_context(args.config, args.db))
    from monitor.output.export import shutdown

    try:
        run = run_notify(ctx, path=args.accounts or default_accounts_path(), settings=settings, today=clock.today(),
                         now=clock.now(), dry_run=args.dry_run)
    finally:
        shutdown()
    found = "，".join(f"{ITEM_SECTIONS[k]} {n}" for k, n in run.found.items()) or "无"
    print(f"本次检查：{found}；其中新发现 {run.new_items} 条" +
          ("（首次运行：已记录各目标当前状态作为比较基准，之后只通知变化）" if run.baseline else ""))
    if not run.outcomes:
        print("没有需要发送的消息")
        return 0
    for outcome in run.outcomes:
        m = outcome.message
        where = f"订阅 {m.subscription.id}（{m.subscription.label}）{'邮件' if m.channel == 'email' else '群机器人'} {m.recipient}"
        if run.dry_run:
            print(f"将发送：{where}：{m.subject}")
            print("  " + m.text.replace("\n", "\n  "))
        elif outcome.ok:
            print(f"已发送：{where}：{len(m.items)} 条")
        else:
            print(f"发送失败：{where}：{outcome.error}（下次运行时重试）", file=sys.stderr)
    if run.without_links and settings.public_url is None:
        ids = "、".join(dict.fromkeys(str(o.message.subscription.id) for o in run.without_links))
        print(f"注意：未设置 IPMON_PUBLIC_URL（系统访问地址），订阅 {ids} 的每月简报无法附下载链接，"
              f"消息{'将' if run.dry_run else '已'}不带链接发送；设置后新的简报才会带链接（见 README「提醒与订阅」）")
    if run.dry_run:
        print("预览完成，未发送、未记录。")
        return 0
    sent, failed = len(run.outcomes) - len(run.failed), len(run.failed)
    print(f"共 {len(run.outcomes)} 条消息：发送成功 {sent}，失败 {failed}")
    return 1 if failed else 0
