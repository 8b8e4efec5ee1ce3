"""Accounts, roles and region scopes; login with throttling; sessions that expire.

- Roles, each including the one before: ``viewer`` (every read page and export), ``uploader``
  (upload, commit, rollback; optionally limited to regions), ``reviewer`` 审核员 (also approves or
  returns other people's batches of its regions, monitor/store/approval.py), ``admin`` (accounts, milestone status,
  configuration reload, the audit trail).
- Passwords are hashed with argon2id (argon2-cffi: salted, slow, memory-hard); only the hash is kept.
- Failed logins are counted per account and per client address; past a few free failures each
  further attempt must wait twice as long as the last (capped), whatever the password. The clock
  is injectable, so tests need no sleeping.
- A session ends after ``idle_minutes`` without activity; each run re-reads the account, so a
  disabled account or a changed role takes effect on the user's next click.
Every login, failure and account change is written to the audit trail (monitor/accounts/audit.py).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor.accounts.access import Location, connect, location
from monitor.accounts.audit import AuditLog
from monitor.domain.clock import now as product_now
from monitor.errors import AccountError, LoginError, PermissionDenied, RegionError

ROLES = ("viewer", "uploader", "reviewer", "admin")
ROLE_LABELS = {"viewer": "查看者", "uploader": "数据上传员", "reviewer": "审核员", "admin": "管理员"}
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{0,63}$")


class Action(str, Enum):
    VIEW = "view"  # every read page and export
    UPLOAD = "upload"  # upload, commit, rollback
    REVIEW = "review"  # approve or return another uploader's batch (monitor/store/approval.py)
    ADMIN = "admin"  # accounts, milestone status, configuration reload, the audit trail


ACTION_ROLE = {Action.VIEW: "viewer", Action.UPLOAD: "uploader", Action.REVIEW: "reviewer", Action.ADMIN: "admin"}
ACTION_LABELS = {Action.VIEW: "查看", Action.UPLOAD: "导入和回滚数据", Action.REVIEW: "审核待发布的数据",
                 Action.ADMIN: "管理账户、任务进度和配置"}


@dataclass(frozen=True)
class ThrottlePolicy:
    """``free`` failures cost nothing; after the n-th failure (n >= free) the next attempt waits
    ``base * 2 ** (n - free)`` seconds, at most ``cap``."""

    free: int
    base: float
    cap: float

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap, self.base * 2 ** (failures - self.free))


USER_THROTTLE = ThrottlePolicy(free=5, base=10, cap=900)
# higher: several people may share an address (a proxy, an office NAT)
CLIENT_THROTTLE = ThrottlePolicy(free=20, base=10, cap=900)


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    scope: tuple[str, ...] = ()
    email: str | None = None
    display_name: str | None = None
    enabled: bool = True
    has_password: bool = True
    created_at: str | None = None
    last_login: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.username


@dataclass(frozen=True)
class Session:
    """Who is logged in to one browser session. Kept in the page's session state, never sent to the
    browser; ``refresh_session`` checks it against the accounts file on every run."""

    username: str
    role: str
    scope: tuple[str, ...]
    via: str  # password | oidc
    started_at: datetime
    last_seen: datetime
    display_name: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.username


def normalise_username(name: str) -> str:
    return (name or "").strip().lower()


def check_username(name: str) -> str:
    name = normalise_username(name)
    if not _USERNAME.fullmatch(name):
        raise AccountError(f"用户名「{name}」无效：请用 1–64 个英文字母、数字或 _ . @ -，以字母或数字开头")
    return name


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码太短：至少 {MIN_PASSWORD_LENGTH} 个字符")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"角色「{role}」无效，应为 {'、'.join(f'{r}（{ROLE_LABELS[r]}）' for r in ROLES)} 之一")
    return role


def check_scope(scope: Iterable[str], regions) -> tuple[str, ...]:
    """Region codes (or names) → sorted unique codes; refuses unknown regions."""
    codes = []
    for item in scope:
        if not str(item).strip():
            continue
        try:
            codes.append(regions.resolve(str(item).strip()))
        except RegionError as e:
            raise AccountError(f"地区范围无效：{e}") from e
    return tuple(sorted(set(codes)))


def allowed_regions(scope: Iterable[str], regions) -> set[str] | None:
    """The codes a scope covers: each scope region and every region below it; None = no limit."""
    scope = tuple(scope)
    if not scope:
        return None
    allowed: set[str] = set()
    for code in scope:
        allowed.add(code)
        allowed.update(r.code for r in regions.descendants(code))
    return allowed


def scope_label(scope: Iterable[str], regions) -> str:
    scope = tuple(scope)
    if not scope:
        return "全部地区"
    return "、".join(f"{regions[c].name}（{c}）及下辖地区" for c in scope)


def may(session: Session | None, action: Action, *, anonymous_view: bool) -> bool:
    """Whether a session (None: not logged in) may do ``action``. Writing always needs a login."""
    if session is None:
        return action is Action.VIEW and anonymous_view
    return ROLES.index(session.role) >= ROLES.index(ACTION_ROLE[action])


def require(session: Session | None, action: Action, *, anonymous_view: bool) -> None:
    if not may(session, action, anonymous_view=anonymous_view):
        who = "未登录" if session is None else f"账户 {session.username}（{ROLE_LABELS[session.role]}）"
        raise PermissionDenied(f"{who}无权{ACTION_LABELS[action]}")


def session_expired(session: Session, now: datetime, idle_minutes: float) -> bool:
    return now - session.last_seen > timedelta(minutes=idle_minutes)


def wait_seconds(wait: float) -> int:
    """A throttle's wait as whole seconds to tell a person: rounded up, never 「请 0 秒后再试」."""
    return max(1, math.ceil(wait - 1e-9))


def _row_to_account(row) -> Account:
    username, password_hash, role, scope, email, display_name, enabled, created_at, last_login = row
    return Account(username, role, tuple(c for c in scope.split(",") if c), email, display_name, bool(enabled),
                   password_hash is not None, created_at, last_login)


_ACCOUNT_COLUMNS = "username, password_hash, role, scope, email, display_name, enabled, created_at, last_login"


class AccountStore:
    """The accounts of the dashboard, in the accounts file or database (monitor/accounts/access.py)."""

    def __init__(self, path: Location | None = None, *, clock: Callable[[], datetime] = product_now,
                 user_throttle: ThrottlePolicy = USER_THROTTLE, client_throttle: ThrottlePolicy = CLIENT_THROTTLE):
        self.path = location(path)  # a SQLite file or a postgresql:// URL
        self.clock = clock
        self.user_throttle = user_throttle
        self.client_throttle = client_throttle
        self._hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
        self._dummy_hash: str | None = None

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.path, clock=self.clock)

    def _now(self) -> str:
        return self.clock().isoformat(sep=" ", timespec="seconds")

    # ------------------------------------------------------------------ reading
    def get(self, username: str) -> Account | None:
        with connect(self.path, write=False) as con:
            row = con.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE username = ?",
                              [normalise_username(username)]).fetchone()
        return _row_to_account(row) if row else None

    def by_email(self, email: str) -> Account | None:
        with connect(self.path, write=False) as con:
            row = con.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE email = ?",
                              [(email or "").strip().lower()]).fetchone()
        return _row_to_account(row) if row else None

    def list(self) -> list[Account]:
        with connect(self.path, write=False) as con:
            rows = con.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY username").fetchall()
        return [_row_to_account(r) for r in rows]

    def _existing(self, con, username: str) -> str:
        name = normalise_username(username)
        if con.execute("SELECT 1 FROM accounts WHERE username = ?", [name]).fetchone() is None:
            raise AccountError(f"没有账户「{name}」")
        return name

    # ------------------------------------------------------------------ changing (each one audited)
    def add(self, username: str, password: str | None, role: str, *, scope: Iterable[str] = (),
            email: str | None = None, display_name: str | None = None, actor: str, client: str | None = None,
            via: str | None = None) -> Account:
        """A new account. ``password`` None: single sign-on only (no password login)."""
        name = check_username(username)
        check_role(role)
        if password is not None:
            check_password(password)
        password_hash = self._hasher.hash(password) if password is not None else None
        email = (email or "").strip().lower() or None
        now = self._now()
        with connect(self.path) as con:
            if con.execute("SELECT 1 FROM accounts WHERE username = ?", [name]).fetchone():
                raise AccountError(f"账户「{name}」已存在；修改角色请用 set-role，重置密码请用 reset-password")
            if email and con.execute("SELECT 1 FROM accounts WHERE email = ?", [email]).fetchone():
                raise AccountError(f"邮箱 {email} 已属于另一个账户")
            con.execute("INSERT INTO accounts (username, password_hash, role, scope, email, display_name, enabled, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                        [name, password_hash, role, ",".join(scope), email, display_name, now, now])
        self.audit.record("user_add", actor=actor, target=name, client=client, via=via,
                          detail=f"角色 {role}" + (f"，地区范围 {','.join(scope)}" if scope else "") +
                          (f"，邮箱 {email}" if email else ""))
        return self.get(name)

    def set_role(self, username: str, role: str, *, scope: Iterable[str] | None = None, actor: str,
                 client: str | None = None, via: str | None = None) -> Account:
        """Change the role, and the region scope when given (an empty scope: every region)."""
        check_role(role)
        with connect(self.path) as con:
            name = self._existing(con, username)
            if scope is None:
                con.execute("UPDATE accounts SET role = ?, updated_at = ? WHERE username = ?", [role, self._now(), name])
            else:
                con.execute("UPDATE accounts SET role = ?, scope = ?, updated_at = ? WHERE username = ?",
                            [role, ",".join(scope), self._now(), name])
        detail = f"角色 {role}" + ("" if scope is None else f"，地区范围 {','.join(scope) or '全部'}")
        self.audit.record("user_set_role", actor=actor, target=name, detail=detail, client=client, via=via)
        return self.get(name)

    def set_contact(self, username: str, *, email: str | None = None, display_name: str | None = None, actor: str,
                    client: str | None = None, via: str | None = None) -> Account:
        """Change the e-mail (single sign-on, 催报 lists and alerts) and/or the display name; None
        leaves a field as it is, "" clears it."""
        with connect(self.path) as con:
            name = self._existing(con, username)
            changes = []
            if email is not None:
                email = email.strip().lower() or None
                if email and con.execute("SELECT 1 FROM accounts WHERE email = ? AND username <> ?",
                                         [email, name]).fetchone():
                    raise AccountError(f"邮箱 {email} 已属于另一个账户")
                con.execute("UPDATE accounts SET email = ?, updated_at = ? WHERE username = ?", [email, self._now(), name])
                changes.append(f"邮箱 {email or '（清除）'}")
            if display_name is not None:
                con.execute("UPDATE accounts SET display_name = ?, updated_at = ? WHERE username = ?",
                            [display_name.strip() or None, self._now(), name])
                changes.append(f"显示名 {display_name.strip() or '（清除）'}")
        if changes:
            self.audit.record("user_set_contact", actor=actor, target=name, detail="，".join(changes), client=client,
                              via=via)
        return self.get(name)

    def reset_password(self, username: str, password: str, *, actor: str, client: str | None = None,
                       via: str | None = None) -> None:
        check_password(password)
        password_hash = self._hasher.hash(password)
        with connect(self.path) as con:
            name = self._existing(con, username)
            con.execute("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE username = ?",
                        [password_hash, self._now(), name])
            con.execute("DELETE FROM login_failures WHERE key = ?", [f"user:{name}"])
        self.audit.record("user_reset_password", actor=actor, target=name, client=client, via=via)

    def set_enabled(self, username: str, enabled: bool, *, actor: str, client: str | None = None,
                    via: str | None = None) -> None:
        with connect(self.path) as con:
            name = self._existing(con, username)
            con.execute("UPDATE accounts SET enabled = ?, updated_at = ? WHERE username = ?",
                        [int(enabled), self._now(), name])
        self.audit.record("user_enable" if enabled else "user_disable", actor=actor, target=name, client=client,
                          via=via)

    # ------------------------------------------------------------------ throttle
    def _failures(self, con, key: str) -> tuple[int, datetime | None]:
        row = con.execute("SELECT failures, last_failure FROM login_failures WHERE key = ?", [key]).fetchone()
        return (int(row[0]), datetime.fromisoformat(row[1])) if row else (0, None)

    def _wait(self, con, key: str, policy: ThrottlePolicy, now: datetime) -> float:
        failures, last = self._failures(con, key)
        if last is None:
            return 0.0
        return max(0.0, (last + timedelta(seconds=policy.delay(failures)) - now).total_seconds())

    def retry_after(self, username: str, client: str | None) -> float:
        """Seconds before a login of ``username`` from ``client`` will be tried (0: now)."""
        user_key, client_key = self._throttle_keys(username, client)
        now = self.clock()
        with connect(self.path) as con:
            return max(self._wait(con, user_key, self.user_throttle, now),
                       self._wait(con, client_key, self.client_throttle, now))

    def _throttle_keys(self, username: str, client: str | None) -> tuple[str, str]:
        name = normalise_username(username)
        known = _USERNAME.fullmatch(name) is not None and self.get(name) is not None
        # unknown names share one counter: the typed text (maybe a password) is never stored
        return (f"user:{name}" if known else "user:*"), f"client:{client or 'local'}"

    # ------------------------------------------------------------------ login
    def _verify(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            # unknown user or single sign-on only: spend the same time, so timing tells nothing
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash("not a password of anyone")
            password_hash = self._dummy_hash
            with contextlib.suppress(VerificationError, InvalidHashError):
                self._hasher.verify(password_hash, password)
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def login(self, username: str, password: str, *, client: str | None = None) -> Session:
        """Check a user name and password; returns a new session or raises LoginError.

        Every attempt is audited: success, wrong password, disabled account, or throttled."""
        name = normalise_username(username)
        user_key, client_key = self._throttle_keys(name, client)
        account = self.get(name) if user_key != "user:*" else None
        shown = name if account is not None else None  # an unknown name is not recorded
        audit = self.audit
        now = self.clock()
        # The attempt is reserved, counted as a failure, in the same write transaction that reads
        # the wait: fifteen simultaneous attempts are serialised here, and only those the
        # throttle allows reach the (slow) password check. A success clears the count; the right
        # password of a disabled account gives its reservation back.
        with connect(self.path) as con:
            wait = max(self._wait(con, user_key, self.user_throttle, now),
                       self._wait(con, client_key, self.client_throttle, now))
            if wait <= 0:
                for key in (user_key, client_key):
                    con.execute("INSERT INTO login_failures VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET "
                                "failures = login_failures.failures + 1, last_failure = excluded.last_failure",
                                [key, now.isoformat(sep=" ", timespec="microseconds")])
            row = con.execute("SELECT password_hash FROM accounts WHERE username = ?", [name]).fetchone()
        if wait > 0:
            seconds = wait_seconds(wait)
            audit.record("login_throttled", actor=shown, outcome="refused", client=client, via="password",
                         detail=f"需等待 {seconds} 秒")
            raise LoginError(f"登录失败次数过多，请 {seconds} 秒后再试", retry_after=wait)
        ok = self._verify(row[0] if row else None, password or "")
        if not ok:
            audit.record("login_failed", actor=shown, outcome="refused", client=client, via="password",
                         detail="密码错误" if account is not None else "用户名不存在")
            raise LoginError("用户名或密码错误")
        if not account.enabled:
            with connect(self.path) as con:
                con.execute("UPDATE login_failures SET failures = failures - 1 WHERE key IN (?, ?) AND failures > 0",
                            [user_key, client_key])
            audit.record("login_failed", actor=name, outcome="refused", client=client, via="password",
                         detail="账户已停用")
            raise LoginError("该账户已停用，请联系管理员")
        with connect(self.path) as con:
            con.execute("DELETE FROM login_failures WHERE key IN (?, ?)", [user_key, client_key])
            con.execute("UPDATE accounts SET last_login = ? WHERE username = ?", [self._now(), name])
            if self._hasher.check_needs_rehash(row[0]):  # parameters raised since: upgrade the hash
                con.execute("UPDATE accounts SET password_hash = ? WHERE username = ?",
                            [self._hasher.hash(password), name])
        audit.record("login", actor=name, client=client, via="password", detail=f"角色 {account.role}")
        return Session(name, account.role, account.scope, "password", now, now, account.display_name)

    def oidc_session(self, email: str, *, name: str | None = None, client: str | None = None) -> Session:
        """A session for a user signed in through OpenID Connect: the role and scope of the enabled
        account with that e-mail, else a viewer known by the e-mail. Audited as a login."""
        email = (email or "").strip().lower()
        if not email:
            self.audit.record("login_failed", actor=None, outcome="refused", client=client, via="oidc",
                              detail="身份提供方未提供邮箱")
            raise LoginError("统一身份认证未提供邮箱地址，无法确定权限；请联系管理员")
        account = self.by_email(email)
        now = self.clock()
        if account is not None and not account.enabled:
            self.audit.record("login_failed", actor=account.username, outcome="refused", client=client, via="oidc",
                              detail=f"账户已停用（{email}）")
            raise LoginError("该账户已停用，请联系管理员")
        if account is None:
            session = Session(email, "viewer", (), "oidc", now, now, name)
            detail = "无对应账户，按查看者"
        else:
            session = Session(account.username, account.role, account.scope, "oidc", now, now,
                              account.display_name or name)
            detail = f"邮箱 {email} → 账户 {account.username}，角色 {account.role}"
        self.audit.record("login", actor=session.username, client=client, via="oidc", detail=detail)
        return session

    def refresh_session(self, session: Session, *, idle_minutes: float, email: str | None = None
                        ) -> tuple[Session | None, str | None]:
        """The session for this run: its account re-read (role, scope, enabled) and its idle time
        checked. Returns (session, None), or (None, reason) when it has ended; audits an ending."""
        now = self.clock()
        if session_expired(session, now, idle_minutes):
            self.audit.record("session_expired", actor=session.username, via=session.via,
                              detail=f"超过 {idle_minutes:g} 分钟无操作")
            return None, "expired"
        account = self.by_email(email) if session.via == "oidc" and email else self.get(session.username)
        if account is None and session.via == "oidc":
            return replace(session, role="viewer", scope=(), last_seen=now), None
        if account is None or not account.enabled:
            self.audit.record("logout", actor=session.username, via=session.via, detail="账户已停用或删除，会话结束")
            return None, "disabled"
        return replace(session, username=account.username, role=account.role, scope=account.scope,
                       last_seen=now), None
