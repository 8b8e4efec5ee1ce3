"""Alerts: what changed since the last run of ``python -m etl notify``, sent to each subscriber.

One run, meant for cron or a systemd timer:

1. **Find** (``detect``) what is new, as *items*, each with a key that says what and when:
   - a target that turned 滞后 or 未达成: every (target set, region, target)'s status as of the last
     full month against the status recorded at the previous run (``notify_state``); the sets are
     evaluated for their own region and the regions below it, as 状态矩阵 shows them. The first
     run only records the statuses (a baseline), so installing it sends no flood;
   - a region past its due date (the reporting calendar, indicators.yaml) for the last full month with values still
     未报送 (regions that have never reported anything are not chased);
   - a batch waiting for approval (``pending_batches``, monitor/store/approval.py);
   - a batch committed with warnings accepted since the previous run;
   - the monthly briefing of a subscription's regions, once the month's due date has passed.
2. **Send** each subscription the undelivered items of its regions and kinds: one e-mail (SMTP,
   ``NotifySettings``) and/or one webhook POST (企业微信/钉钉 group robots, or plain JSON), the
   briefings in a second message: as PDF attachments of an e-mail, or, for a subscription that
   asks for links, as download links in its e-mail and its webhook message (a chat robot takes no
   attachments). A linked briefing is written once under IPMON_BRIEFINGS_DIR with a random token
   recorded in the accounts file (``publish_briefing``); pages/briefing_file.py hands it out to
   whoever holds the token and may view the dashboard. A delivery is recorded per (item,
   subscription, channel) only once the server accepted it: a rerun sends nothing twice and a
   failed send is tried again on the next run. Every message, sent or failed, goes to 通知记录.

Everything it keeps is in the accounts file (monitor/accounts/subscriptions.py), never in the store: the
store is only read. Two runs at once are refused (a lock file beside the accounts file).
"""

from __future__ import annotations

import json
import os
import secrets
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd

from monitor import settings
from monitor.accounts.access import Location, location, single_run
from monitor.accounts.subscriptions import (
    KINDS,
    BriefingFile,
    Subscription,
    SubscriptionStore,
    briefing_file,
    connect_notify,
    mask_url,
)
from monitor.accounts.users import AccountStore
from monitor.domain.config import MilestoneTarget, due_on
from monitor.domain.periods import format_month_cn, last_full_month
from monitor.errors import MonitorError
from monitor.evaluation.applied import applies_to
from monitor.evaluation.status import Status
from monitor.views.formatting import format_value

ALERT_STATUSES = frozenset({Status.BEHIND.value, Status.MISSED.value})
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
# what a group robot accepts in one text message (bytes of UTF-8)
TEXT_LIMITS = {"wecom": 2048, "dingtalk": 20000, "json": 1_000_000}
SYSTEM_NAME = "知识产权指标监测"
ITEM_SECTIONS = {**KINDS, "briefing": "每月监测简报"}


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class NotifySettings:
    """Where mail goes and how links are written; from IPMON_SMTP_* and IPMON_PUBLIC_URL."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_cafile: str | None = None
    timeout: float = 20.0
    public_url: str | None = None
    briefings_dir: Path = settings.DEFAULT_BRIEFINGS_DIR

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifySettings:
        """``env``: a mapping read instead of os.environ (tests); monitor/settings.py reads each value."""
        security = settings.smtp_security(env)
        port = settings.smtp_port(env)
        return cls(smtp_host=settings.smtp_host(env), smtp_port=DEFAULT_PORTS[security] if port is None else port,
                   smtp_security=security, smtp_user=settings.smtp_user(env),
                   smtp_password=settings.smtp_password(env), smtp_from=settings.smtp_from(env),
                   smtp_cafile=settings.smtp_cafile(env), timeout=settings.notify_timeout(env),
                   public_url=settings.public_url(env), briefings_dir=settings.briefings_dir(env))


# --------------------------------------------------------------------------- items


@dataclass(frozen=True)
class Item:
    key: str
    kind: str  # a KINDS key, or "briefing"
    regions: tuple[str, ...]
    title: str
    body: str
    link: str | None
    detail: dict = field(default_factory=dict)
    created_at: str = ""


def dashboard_link(base: str | None, ctx, set_id: str, region: str, as_of: str | None = None,
                   page: str = "") -> str | None:
    """A link opening the dashboard on ``region`` under the set (the sidebar's query parameters:
    pages/_sidebar.py ``_hand_back``); None without IPMON_PUBLIC_URL."""
    if not base:
        return None
    tset = ctx.config.target_set(set_id)
    r = ctx.regions[region]
    params = {"target_set": set_id}
    chain = {a.level: a.code for a in [r, *ctx.regions.ancestors(region)]}
    if ctx.regions[tset.region].level == "country" and r.level != "country":
        params["region"] = chain.get("province", region)  # then the 市 and 区县 boxes
        if "city" in chain or "zone" in chain:
            params["city"] = chain.get("city") or chain["zone"]
        if r.level == "county":
            params["county"] = region
    elif r.level == "county" and r.parent:
        params.update(region=r.parent, county=region)
    else:
        params["region"] = region
    if as_of:
        params["as_of"] = as_of
    return f"{base}/{page}?{urlencode(params)}"


def pending_batches(store) -> pd.DataFrame:
    """Committed batches waiting for a reviewer: batch_id, file_name, loaded_at, loaded_by (and
    rows_total, regions), oldest first (approval before publish, monitor/store/approval.py)."""
    from monitor.store.approval import pending_batches as waiting

    return waiting(store)


def target_statuses(ctx, as_of: str) -> pd.DataFrame:
    """Every indicator target of every set, for the set's own region and the regions below it."""
    from monitor.domain.geo import GeometryError, map_children
    from monitor.views.grid import grid_cells

    frames = []
    for tset in ctx.config.target_sets:
        if all(isinstance(t, MilestoneTarget) for t in tset.targets):
            continue
        try:
            below = map_children(ctx.regions, tset.region)
        except GeometryError:
            below = []
        cells = grid_cells(ctx, tset.id, [tset.region, *below], as_of)
        frames.append(cells.assign(target_set=tset.id))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _target_items(ctx, statuses: pd.DataFrame, previous: dict, as_of: str, base: str | None,
                  baseline: bool) -> list[Item]:
    if baseline:
        return []
    items = []
    for row in statuses.itertuples():
        before = previous.get((row.target_set, row.region_code, row.target_id))
        if row.status not in ALERT_STATUSES or row.status == before:
            continue
        tset = ctx.config.target_set(row.target_set)
        change = f"由「{before}」转为「{row.status_label}」" if before else f"状态为「{row.status_label}」"
        current = (f"当前值 {format_value(row.current)} {row.unit}（{format_month_cn(row.current_period)}）。"
                   if isinstance(row.current_period, str) else "")
        body = (f"《{tset.short_title}》目标「{row.target_text}」：{change}（截至{format_month_cn(as_of)}）。"
                f"{current}{row.explanation if isinstance(row.explanation, str) else ''}")
        link = dashboard_link(base, ctx, row.target_set, row.region_code, as_of)
        items.append(Item(
            key=f"target|{row.target_set}|{row.region_code}|{row.target_id}|{row.status}|{as_of}", kind="target",
            regions=(row.region_code,), title=f"{row.region_name}：{row.indicator_name}{row.status_label}",
            body=body, link=link,
            detail={"target_set": row.target_set, "region": row.region_code, "region_name": row.region_name,
                    "target": row.target_id, "indicator": row.indicator, "status": row.status,
                    "status_label": row.status_label, "previous": before, "as_of": as_of,
                    "current": None if pd.isna(row.current) else float(row.current),
                    "current_period": row.current_period if isinstance(row.current_period, str) else None,
                    "unit": row.unit,
                    "target_value": None if pd.isna(row.target_value) else float(row.target_value)}))
    return items


def due_date(config, month: str) -> date:
    """The day by which ``month``'s monthly figures are due (reporting.due.monthly of the following
    month); an indicator may be due later (annual ones, exceptions: ``config.reporting.due_date``)."""
    return due_on(config.reporting.due.monthly, month)


def _scopes(ctx, subscriptions: list[Subscription], wanted: Callable[[Subscription], bool]) -> list[str]:
    """The regions the subscriptions wanting something ask about ('' = every set's region)."""
    codes: list[str] = []
    for sub in subscriptions:
        if wanted(sub):
            codes += list(sub.regions) or [s.region for s in ctx.config.target_sets]
    return list(dict.fromkeys(codes))


def _overdue_items(ctx, subscriptions: list[Subscription], today: date, accounts: list, base: str | None
                   ) -> list[Item]:
    from monitor.store.history import completeness
    from monitor.views.chase import contacts_for

    month = last_full_month(today)
    due = due_date(ctx.config, month)
    if today <= due:
        return []
    scopes = _scopes(ctx, subscriptions, lambda s: "overdue" in s.kinds)
    if not scopes:
        return []
    reporting = set(ctx.store.query("SELECT DISTINCT region_code FROM observations")["region_code"])
    items, seen = [], set()
    for scope in scopes:
        result = completeness(ctx.store, ctx.config, ctx.regions, scope, month)
        owed = result.cells[(result.cells["state"] == "owed") & (pd.to_datetime(result.cells["due"]).dt.date < today)]
        for code, cells in owed.groupby("region_code", sort=False):
            if code in seen or code not in reporting:
                continue
            seen.add(code)
            name = ctx.regions[code].name
            names = "、".join(cells["indicator_name"])
            people = "、".join(a.label for a in contacts_for(code, accounts, ctx.regions))
            late = (today - due).days
            body = (f"{name}{format_month_cn(month)}的数据应于 {due:%Y年%-m月%-d日} 前报送，已逾期 {late} 天，"
                    f"尚有 {len(cells)} 项未报送：{names}。" + (f"联系人：{people}。" if people else ""))
            link = f"{base}/completeness?{urlencode({'scope': scope, 'month': month})}" if base else None
            items.append(Item(key=f"overdue|{code}|{month}", kind="overdue", regions=(code,),
                              title=f"{name}{format_month_cn(month)}数据逾期未报送", body=body, link=link,
                              detail={"region": code, "region_name": name, "month": month, "due": due.isoformat(),
                                      "days_overdue": late, "missing": list(cells["indicator_id"])}))
    return items


def _batch_item(ctx, kind: str, row, base: str | None, text: str) -> Item:
    from monitor.store.history import batch_regions

    codes = tuple(sorted(batch_regions(ctx.store, int(row.batch_id))))
    names = "、".join(ctx.regions[c].name for c in codes[:8]) + ("等" if len(codes) > 8 else "")
    when = str(row.loaded_at)[:16]
    return Item(key=f"{kind}|{int(row.batch_id)}", kind=kind, regions=codes,
                title=f"批次 {int(row.batch_id)}（{row.file_name}）{text}",
                body=f"批次 {int(row.batch_id)}：文件「{row.file_name}」，{row.loaded_by} 于 {when} 提交，涉及 {names}。"
                     + (f"确认了 {int(row.rows_warnings)} 条警告后写入，请核对。" if kind == "warnings" else "等待审核。"),
                link=f"{base}/history" if base else None,
                detail={"batch_id": int(row.batch_id), "file_name": row.file_name, "loaded_by": row.loaded_by,
                        "loaded_at": str(row.loaded_at), "regions": list(codes),
                        **({"warnings": int(row.rows_warnings)} if kind == "warnings" else {})})


def briefing_sets(ctx, region: str) -> list[str]:
    """The target sets whose briefing a subscriber of ``region`` gets: the region's own sets, else
    those of the nearest region above it that has sets (applied to it as a reference)."""
    for code in [region, *(a.code for a in ctx.regions.ancestors(region))]:
        own = [s.id for s in ctx.config.target_sets if s.region == code]
        if own:
            return [s for s in own if applies_to(ctx.regions, code, region)]
    return []


def _briefing_items(ctx, subscriptions: list[Subscription], today: date, base: str | None) -> list[Item]:
    from monitor.output.briefing import briefing_title

    month = last_full_month(today)
    if today <= due_date(ctx.config, month):
        return []
    items = []
    for code in _scopes(ctx, subscriptions, lambda s: s.briefing):
        for set_id in briefing_sets(ctx, code):
            title = briefing_title(ctx, set_id, code, month)
            items.append(Item(key=f"briefing|{set_id}|{code}|{month}", kind="briefing", regions=(code,), title=title,
                              body=f"{title}，见附件 PDF。", link=dashboard_link(base, ctx, set_id, code, month),
                              detail={"target_set": set_id, "region": code, "month": month}))
    return items


@dataclass
class Detection:
    items: list[Item]  # found this run (some may have been found before: their keys decide)
    statuses: pd.DataFrame
    as_of: str
    baseline: bool  # first run: statuses recorded, no target items
    last_batch_id: int


def detect(ctx, path: Location, today: date, subscriptions: list[Subscription], *, accounts: list,
           settings: NotifySettings, pending: pd.DataFrame | None = None) -> Detection:
    """What is new as of ``today`` against what the previous run recorded (nothing is written)."""
    as_of = last_full_month(today)
    base = settings.public_url
    with connect_notify(path, write=False) as con:
        previous = {(s, r, t): status for s, r, t, status in
                    con.execute("SELECT target_set, region, target, status FROM notify_state")}
        meta = dict(con.execute("SELECT key, value FROM notify_meta").fetchall())
    baseline = "targets_baseline_at" not in meta
    statuses = target_statuses(ctx, as_of)
    items = _target_items(ctx, statuses, previous, as_of, base, baseline)
    items += _overdue_items(ctx, subscriptions, today, accounts, base)
    pending = pending_batches(ctx.store) if pending is None else pending
    items += [_batch_item(ctx, "pending", row, base, "待审核") for row in pending.itertuples()]
    last = int(ctx.store.query("SELECT coalesce(max(id), 0) AS n FROM load_batches")["n"].iloc[0])
    if "last_batch_id" in meta:
        warned = ctx.store.query(
            "SELECT id AS batch_id, file_name, loaded_at, loaded_by, rows_warnings FROM load_batches "
            "WHERE kind = 'load' AND status = 'committed' AND rows_warnings > 0 AND id > ? ORDER BY id",
            [int(meta["last_batch_id"])])
        items += [_batch_item(ctx, "warnings", row, base, "带警告导入") for row in warned.itertuples()]
    items += _briefing_items(ctx, subscriptions, today, base)
    return Detection(items, statuses, as_of, baseline, last)


def _save(con, detection: Detection, now: str) -> int:
    """Record the items (each key once), the statuses and the watermarks; returns how many items are new."""
    new = con.executemany("INSERT INTO notify_items (key, kind, regions, title, body, link, detail, created_at) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          [(i.key, i.kind, ",".join(i.regions), i.title, i.body, i.link,
                            json.dumps(i.detail, ensure_ascii=False), now) for i in detection.items])
    s = detection.statuses
    if not s.empty:
        con.executemany("INSERT INTO notify_state VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (target_set, region, target) "
                        "DO UPDATE SET status = excluded.status, as_of = excluded.as_of, seen_at = excluded.seen_at",
                        zip(s["target_set"], s["region_code"], s["target_id"], s["status"],
                            [detection.as_of] * len(s), [now] * len(s)))
    con.execute("INSERT INTO notify_meta VALUES ('targets_baseline_at', ?) ON CONFLICT DO NOTHING", [now])
    con.execute("INSERT INTO notify_meta VALUES ('last_batch_id', ?) ON CONFLICT (key) DO UPDATE SET "
                "value = excluded.value", [str(detection.last_batch_id)])
    return new


def _stored_items(con) -> list[Item]:
    rows = con.execute("SELECT key, kind, regions, title, body, link, detail, created_at FROM notify_items "
                       "ORDER BY created_at, key").fetchall()
    return [Item(k, kind, tuple(c for c in regions.split(",") if c), title, body, link, json.loads(detail or "{}"), at)
            for k, kind, regions, title, body, link, detail, at in rows]


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Message:
    subscription: Subscription
    channel: str  # email | webhook
    items: tuple[Item, ...]
    subject: str
    text: str
    downloads: Mapping[str, str] = field(default_factory=dict)  # item key → the briefing's download link

    @property
    def recipient(self) -> str:
        return self.subscription.email if self.channel == "email" else mask_url(self.subscription.webhook_url)

    @property
    def briefing(self) -> bool:
        return bool(self.items) and self.items[0].kind == "briefing"


def _wants(sub: Subscription, item: Item, channel: str, ctx) -> bool:
    if item.created_at < sub.created_at:  # nothing from before the subscription existed
        return False
    if item.kind == "briefing":
        mine = list(sub.regions) or [s.region for s in ctx.config.target_sets]
        return sub.briefing and (channel == "email" or sub.briefing_linked) and item.regions[0] in mine
    return item.kind in sub.kinds and sub.covers(item.regions, ctx.regions)


def compose(sub: Subscription, channel: str, items: list[Item], today: date, base: str | None,
            downloads: Mapping[str, str] | None = None) -> Message:
    """One message of ``items`` for a subscription, grouped by kind, in Chinese. ``downloads``: the
    download link of each briefing, for a subscription that has them linked (none yet in a dry run)."""
    briefing = items[0].kind == "briefing"
    linked = briefing and sub.briefing_linked
    downloads = dict(downloads or {})
    if briefing:
        subject = f"【{SYSTEM_NAME}】监测简报（{len(items)} 份，{today:%Y-%m-%d}）"
    else:
        subject = f"【{SYSTEM_NAME}】{len(items)} 条提醒（{today:%Y-%m-%d}）"
    lines = [f"【{SYSTEM_NAME}】{sub.label}" + ("，您好：" if channel == "email" else "")]
    lines.append(("本月监测简报（PDF）请从下面的链接下载：" if linked else "本月监测简报见附件：") if briefing
                 else "自上次通知以来有以下变化：")
    numerals = "一二三四五六七八九十"
    sections = [(kind, [i for i in items if i.kind == kind]) for kind in ITEM_SECTIONS]
    for n, (kind, chosen) in enumerate((s for s in sections if s[1]), start=0):
        lines.append("")
        lines.append(f"{numerals[n]}、{ITEM_SECTIONS[kind]}（{len(chosen)} 条）")
        for k, item in enumerate(chosen, start=1):
            lines.append(f"{k}. {item.title}")
            if not linked:
                lines.append(f"   {item.body}")
            elif item.key in downloads:
                lines.append(f"   下载 PDF：{downloads[item.key]}")
            elif base:
                lines.append("   下载 PDF：（发送时生成链接）")
            else:
                lines.append("   （系统未配置访问地址，无法附下载链接；请登录系统在总览页下载简报，或联系管理员）")
            if item.link:
                lines.append(f"   查看：{item.link}")
    lines.append("")
    if channel == "email":
        lines.append(f"此邮件由{SYSTEM_NAME}系统自动发送（订阅编号 {sub.id}）。停止接收：登录系统后在「我的账户」页停止订阅，"
                     "或联系管理员。" + (f"系统地址：{base}" if base else ""))
    else:
        lines.append(f"——{SYSTEM_NAME}（订阅编号 {sub.id}）")
    return Message(sub, channel, tuple(items), subject, "\n".join(lines), downloads)


def fit_text(text: str, limit: int, note: str) -> str:
    """``text`` cut at a line so that it and ``note`` fit in ``limit`` bytes of UTF-8."""
    if len(text.encode()) <= limit:
        return text
    kept: list[str] = []
    budget = limit - len(note.encode()) - 2
    for line in text.split("\n"):
        size = len(line.encode()) + 1
        if size > budget:
            break
        kept.append(line)
        budget -= size
    return "\n".join(kept) + "\n" + note


def webhook_payload(message: Message, base: str | None) -> dict:
    fmt = message.subscription.webhook_format
    if fmt == "json":
        return {"source": SYSTEM_NAME, "subscription": message.subscription.id, "subject": message.subject,
                "text": message.text,
                "items": [{"key": i.key, "kind": i.kind, "kind_label": ITEM_SECTIONS[i.kind], "regions": list(i.regions),
                           "title": i.title, "link": i.link, "detail": i.detail,
                           "body": f"{i.title}，PDF 下载：{message.downloads[i.key]}" if i.key in message.downloads
                           else i.body,
                           **({"download": message.downloads[i.key]} if i.key in message.downloads else {})}
                          for i in message.items]}
    note = f"……（内容过长已截断，共 {len(message.items)} 条" + (f"，详见 {base}" if base else "") + "）"
    return {"msgtype": "text", "text": {"content": fit_text(message.text, TEXT_LIMITS[fmt], note)}}


class SendError(MonitorError):
    """A message the mail server or the webhook did not accept."""


def post_webhook(message: Message, settings: NotifySettings) -> None:
    payload = webhook_payload(message, settings.public_url)
    request = urllib.request.Request(message.subscription.webhook_url, method="POST",
                                     data=json.dumps(payload, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:  # noqa: S310 (http(s) checked)
            body = response.read(65536)
    except urllib.error.HTTPError as e:
        raise SendError(f"群机器人地址返回 HTTP {e.code}") from e
    except (urllib.error.URLError, OSError) as e:
        raise SendError(f"无法连接群机器人地址：{getattr(e, 'reason', e)}") from e
    if message.subscription.webhook_format in ("wecom", "dingtalk"):
        try:
            answer = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SendError("群机器人地址的回应不是 JSON：地址可能不是群机器人的 webhook") from None
        if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
            raise SendError(f"群机器人拒绝了消息：errcode {answer.get('errcode')}，{answer.get('errmsg', '')}")


def send_email(message: Message, settings: NotifySettings, attachments: list[tuple[str, bytes]] = ()) -> None:
    if not settings.smtp_host or not settings.smtp_from:
        raise SendError("未配置邮件服务器：请设置环境变量 IPMON_SMTP_HOST 和 IPMON_SMTP_FROM（见 README「提醒与订阅」）")
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = settings.smtp_from
    mail["To"] = message.subscription.email
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=settings.smtp_from.rsplit("@", 1)[-1])
    mail.set_content(message.text)
    for name, data in attachments:
        mail.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    context = ssl.create_default_context(cafile=settings.smtp_cafile)
    try:
        if settings.smtp_security == "ssl":
            server = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.timeout,
                                      context=context)
        else:
            server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout)
        with server:
            if settings.smtp_security == "starttls":
                server.starttls(context=context)
            if settings.smtp_user:
                server.login(settings.smtp_user, settings.smtp_password or "")
            server.send_message(mail)
    except smtplib.SMTPAuthenticationError as e:
        raise SendError(f"邮件服务器拒绝了登录（IPMON_SMTP_USER/IPMON_SMTP_PASSWORD）：{e.smtp_code}") from e
    except smtplib.SMTPNotSupportedError as e:
        raise SendError(f"邮件服务器不支持所需功能（如 STARTTLS，可改 IPMON_SMTP_SECURITY）：{e}") from e
    except (smtplib.SMTPException, ssl.SSLError, OSError) as e:
        raise SendError(f"邮件发送失败（{settings.smtp_host}:{settings.smtp_port}）：{e}") from e


# --------------------------------------------------------------------------- a run


@dataclass(frozen=True)
class Outcome:
    message: Message
    error: str | None  # None: sent

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class NotifyRun:
    new_items: int
    baseline: bool
    outcomes: list[Outcome]
    dry_run: bool = False
    found: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def without_links(self) -> list[Outcome]:
        """Briefings to be linked that went without a link: IPMON_PUBLIC_URL is not set."""
        return [o for o in self.outcomes if o.message.briefing and o.message.subscription.briefing_linked
                and not o.message.downloads]


@contextmanager
def _single_run(path: Location) -> Iterator[None]:
    with single_run(path, "notify") as alone:
        if not alone:
            raise MonitorError("另一次 notify 正在运行（同一账户文件）；本次未发送任何消息，请稍后再试")
        yield


def active_subscriptions(path: Location) -> list[Subscription]:
    """Enabled subscriptions whose owning account (if any) exists and is enabled."""
    owners = {a.username: a for a in AccountStore(path).list()}
    return [s for s in SubscriptionStore(path).list()
            if s.enabled and (s.username is None or (s.username in owners and owners[s.username].enabled))]


def run_notify(ctx, *, path: Location | None, settings: NotifySettings, today: date, now: datetime,
               pending: pd.DataFrame | None = None, dry_run: bool = False,
               briefing_pdf: Callable[[str, str, str], tuple[str, bytes]] | None = None) -> NotifyRun:
    """Find what is new and send it (see the module notes). ``dry_run``: find and compose, but send
    and record nothing. ``briefing_pdf(set_id, region, month) -> (file name, bytes)`` builds the
    attachments (default: monitor.output.briefing)."""
    path = location(path)
    stamp = now.isoformat(sep=" ", timespec="seconds")
    briefing_pdf = briefing_pdf or _default_briefing(ctx)
    with _single_run(path):
        subscriptions = active_subscriptions(path)
        accounts = AccountStore(path).list()
        detection = detect(ctx, path, today, subscriptions, accounts=accounts, settings=settings, pending=pending)
        found: dict[str, int] = {}
        for item in detection.items:
            found[item.kind] = found.get(item.kind, 0) + 1
        if dry_run:
            with connect_notify(path, write=False) as con:
                stored = _stored_items(con)
            known = {i.key for i in stored}
            fresh = [replace(i, created_at=stamp) for i in detection.items if i.key not in known]
            items, delivered = stored + fresh, _delivered(path)
            new = len(fresh)
        else:
            with connect_notify(path) as con:
                new = _save(con, detection, stamp)
                items = _stored_items(con)
            delivered = _delivered(path)
        groups = []
        for sub in subscriptions:
            for channel in sub.channels:
                mine = [i for i in items if (i.key, sub.id, channel) not in delivered and _wants(sub, i, channel, ctx)]
                alerts = [i for i in mine if i.kind != "briefing"]
                # a webhook gets this month's briefings only (a subscription switched to links later
                # is not sent the links of every month it had attached before)
                briefs = [i for i in mine if i.kind == "briefing"
                          and (channel == "email" or i.detail.get("month") == detection.as_of)]
                groups += [(sub, channel, group) for group in (alerts, briefs) if group]
        published: dict[str, BriefingFile] = {}  # each linked briefing written once per run
        outcomes = []
        for sub, channel, group in groups:
            downloads, error = {}, None
            if group[0].kind == "briefing" and sub.briefing_linked and settings.public_url and not dry_run:
                try:
                    for item in group:
                        if item.key not in published:
                            published[item.key] = publish_briefing(path, item, settings.briefings_dir, briefing_pdf,
                                                                   now)
                        downloads[item.key] = briefing_link(settings.public_url, published[item.key].token)
                except MonitorError as e:  # the briefing could not be built (ExportError) or written
                    downloads, error = {}, str(e)
            message = compose(sub, channel, group, today, settings.public_url, downloads)
            outcomes.append(Outcome(message, None) if dry_run else
                            _deliver(message, path, settings, now, briefing_pdf, error=error))
    return NotifyRun(new, detection.baseline, outcomes, dry_run, found)


def briefing_link(base: str, token: str) -> str:
    """The address of a briefing written for links (pages/briefing_file.py)."""
    return f"{base}/briefing_file?{urlencode({'token': token})}"


def publish_briefing(path: Location, item: Item, directory: Path, briefing_pdf, now: datetime) -> BriefingFile:
    """The briefing of ``item`` as a file under ``directory`` with its token, written on first use;
    later calls (a rerun, another subscriber) reuse the file and the token, and write the file again
    only if it is gone."""
    with connect_notify(path, write=False) as con:
        row = con.execute("SELECT token FROM briefing_files WHERE item_key = ?", [item.key]).fetchone()
    known = briefing_file(row[0], path) if row else None
    if known is not None and known.path.is_file():
        return known
    set_id, region, month = item.detail["target_set"], item.detail["region"], item.detail["month"]
    name, pdf = briefing_pdf(set_id, region, month)
    target = (Path(directory) / month / name).absolute()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        partial.write_bytes(pdf)
        os.replace(partial, target)  # a reader never sees half a file
    except OSError as e:
        raise MonitorError(f"简报文件无法写入 {target.parent}（IPMON_BRIEFINGS_DIR）：{e.strerror or e}") from e
    stamp = now.isoformat(sep=" ", timespec="seconds")
    with connect_notify(path) as con:
        if known is not None:
            con.execute("UPDATE briefing_files SET path = ?, file_name = ? WHERE token = ?",
                        [str(target), name, known.token])
        else:
            con.execute("INSERT INTO briefing_files (token, item_key, target_set, region, month, title, file_name, "
                        "path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [secrets.token_urlsafe(32), item.key, set_id, region, month, item.title, name, str(target),
                         stamp])
        (token,) = con.execute("SELECT token FROM briefing_files WHERE item_key = ?", [item.key]).fetchone()
    return briefing_file(token, path)


def _delivered(path: Location) -> set[tuple[str, int, str]]:
    with connect_notify(path, write=False) as con:
        return {(k, int(s), c) for k, s, c in
                con.execute("SELECT item_key, subscription_id, channel FROM notify_deliveries")}


def _default_briefing(ctx) -> Callable[[str, str, str], tuple[str, bytes]]:
    def build(set_id: str, region: str, month: str) -> tuple[str, bytes]:
        from monitor.output.briefing import briefing_file_name, build_briefing

        return briefing_file_name(ctx, set_id, region, month), build_briefing(ctx, set_id, region, month).pdf

    return build


def _deliver(message: Message, path: Location, settings: NotifySettings, now: datetime, briefing_pdf, *,
             error: str | None = None) -> Outcome:
    """Send ``message`` (unless ``error`` already says why it cannot be) and record the outcome."""
    attachments: list[tuple[str, bytes]] = []
    linked = message.briefing and message.subscription.briefing_linked
    try:
        if error is not None:
            raise MonitorError(error)
        if message.briefing and not linked:
            for item in message.items:
                attachments.append(briefing_pdf(item.detail["target_set"], item.detail["region"],
                                                item.detail["month"]))
        if message.channel == "email":
            send_email(message, settings, attachments)
        else:
            post_webhook(message, settings)
    except MonitorError as e:  # SendError, or a briefing that could not be built (ExportError)
        error = str(e)
    stamp = now.isoformat(sep=" ", timespec="seconds")
    sub = message.subscription
    with connect_notify(path) as con:
        con.execute("INSERT INTO notify_log (at, subscription_id, label, channel, recipient, subject, items, item_keys, "
                    "attachments, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [stamp, sub.id, sub.label, message.channel, message.recipient, message.subject,
                     len(message.items), "\n".join(i.key for i in message.items),
                     "、".join(name for name, _ in attachments) or ("下载链接" if message.downloads else ""),
                     "failed" if error else "sent", error])
        if error is None:
            con.executemany("INSERT INTO notify_deliveries VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            [(i.key, sub.id, message.channel, stamp) for i in message.items])
    return Outcome(message, error)
