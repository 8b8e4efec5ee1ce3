"""monitor/accounts/users.py: real argon2 hashes in a real SQLite file and a real PostgreSQL database (each test
on both); the clock is injected, never slept on."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from conftest import TEST_PASSWORD, everything_stored

from monitor.accounts.users import (
    AccountStore,
    Action,
    Session,
    ThrottlePolicy,
    allowed_regions,
    may,
    require,
    session_expired,
    wait_seconds,
)
from monitor.errors import AccountError, LoginError, PermissionDenied


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = datetime(2026, 11, 2, 9, 0, 0)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=("sqlite", "postgresql"))
def accounts_backend(request) -> str:
    return request.param


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(accounts, clock) -> AccountStore:
    """The four test accounts (conftest), read through a store with the test's clock."""
    return AccountStore(accounts.path, clock=clock)


def audit_rows(store: AccountStore) -> list[tuple]:
    frame = store.audit.query()
    return list(frame[["actor", "action", "outcome"]].itertuples(index=False, name=None))[::-1]


def test_a_password_is_kept_only_as_a_salted_argon2id_hash(store):
    from monitor.accounts.access import connect

    with connect(store.path, write=False) as con:
        hashes = dict(con.execute("SELECT username, password_hash FROM accounts").fetchall())
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert len(set(hashes.values())) == 4  # one password, four salts
    assert TEST_PASSWORD.encode() not in everything_stored(store.path)


def test_the_right_password_logs_in_and_the_login_is_audited(store, clock):
    session = store.login("JC-Clerk ", TEST_PASSWORD, client="10.1.2.3")
    assert (session.username, session.role, session.scope, session.via) == ("jc-clerk", "uploader", ("140500",),
                                                                            "password")
    assert session.label == "晋城市局数据员"
    last = store.audit.query(limit=1).iloc[0]
    assert (last["actor"], last["action"], last["outcome"], last["client"]) == ("jc-clerk", "login", "ok", "10.1.2.3")
    assert store.get("jc-clerk").last_login == "2026-11-02 09:00:00"


def test_a_wrong_password_is_refused_with_the_same_words_as_an_unknown_name(store):
    with pytest.raises(LoginError, match="^用户名或密码错误$"):
        store.login("viewer", "wrong password!")
    with pytest.raises(LoginError, match="^用户名或密码错误$"):
        store.login("nobody", "wrong password!")
    rows = store.audit.query(actions=["login_failed"])
    assert rows["actor"].tolist() == ["匿名", "viewer"]  # the unknown name is not recorded (could be a password)
    assert rows["detail"].tolist() == ["用户名不存在", "密码错误"]


def test_failures_beyond_five_make_each_next_attempt_wait_twice_as_long(store, clock):
    for _ in range(5):
        with pytest.raises(LoginError, match="用户名或密码错误"):
            store.login("viewer", "wrong password!")
    # now even the right password waits: 10 s after the fifth failure
    with pytest.raises(LoginError, match="请 10 秒后再试") as refused:
        store.login("viewer", TEST_PASSWORD)
    assert refused.value.retry_after == 10
    clock.advance(10)
    with pytest.raises(LoginError, match="用户名或密码错误"):
        store.login("viewer", "wrong again!!")
    clock.advance(19)
    with pytest.raises(LoginError, match="请 1 秒后再试"):  # the sixth failure costs 20 s
        store.login("viewer", TEST_PASSWORD)
    clock.advance(1)
    assert store.login("viewer", TEST_PASSWORD).role == "viewer"
    # a success clears the count: one failure is free again
    with pytest.raises(LoginError, match="用户名或密码错误"):
        store.login("viewer", "wrong password!")
    assert store.retry_after("viewer", None) == 0
    assert audit_rows(store)[-3:] == [("viewer", "login_throttled", "refused"), ("viewer", "login", "ok"),
                                      ("viewer", "login_failed", "refused")]
    assert store.audit.query(actions=["login_throttled"])["actor"].tolist() == ["viewer", "viewer"]


def test_fifteen_simultaneous_wrong_passwords_get_at_most_five_real_checks(store):
    # each attempt is reserved before its password is checked: the throttle holds under concurrency
    start = threading.Barrier(15)
    said: list[str] = []

    def attempt(i: int) -> None:
        start.wait()
        try:
            store.login("viewer", f"wrong password {i}", client=f"10.0.0.{i}")
        except LoginError as e:
            said.append(str(e))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(15)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(said) == 15
    assert said.count("用户名或密码错误") == 5
    assert said.count("登录失败次数过多，请 10 秒后再试") == 10
    assert len(store.audit.query(actions=["login_failed"])) == 5
    assert len(store.audit.query(actions=["login_throttled"])) == 10


def test_a_wait_under_a_second_is_said_as_one_second_never_zero(store, clock):
    for _ in range(5):
        with pytest.raises(LoginError):
            store.login("viewer", "wrong password!")
    clock.advance(9.6)
    with pytest.raises(LoginError) as refused:
        store.login("viewer", TEST_PASSWORD)
    assert str(refused.value) == "登录失败次数过多，请 1 秒后再试"
    assert refused.value.retry_after == pytest.approx(0.4)
    assert wait_seconds(0.01) == 1 and wait_seconds(10) == 10 and wait_seconds(10.2) == 11


def test_the_right_password_of_a_disabled_account_gives_its_reservation_back(store):
    store.set_enabled("clerk", False, actor="admin")
    for _ in range(8):
        with pytest.raises(LoginError, match="已停用"):
            store.login("clerk", TEST_PASSWORD)
    assert store.retry_after("clerk", None) == 0


def test_the_back_off_is_capped():
    policy = ThrottlePolicy(free=5, base=10, cap=900)
    assert [policy.delay(n) for n in (0, 4, 5, 6, 7, 11, 12, 40)] == [0, 0, 10, 20, 40, 640, 900, 900]


def test_one_client_trying_many_names_is_throttled_by_its_address(accounts, clock):
    store = AccountStore(accounts.path, clock=clock, client_throttle=ThrottlePolicy(free=3, base=30, cap=900))
    for name in ("admin", "viewer", "clerk"):
        with pytest.raises(LoginError, match="用户名或密码错误"):
            store.login(name, "guess-guess-guess", client="10.9.9.9")
    with pytest.raises(LoginError, match="请 30 秒后再试"):
        store.login("jc-clerk", TEST_PASSWORD, client="10.9.9.9")
    assert store.login("jc-clerk", TEST_PASSWORD, client="10.0.0.7").username == "jc-clerk"  # another client


def test_a_disabled_account_cannot_log_in_and_its_open_session_ends(store):
    session = store.login("clerk", TEST_PASSWORD)
    store.set_enabled("clerk", False, actor="admin")
    with pytest.raises(LoginError, match="已停用"):
        store.login("clerk", TEST_PASSWORD)
    assert store.refresh_session(session, idle_minutes=30) == (None, "disabled")


def test_a_session_expires_after_the_idle_time_and_activity_keeps_it(store, clock):
    session = store.login("viewer", TEST_PASSWORD)
    clock.advance(29 * 60)
    session, ended = store.refresh_session(session, idle_minutes=30)
    assert ended is None and session.last_seen == clock.now
    clock.advance(29 * 60)  # 58 minutes after the login, 29 after the last activity
    session, ended = store.refresh_session(session, idle_minutes=30)
    assert ended is None
    clock.advance(30 * 60 + 1)
    assert store.refresh_session(session, idle_minutes=30) == (None, "expired")
    assert store.audit.query(limit=1)["action"].tolist() == ["session_expired"]
    assert session_expired(session, clock.now, 30)


def test_a_role_change_reaches_an_open_session_on_its_next_refresh(store):
    session = store.login("viewer", TEST_PASSWORD)
    store.set_role("viewer", "uploader", scope=("140500",), actor="admin")
    refreshed, _ = store.refresh_session(session, idle_minutes=30)
    assert (refreshed.role, refreshed.scope) == ("uploader", ("140500",))


def test_roles_include_the_ones_below_and_writing_always_needs_a_login():
    now = datetime(2026, 11, 2)
    viewer, uploader, admin = (Session(r, r, (), "password", now, now) for r in ("viewer", "uploader", "admin"))
    assert may(None, Action.VIEW, anonymous_view=True)
    assert not may(None, Action.VIEW, anonymous_view=False)
    assert not may(None, Action.UPLOAD, anonymous_view=True)
    assert [may(s, Action.UPLOAD, anonymous_view=True) for s in (viewer, uploader, admin)] == [False, True, True]
    assert [may(s, Action.ADMIN, anonymous_view=True) for s in (viewer, uploader, admin)] == [False, False, True]
    with pytest.raises(PermissionDenied, match="账户 viewer（查看者）无权导入和回滚数据"):
        require(viewer, Action.UPLOAD, anonymous_view=True)


def test_a_scope_covers_its_region_and_every_region_below_it(small_regions):
    jincheng = allowed_regions(("140500",), small_regions)
    assert jincheng == {"140500", "140502", "140521", "140525"}  # the city, 城区, 沁水县, 泽州县
    assert "140100" not in jincheng and "140000" not in jincheng
    assert allowed_regions(("140000",), small_regions) >= jincheng | {"140100", "140105", "149900"}
    assert allowed_regions((), small_regions) is None


def test_single_sign_on_users_get_their_accounts_role_by_email_else_viewer(store):
    store.add("sx-admin", None, "admin", email="Wang@SXIP.gov.cn", actor="test")
    mapped = store.oidc_session("wang@sxip.gov.cn", name="王")
    assert (mapped.username, mapped.role, mapped.via) == ("sx-admin", "admin", "oidc")
    stranger = store.oidc_session("someone@example.org")
    assert (stranger.username, stranger.role, stranger.scope) == ("someone@example.org", "viewer", ())
    with pytest.raises(LoginError, match="用户名或密码错误"):  # an account without a password has no password login
        store.login("sx-admin", "anything-at-all")
    store.set_enabled("sx-admin", False, actor="test")
    with pytest.raises(LoginError, match="已停用"):
        store.oidc_session("wang@sxip.gov.cn")
    assert store.audit.query(actions=["login"])["via"].tolist()[:2] == ["oidc", "oidc"]


@pytest.mark.parametrize(("username", "password", "role", "message"), [
    ("晋城", TEST_PASSWORD, "viewer", "用户名「晋城」无效"),
    ("a b", TEST_PASSWORD, "viewer", "用户名「a b」无效"),
    ("newbie", "short", "viewer", "密码太短：至少 10 个字符"),
    ("newbie", TEST_PASSWORD, "boss", "角色「boss」无效"),
    ("admin", TEST_PASSWORD, "viewer", "账户「admin」已存在"),
])
def test_bad_names_passwords_roles_and_duplicates_are_refused(store, username, password, role, message):
    with pytest.raises(AccountError, match=message):
        store.add(username, password, role, actor="test")


def test_no_password_reaches_the_accounts_file_or_the_audit_trail(store, caplog):
    store.login("admin", TEST_PASSWORD, client="10.1.1.1")
    for attempt in (TEST_PASSWORD + "x", TEST_PASSWORD):  # a password typed into the name box, too
        with pytest.raises(LoginError):
            store.login(attempt, TEST_PASSWORD)
    store.reset_password("clerk", "another-secret-pw-1", actor="admin")
    text = everything_stored(store.path)
    for secret in (TEST_PASSWORD, "another-secret-pw-1"):
        assert secret.encode() not in text
        assert secret not in store.audit.query().to_csv()
        assert secret not in caplog.text


def test_an_accounts_file_from_before_reviewers_keeps_its_accounts_and_takes_a_reviewer(tmp_path):
    import sqlite3

    from monitor.accounts.access import SCHEMA

    path = tmp_path / "old.sqlite3"
    old = SCHEMA.replace("('viewer', 'uploader', 'reviewer', 'admin')", "('viewer', 'uploader', 'admin')")
    assert old != SCHEMA
    with sqlite3.connect(path) as con:
        con.executescript(old)
        con.execute("INSERT INTO accounts (username, role, created_at, updated_at) VALUES ('clerk', 'uploader', 't', 't')")
    store = AccountStore(path)
    store.add("jc-reviewer", TEST_PASSWORD, "reviewer", scope=("140500",), actor="admin")
    assert [(a.username, a.role) for a in store.list()] == [("clerk", "uploader"), ("jc-reviewer", "reviewer")]
