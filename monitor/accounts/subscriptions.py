"""Subscriptions to alerts and briefings: who gets what, for which regions, by which channel.

They live beside the accounts and the audit trail, in the accounts file (monitor/accounts/access.py says
why there and not in the store), together with what ``python -m etl notify`` remembers between
runs (monitor/output/notify.py): the last status of every target, the items it found, which subscription
has received which item, and every message it sent or failed to send (通知记录).

A subscription belongs to an account (its owner sees and stops it on 我的账户) or to nobody (a
chat group's robot, an office mailbox, set up by an administrator). Its regions are region codes,
each covering the regions below it; an owner limited to some regions can only subscribe to those.
Every change is audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from monitor.accounts.access import ACCOUNTS_SCHEMA, Location, SchemaPart, connect, location
from monitor.accounts.audit import AuditLog
from monitor.accounts.users import AccountStore, allowed_regions, check_scope
from monitor.domain.clock import now as product_now
from monitor.errors import AccountError, SubscriptionError

# what a subscription can ask for; the briefing is a flag of its own (a PDF, attached or linked)
KINDS = {
    "target": "目标转为滞后或未达成",
    "overdue": "逾期未报送",
    "pending": "待审核批次",
    "warnings": "带警告导入",
}
WEBHOOK_FORMATS = {"wecom": "企业微信群机器人", "dingtalk": "钉钉群机器人", "json": "通用 JSON"}
# how the monthly briefing reaches a subscriber: attached to the e-mail, or a download link in the
# e-mail and the webhook message (a chat robot takes no attachments)
BRIEFING_DELIVERIES = {"attach": "PDF 附件（随邮件）", "link": "下载链接（邮件和群机器人消息）"}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")

# Created on first use by every process that opens the accounts (CREATE … IF NOT EXISTS), with the
# accounts' own tables (monitor/accounts/access.py connect).
SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT,                     -- owning account; NULL: a group robot or mailbox an admin set up
    label          TEXT NOT NULL,            -- who receives it, as people call them
    regions        TEXT NOT NULL DEFAULT '', -- region codes, comma-separated, each with the regions below; '' = every region
    kinds          TEXT NOT NULL DEFAULT '', -- comma-separated keys of monitor.accounts.subscriptions.KINDS
    email          TEXT,                     -- lower case
    webhook_url    TEXT,
    webhook_format TEXT CHECK (webhook_format IS NULL OR webhook_format IN ('wecom', 'dingtalk', 'json')),
    briefing       INTEGER NOT NULL DEFAULT 0, -- the monthly briefing PDF of its regions
    briefing_delivery TEXT NOT NULL DEFAULT 'attach' CHECK (briefing_delivery IN ('attach', 'link')),
    enabled        INTEGER NOT NULL DEFAULT 1,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notify_state (    -- each target's status at notify's last run
    target_set TEXT NOT NULL,
    region     TEXT NOT NULL,
    target     TEXT NOT NULL,
    status     TEXT NOT NULL,
    as_of      TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (target_set, region, target)
);
CREATE TABLE IF NOT EXISTS notify_meta (     -- watermarks: 'last_batch_id', 'targets_baseline_at'
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notify_items (    -- every change notify found, once (its key says what and when)
    key        TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,                -- a KINDS key, or 'briefing'
    regions    TEXT NOT NULL,                -- region codes, comma-separated
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT,
    detail     TEXT,                         -- JSON, for the generic webhook
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notify_deliveries (  -- an item a subscription has received on a channel
    item_key        TEXT NOT NULL,
    subscription_id INTEGER NOT NULL,
    channel         TEXT NOT NULL,           -- email | webhook
    sent_at         TEXT NOT NULL,
    PRIMARY KEY (item_key, subscription_id, channel)
);
CREATE TABLE IF NOT EXISTS notify_log (      -- 通知记录: every message sent or failed
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    subscription_id INTEGER NOT NULL,
    label           TEXT NOT NULL,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,           -- an address, or the webhook with its key masked
    subject         TEXT NOT NULL,
    items           INTEGER NOT NULL,
    item_keys       TEXT NOT NULL,
    attachments     TEXT NOT NULL DEFAULT '',
    outcome         TEXT NOT NULL,           -- sent | failed
    error           TEXT
);
CREATE INDEX IF NOT EXISTS notify_log_at ON notify_log (at);
CREATE TABLE IF NOT EXISTS briefing_files (  -- briefings notify wrote as files, reached by a link with the token
    token      TEXT PRIMARY KEY,             -- random, unguessable (secrets.token_urlsafe)
    item_key   TEXT NOT NULL UNIQUE,         -- the notify_items key of the briefing: one file per briefing
    target_set TEXT NOT NULL,
    region     TEXT NOT NULL,
    month      TEXT NOT NULL,
    title      TEXT NOT NULL,
    file_name  TEXT NOT NULL,                -- the name the download is saved under
    path       TEXT NOT NULL,                -- where the file is (absolute; under IPMON_BRIEFINGS_DIR when written)
    created_at TEXT NOT NULL
);
"""
# briefing_delivery: added after the first files were created, added to them in place
NOTIFY_SCHEMA = SchemaPart("subscriptions", SCHEMA, (
    ("subscriptions", "briefing_delivery",
     "TEXT NOT NULL DEFAULT 'attach' CHECK (briefing_delivery IN ('attach', 'link'))"),
))


@contextmanager
def connect_notify(path: Location | None, *, write: bool = True):
    """A connection to the accounts with the subscription tables in place."""
    with connect(path, write=write, parts=(ACCOUNTS_SCHEMA, NOTIFY_SCHEMA)) as con:
        yield con


@dataclass(frozen=True)
class Subscription:
    id: int
    username: str | None
    label: str
    regions: tuple[str, ...]
    kinds: tuple[str, ...]
    email: str | None
    webhook_url: str | None
    webhook_format: str | None
    briefing: bool
    enabled: bool
    created_by: str
    created_at: str
    updated_by: str
    updated_at: str
    briefing_delivery: str = "attach"  # a BRIEFING_DELIVERIES key

    @property
    def briefing_linked(self) -> bool:
        return self.briefing and self.briefing_delivery == "link"

    def covers(self, codes: Iterable[str], regions) -> bool:
        """Whether any of ``codes`` lies in this subscription's regions (or below one of them)."""
        allowed = allowed_regions(self.regions, regions)
        return allowed is None or any(c in allowed for c in codes)

    @property
    def channels(self) -> list[str]:
        return [c for c, on in (("email", self.email), ("webhook", self.webhook_url)) if on]


_COLUMNS = ("id, username, label, regions, kinds, email, webhook_url, webhook_format, briefing, enabled, "
            "created_by, created_at, updated_by, updated_at, briefing_delivery")


def _row(row) -> Subscription:
    (id_, username, label, regions, kinds, email, url, fmt, briefing, enabled, cby, cat, uby, uat, delivery) = row
    return Subscription(int(id_), username, label, tuple(c for c in regions.split(",") if c),
                        tuple(k for k in kinds.split(",") if k), email, url, fmt, bool(briefing), bool(enabled),
                        cby, cat, uby, uat, delivery)


def check_email(text: str | None) -> str | None:
    text = (text or "").strip().lower()
    if not text:
        return None
    if not _EMAIL.fullmatch(text):
        raise SubscriptionError(f"邮箱「{text}」无效：应为 name@example.gov.cn 这样的一个地址")
    return text


def check_webhook(url: str | None, fmt: str | None) -> tuple[str | None, str | None]:
    url = (url or "").strip()
    if not url:
        return None, None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise SubscriptionError(f"群机器人地址「{mask_url(url)}」无效：应为 http:// 或 https:// 开头的完整地址，"
                                "从企业微信或钉钉群的「添加机器人」处复制")
    if fmt not in WEBHOOK_FORMATS:
        raise SubscriptionError(f"消息格式「{fmt}」无效，应为 {'、'.join(f'{k}（{v}）' for k, v in WEBHOOK_FORMATS.items())} 之一")
    return url, fmt


def mask_url(url: str | None) -> str:
    """A webhook address fit to show and log: the key or token in its query is cut to 4 characters
    (whoever holds the full address can post to the group)."""
    if not url:
        return ""
    parts = urlsplit(url)
    query = "&".join(f"{k}={v[:4]}…" if v else k for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


class SubscriptionStore:
    def __init__(self, path: Location | None = None, *, clock: Callable[[], datetime] = product_now):
        self.path = location(path)  # a SQLite file or a postgresql:// URL
        self.clock = clock

    def _now(self) -> str:
        return self.clock().isoformat(sep=" ", timespec="seconds")

    # ------------------------------------------------------------------ reading
    def list(self, *, username: str | None = None) -> list[Subscription]:
        sql, params = f"SELECT {_COLUMNS} FROM subscriptions", []
        if username is not None:
            sql += " WHERE username = ?"
            params.append(username)
        with connect_notify(self.path, write=False) as con:
            return [_row(r) for r in con.execute(sql + " ORDER BY id", params).fetchall()]

    def get(self, subscription_id: int) -> Subscription:
        with connect_notify(self.path, write=False) as con:
            row = con.execute(f"SELECT {_COLUMNS} FROM subscriptions WHERE id = ?", [int(subscription_id)]).fetchone()
        if row is None:
            raise SubscriptionError(f"没有编号为 {subscription_id} 的订阅")
        return _row(row)

    # ------------------------------------------------------------------ checking
    def _checked(self, regions_registry, *, username, label, regions, kinds, email, webhook_url, webhook_format,
                 briefing, briefing_delivery) -> dict:
        owner = None
        if username:
            owner = AccountStore(self.path).get(username)
            if owner is None:
                raise SubscriptionError(f"没有账户「{username}」")
        try:
            codes = check_scope(regions, regions_registry)
        except AccountError as e:
            raise SubscriptionError(str(e)) from e
        if owner is not None and owner.scope:
            allowed = allowed_regions(owner.scope, regions_registry)
            outside = [c for c in codes if c not in allowed]
            if outside:
                names = "、".join(regions_registry[c].name for c in outside)
                raise SubscriptionError(f"账户 {owner.username} 只能订阅其地区范围内的地区，{names} 不在范围内")
            codes = codes or owner.scope
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise SubscriptionError(f"提醒类型「{'、'.join(unknown)}」无效，应为 {'、'.join(KINDS)} 之一")
        if not kinds and not briefing:
            raise SubscriptionError("请至少选择一种提醒或每月简报")
        email = check_email(email)
        url, fmt = check_webhook(webhook_url, webhook_format)
        if email is None and url is None:
            raise SubscriptionError("请填写邮箱或群机器人地址（至少一个）")
        if briefing_delivery not in BRIEFING_DELIVERIES:
            raise SubscriptionError(f"简报发送方式「{briefing_delivery}」无效，应为 "
                                    f"{'、'.join(f'{k}（{v}）' for k, v in BRIEFING_DELIVERIES.items())} 之一")
        if briefing and briefing_delivery == "attach" and email is None:
            raise SubscriptionError("每月简报以 PDF 附件随邮件发送：订阅简报需要填写邮箱，或改为以下载链接发送")
        label = (label or "").strip() or (owner.label if owner is not None else None) or email or mask_url(url)
        return {"username": owner.username if owner is not None else None, "label": label[:100],
                "regions": ",".join(codes), "kinds": ",".join(k for k in KINDS if k in kinds), "email": email,
                "webhook_url": url, "webhook_format": fmt, "briefing": int(bool(briefing)),
                "briefing_delivery": briefing_delivery}

    @staticmethod
    def describe(values: dict) -> str:
        """A subscription's settings for the audit trail (the webhook's key masked)."""
        kinds = "、".join(KINDS[k] for k in values["kinds"].split(",") if k) or "无"
        parts = [f"对象 {values['label']}", f"地区 {values['regions'] or '全部'}", f"提醒 {kinds}"]
        if values["briefing"]:
            parts.append(f"每月简报（{BRIEFING_DELIVERIES[values.get('briefing_delivery', 'attach')]}）")
        if values["email"]:
            parts.append(f"邮箱 {values['email']}")
        if values["webhook_url"]:
            parts.append(f"群机器人 {mask_url(values['webhook_url'])}（{values['webhook_format']}）")
        return "，".join(parts)

    # ------------------------------------------------------------------ changing (each one audited)
    def add(self, regions_registry, *, username: str | None, label: str | None = None, regions: Iterable[str] = (),
            kinds: Iterable[str] = (), email: str | None = None, webhook_url: str | None = None,
            webhook_format: str | None = None, briefing: bool = False, briefing_delivery: str = "attach", actor: str,
            client: str | None = None, via: str | None = None) -> Subscription:
        values = self._checked(regions_registry, username=username, label=label, regions=tuple(regions),
                               kinds=tuple(kinds), email=email, webhook_url=webhook_url,
                               webhook_format=webhook_format, briefing=briefing,
                               briefing_delivery=briefing_delivery)
        now = self._now()
        with connect_notify(self.path) as con:
            new_id = con.insert(
                "INSERT INTO subscriptions (username, label, regions, kinds, email, webhook_url, webhook_format, "
                "briefing, briefing_delivery, enabled, created_by, created_at, updated_by, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                [values["username"], values["label"], values["regions"], values["kinds"], values["email"],
                 values["webhook_url"], values["webhook_format"], values["briefing"], values["briefing_delivery"],
                 actor, now, actor, now])
        AuditLog(self.path, clock=self.clock).record("subscription_add", actor=actor, target=f"订阅 {new_id}",
                                                     detail=self.describe(values), client=client, via=via)
        return self.get(new_id)

    def update(self, subscription_id: int, regions_registry, *, username: str | None, label: str | None = None,
               regions: Iterable[str] = (), kinds: Iterable[str] = (), email: str | None = None,
               webhook_url: str | None = None, webhook_format: str | None = None, briefing: bool = False,
               briefing_delivery: str = "attach", enabled: bool = True, actor: str, client: str | None = None, via: str | None = None) -> Subscription:
        self.get(subscription_id)
        values = self._checked(regions_registry, username=username, label=label, regions=tuple(regions),
                               kinds=tuple(kinds), email=email, webhook_url=webhook_url,
                               webhook_format=webhook_format, briefing=briefing,
                               briefing_delivery=briefing_delivery)
        with connect_notify(self.path) as con:
            con.execute("UPDATE subscriptions SET username = ?, label = ?, regions = ?, kinds = ?, email = ?, "
                        "webhook_url = ?, webhook_format = ?, briefing = ?, briefing_delivery = ?, enabled = ?, "
                        "updated_by = ?, updated_at = ? WHERE id = ?",
                        [values["username"], values["label"], values["regions"], values["kinds"], values["email"],
                         values["webhook_url"], values["webhook_format"], values["briefing"],
                         values["briefing_delivery"], int(enabled), actor, self._now(), int(subscription_id)])
        AuditLog(self.path, clock=self.clock).record(
            "subscription_edit", actor=actor, target=f"订阅 {subscription_id}", client=client, via=via,
            detail=self.describe(values) + ("" if enabled else "，已停止"))
        return self.get(subscription_id)

    def set_enabled(self, subscription_id: int, enabled: bool, *, actor: str, owner: str | None = None,
                    client: str | None = None, via: str | None = None) -> Subscription:
        """Stop or resume a subscription. ``owner``: only if it belongs to this account (a user
        stopping their own on 我的账户)."""
        found = self.get(subscription_id)
        if owner is not None and found.username != owner:
            raise SubscriptionError(f"订阅 {subscription_id} 不属于账户 {owner}")
        with connect_notify(self.path) as con:
            con.execute("UPDATE subscriptions SET enabled = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                        [int(enabled), actor, self._now(), int(subscription_id)])
        AuditLog(self.path, clock=self.clock).record(
            "subscription_resume" if enabled else "subscription_stop", actor=actor, target=f"订阅 {subscription_id}",
            detail=f"对象 {found.label}", client=client, via=via)
        return self.get(subscription_id)

    def set_briefing_delivery(self, subscription_id: int, delivery: str, *, actor: str, owner: str | None = None,
                              client: str | None = None, via: str | None = None) -> Subscription:
        """Have the monthly briefing attached or linked. ``owner``: only if the subscription belongs to
        this account (a user choosing on 我的账户)."""
        found = self.get(subscription_id)
        if owner is not None and found.username != owner:
            raise SubscriptionError(f"订阅 {subscription_id} 不属于账户 {owner}")
        if delivery not in BRIEFING_DELIVERIES:
            raise SubscriptionError(f"简报发送方式「{delivery}」无效")
        if found.briefing and delivery == "attach" and found.email is None:
            raise SubscriptionError("PDF 附件随邮件发送，这个订阅没有邮箱：请联系管理员添加邮箱")
        with connect_notify(self.path) as con:
            con.execute("UPDATE subscriptions SET briefing_delivery = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                        [delivery, actor, self._now(), int(subscription_id)])
        AuditLog(self.path, clock=self.clock).record(
            "subscription_edit", actor=actor, target=f"订阅 {subscription_id}", client=client, via=via,
            detail=f"对象 {found.label}，每月简报改为{BRIEFING_DELIVERIES[delivery]}")
        return self.get(subscription_id)

    def remove(self, subscription_id: int, *, actor: str, client: str | None = None, via: str | None = None) -> None:
        """Delete a subscription; what it was sent stays in 通知记录."""
        found = self.get(subscription_id)
        with connect_notify(self.path) as con:
            con.execute("DELETE FROM subscriptions WHERE id = ?", [int(subscription_id)])
            con.execute("DELETE FROM notify_deliveries WHERE subscription_id = ?", [int(subscription_id)])
        AuditLog(self.path, clock=self.clock).record("subscription_remove", actor=actor,
                                                     target=f"订阅 {subscription_id}", detail=f"对象 {found.label}",
                                                     client=client, via=via)


def regions_label(codes: Iterable[str], regions) -> str:
    codes = tuple(codes)
    return "、".join(regions[c].name for c in codes) if codes else "全部地区"


def kinds_label(subscription: Subscription) -> str:
    parts = [KINDS[k] for k in subscription.kinds]
    if subscription.briefing:
        parts.append("每月简报（下载链接）" if subscription.briefing_linked else "每月简报（PDF 附件）")
    return "、".join(parts)


_LOG_COLUMNS = ("id", "at", "subscription_id", "label", "channel", "recipient", "subject", "items", "item_keys",
                "attachments", "outcome", "error")


def notify_log(path: Location | None = None, *, limit: int = 500) -> list[dict]:
    """The newest entries of 通知记录, newest first."""
    with connect_notify(path, write=False) as con:
        rows = con.execute(f"SELECT {', '.join(_LOG_COLUMNS)} FROM notify_log ORDER BY id DESC LIMIT ?",
                           [int(limit)]).fetchall()
    return [dict(zip(_LOG_COLUMNS, row)) for row in rows]



@dataclass(frozen=True)
class BriefingFile:
    """A briefing notify wrote as a file, as its link's token finds it (monitor/output/notify.py)."""

    token: str
    item_key: str
    target_set: str
    region: str
    month: str
    title: str
    file_name: str
    path: Path
    created_at: str


def briefing_file(token: str | None, path: Location | None = None) -> BriefingFile | None:
    """The briefing a link's token names, or None for a token nobody was given."""
    if not token or not _TOKEN.fullmatch(token):
        return None
    with connect_notify(path, write=False) as con:
        row = con.execute("SELECT token, item_key, target_set, region, month, title, file_name, path, created_at "
                          "FROM briefing_files WHERE token = ?", [token]).fetchone()
    return None if row is None else BriefingFile(*row[:7], Path(row[7]), row[8])
