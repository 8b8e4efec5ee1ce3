"""python -m etl notify against a real SMTP server (aiosmtpd) and a real HTTP receiver, both started
here on free local ports: who gets what, once; a failed send tried again; STARTTLS, SSL and login."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import ssl
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from etl.loader import commit_plan, plan_upload
from monitor.accounts.subscriptions import Subscription, SubscriptionStore, connect_notify, notify_log
from monitor.context import open_context
from monitor.errors import NotifySettingError, SubscriptionError
from monitor.output.notify import Message, NotifySettings, SendError, dashboard_link, run_notify, send_email
from monitor.store.writer import Writer

TODAY = dt.date(2026, 12, 20)  # 2026-11 is due on 2026-12-15; the demo store ends in 2026-10
NOW = dt.datetime(2026, 12, 20, 8, 0)
BASE = "http://ipmon.example.gov.cn:8501"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """The aiosmtpd handler: keeps every message the server accepted."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def texts(self) -> list[str]:
        return [m.get_body(("plain",)).get_content() for m in self.messages]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


class Receiver:
    """A local HTTP server standing in for a chat group's robot: records each POST and answers with
    the next queued reply (default: the robots' success answer)."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.replies: list[tuple[int, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((self.path, json.loads(body.decode("utf-8"))))
                status, answer = receiver.replies.pop(0) if receiver.replies else (200, {"errcode": 0, "errmsg": "ok"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def to(self, path: str) -> list[dict]:
        return [payload for p, payload in self.posts if p.startswith(path)]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def ctx(copy_demo_store):
    return open_context(store_path=copy_demo_store("notify"))


def settings_for(smtp: Inbox, **changes) -> NotifySettings:
    values = dict(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none", smtp_from="ipmon@example.gov.cn",
                  public_url=BASE, timeout=10)
    values.update(changes)
    return NotifySettings(**values)


def subscriptions(accounts) -> SubscriptionStore:
    return SubscriptionStore(accounts.path, clock=lambda: dt.datetime(2026, 11, 25, 9, 0))


def notify(ctx, accounts, settings, **kwargs):
    kwargs.setdefault("today", TODAY)
    kwargs.setdefault("now", NOW)
    return run_notify(ctx, path=accounts.path, settings=settings, **kwargs)


def lower_jincheng_gi_trademarks(ctx) -> int:
    """A real upload: 晋城市 地理标志商标 at the end of 2025 falls from 10 to 8, below the 2025 target
    of 10 (jc_gi_trademarks turns 未达成), with the falling-stock warning accepted."""
    plan = plan_upload(ctx.store, ctx.config, ctx.regions, "地区,指标,期间,数值\n晋城市,地理标志商标,2025-12,8\n".encode(),
                       "jc.csv", population=ctx.population)
    assert [p.check for p in plan.problems] == ["stock_falls"]
    return commit_plan(ctx.store, plan, by=Writer.internal("jc-clerk"), accept_warnings=True)


# --------------------------------------------------------------------------- who gets what, once


def test_each_subscriber_gets_the_items_of_their_regions_once_by_mail_and_webhook(ctx, accounts, smtp, receiver):
    subs = subscriptions(accounts)
    jc = subs.add(ctx.regions, username="jc-clerk", regions=["140500"], kinds=["target", "overdue", "warnings"],
                  email="jc@example.gov.cn", webhook_url=receiver.url("/wecom?key=secret-key-1"),
                  webhook_format="wecom", actor="admin")
    subs.add(ctx.regions, username=None, label="山西省局群", regions=["140000"], kinds=["overdue"],
             webhook_url=receiver.url("/json"), webhook_format="json", actor="admin")
    settings = settings_for(smtp)

    first = notify(ctx, accounts, settings)

    assert first.baseline and not first.failed and len(first.outcomes) == 3
    # the 晋城 subscriber: one e-mail and one robot message, about 晋城市 only
    assert smtp.recipients == [["jc@example.gov.cn"]]
    mail = smtp.texts()[0]
    assert "晋城市2026年11月数据逾期未报送" in mail and "已逾期 5 天" in mail
    assert "太原市" not in mail and "山西省2026年11月" not in mail
    assert f"{BASE}/completeness?scope=140500&month=2026-11" in mail
    assert smtp.messages[0]["Subject"].startswith("【知识产权指标监测】1 条提醒")
    [wecom] = receiver.to("/wecom")
    assert wecom["msgtype"] == "text" and "晋城市2026年11月数据逾期未报送" in wecom["text"]["content"]
    assert "太原市" not in wecom["text"]["content"]
    # the province's group robot: the province and each of its cities that report, nothing of 陕西
    [generic] = receiver.to("/json")
    regions = {code for item in generic["items"] for code in item["regions"]}
    assert {"140000", "140100", "140500"} <= regions and all(code.startswith("14") for code in regions)
    assert all(item["kind"] == "overdue" for item in generic["items"])

    second = notify(ctx, accounts, settings)  # a rerun sends nothing twice

    assert second.new_items == 0 and second.outcomes == []
    assert len(smtp.messages) == 1 and len(receiver.posts) == 2

    batch = lower_jincheng_gi_trademarks(ctx)
    third = notify(ctx, accounts, settings)

    assert not third.baseline and not third.failed
    assert [o.message.subscription.id for o in third.outcomes] == [jc.id, jc.id]  # the province group asked for overdue only
    mail = smtp.texts()[1]
    assert "晋城市：地理标志商标未达成" in mail and "由「已达成」转为「未达成」" in mail
    assert f"批次 {batch}（jc.csv）带警告导入" in mail and "确认了 1 条警告后写入" in mail
    assert f"{BASE}/?target_set=jincheng_2025&region=140500&as_of=2026-11" in mail
    assert "逾期未报送" not in mail  # sent before
    assert len(receiver.to("/json")) == 1

    log = notify_log(accounts.path)
    assert [row["outcome"] for row in log] == ["sent"] * 5
    assert all("secret-key-1" not in row["recipient"] for row in log)  # the robot's key is masked


def test_a_failed_webhook_is_tried_again_on_the_next_run_and_then_not_again(ctx, accounts, smtp, receiver):
    subs = subscriptions(accounts)
    subs.add(ctx.regions, username="jc-clerk", regions=["140500"], kinds=["overdue"], email="jc@example.gov.cn",
             webhook_url=receiver.url("/ding?access_token=abc"), webhook_format="dingtalk", actor="admin")
    settings = settings_for(smtp)
    receiver.replies = [(200, {"errcode": 310000, "errmsg": "keywords not in content"})]

    first = notify(ctx, accounts, settings)

    [failed] = first.failed
    assert failed.message.channel == "webhook" and "errcode 310000" in failed.error
    assert len(smtp.messages) == 1  # the e-mail went out all the same
    receiver.replies = [(502, {"error": "bad gateway"})]

    second = notify(ctx, accounts, settings)

    [failed] = second.failed
    assert "HTTP 502" in failed.error and len(second.outcomes) == 1  # the e-mail is not sent again

    third = notify(ctx, accounts, settings)

    assert [o.ok for o in third.outcomes] == [True] and len(smtp.messages) == 1
    sent = receiver.posts[-1][1]["text"]["content"]
    assert "晋城市2026年11月数据逾期未报送" in sent
    assert notify(ctx, accounts, settings).outcomes == []
    assert [row["outcome"] for row in notify_log(accounts.path)] == ["sent", "failed", "failed", "sent"]


def test_a_subscriber_of_jincheng_gets_only_jincheng_items(ctx, accounts, smtp, receiver):
    subs = subscriptions(accounts)
    subs.add(ctx.regions, username="jc-clerk", regions=[], kinds=["target", "overdue", "warnings"],
             webhook_url=receiver.url("/jc"), webhook_format="json", actor="admin")  # the account's scope: 晋城市
    subs.add(ctx.regions, username="admin", regions=["140100"], kinds=["target", "overdue", "warnings"],
             webhook_url=receiver.url("/ty"), webhook_format="json", actor="admin")
    settings = settings_for(smtp)
    notify(ctx, accounts, settings)
    lower_jincheng_gi_trademarks(ctx)
    notify(ctx, accounts, settings)

    jincheng = [item for post in receiver.to("/jc") for item in post["items"]]
    taiyuan = [item for post in receiver.to("/ty") for item in post["items"]]
    assert {item["kind"] for item in jincheng} == {"overdue", "target", "warnings"}
    assert all(set(item["regions"]) <= {"140500"} | {r.code for r in ctx.regions.descendants("140500")}
               for item in jincheng)
    assert [item["kind"] for item in taiyuan] == ["overdue"]
    assert taiyuan[0]["regions"] == ["140100"] and "太原市" in taiyuan[0]["title"]


def test_pending_batches_reach_the_subscribers_of_their_regions(ctx, accounts, smtp, receiver):
    """The hook approval before publish feeds: a batch it reports as pending is sent once."""
    subs = subscriptions(accounts)
    subs.add(ctx.regions, username="jc-clerk", regions=["140500"], kinds=["pending"],
             webhook_url=receiver.url("/jc"), webhook_format="json", actor="admin")
    subs.add(ctx.regions, username=None, label="陕西省局", regions=["610000"], kinds=["pending"],
             webhook_url=receiver.url("/sn"), webhook_format="json", actor="admin")
    batch = lower_jincheng_gi_trademarks(ctx)
    pending = ctx.store.query("SELECT id AS batch_id, file_name, loaded_at, loaded_by FROM load_batches WHERE id = ?",
                              [batch])
    settings = settings_for(smtp)

    notify(ctx, accounts, settings, pending=pending)
    notify(ctx, accounts, settings, pending=pending)

    [post] = receiver.to("/jc")
    assert [item["key"] for item in post["items"]] == [f"pending|{batch}"]
    assert "等待审核" in post["items"][0]["body"] and receiver.to("/sn") == []


def test_a_subscription_made_after_an_item_was_found_does_not_get_it(ctx, accounts, smtp, receiver):
    settings = settings_for(smtp)
    SubscriptionStore(accounts.path, clock=lambda: dt.datetime(2026, 11, 25)).add(
        ctx.regions, username="admin", regions=["140000"], kinds=["overdue"], email="a@example.gov.cn", actor="admin")
    notify(ctx, accounts, settings)
    SubscriptionStore(accounts.path, clock=lambda: dt.datetime(2026, 12, 21)).add(
        ctx.regions, username="jc-clerk", regions=["140500"], kinds=["overdue"], email="jc@example.gov.cn",
        actor="admin")

    later = notify(ctx, accounts, settings, now=dt.datetime(2026, 12, 22, 8))

    assert later.outcomes == [] and smtp.recipients == [["a@example.gov.cn"]]


def test_a_stopped_subscription_or_a_disabled_account_gets_nothing(ctx, accounts, smtp):
    subs = subscriptions(accounts)
    own = subs.add(ctx.regions, username="jc-clerk", regions=["140500"], kinds=["overdue"], email="jc@example.gov.cn",
                   actor="admin")
    subs.add(ctx.regions, username="viewer", regions=["140100"], kinds=["overdue"], email="v@example.gov.cn",
             actor="admin")
    subs.set_enabled(own.id, False, actor="jc-clerk", owner="jc-clerk")
    accounts.set_enabled("viewer", False, actor="admin")

    assert notify(ctx, accounts, settings_for(smtp)).outcomes == []
    assert smtp.messages == []


# --------------------------------------------------------------------------- the monthly briefing


def test_a_briefing_subscription_gets_the_month_s_pdf_attached_once(ctx, accounts, smtp):
    subscriptions(accounts).add(ctx.regions, username="jc-clerk", regions=["140500"], kinds=[], briefing=True,
                                email="jc@example.gov.cn", actor="admin")
    settings = settings_for(smtp)

    run = notify(ctx, accounts, settings)

    assert not run.failed
    [mail] = smtp.messages
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "简报_晋城市_jincheng_2025_2026-11.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    assert "监测简报" in mail["Subject"] and "晋城市知识产权强市建设" in smtp.texts()[0]
    assert notify(ctx, accounts, settings).outcomes == []


def test_no_briefing_before_the_month_is_due(ctx, accounts, smtp):
    subscriptions(accounts).add(ctx.regions, username="jc-clerk", regions=["140500"], kinds=[], briefing=True,
                                email="jc@example.gov.cn", actor="admin")
    run = notify(ctx, accounts, settings_for(smtp), today=dt.date(2026, 12, 15), now=dt.datetime(2026, 12, 15, 8))
    assert run.outcomes == [] and smtp.messages == []


# --------------------------------------------------------------------------- SMTP: TLS and login


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, standing in for an intranet mail server's own CA."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def _login(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"ipmon" and auth_data.password == b"mail-password-1"
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 235 or 535 itself


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # the SSL server: see below
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_mail_goes_through_tls_with_a_login(certificate, security):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    # aiosmtpd does not count implicit TLS as TLS for AUTH (it offers AUTH after STARTTLS only): the
    # SSL server is told to offer it all the same; the connection is encrypted from the first byte
    options = ({"ssl_context": context, "auth_require_tls": False} if security == "ssl"
               else {"tls_context": context, "require_starttls": True})
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=_login, auth_required=True,
                            **options)
    controller.start()
    try:
        settings = NotifySettings(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_security=security,
                                  smtp_user="ipmon", smtp_password="mail-password-1", smtp_from="ipmon@example.gov.cn",
                                  smtp_cafile=str(cert), timeout=10)
        message = Message(_subscription(), "email", (), "【知识产权指标监测】测试", "正文：晋城市")
        send_email(message, settings)
        assert [t.strip() for t in inbox.texts()] == ["正文：晋城市"]

        with pytest.raises(SendError, match="拒绝了登录"):
            send_email(message, NotifySettings(**{**settings.__dict__, "smtp_password": "wrong"}))
        with pytest.raises(SendError, match="邮件发送失败"):  # the certificate is not trusted without the CA file
            send_email(message, NotifySettings(**{**settings.__dict__, "smtp_cafile": None}))
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def _subscription() -> Subscription:
    return Subscription(1, None, "测试", (), ("overdue",), "to@example.gov.cn", None, None, False, True, "t",
                        "2026-01-01 00:00:00", "t", "2026-01-01 00:00:00")


def test_settings_from_the_environment():
    settings = NotifySettings.from_env({"IPMON_SMTP_HOST": "mail.example.gov.cn", "IPMON_SMTP_SECURITY": "ssl",
                                        "IPMON_SMTP_FROM": "ipmon@example.gov.cn",
                                        "IPMON_PUBLIC_URL": "https://ipmon.example.gov.cn/"})
    assert (settings.smtp_port, settings.public_url) == (465, "https://ipmon.example.gov.cn")
    assert NotifySettings.from_env({}).smtp_port == 587
    with pytest.raises(NotifySettingError, match="IPMON_SMTP_SECURITY"):
        NotifySettings.from_env({"IPMON_SMTP_SECURITY": "tls"})
    with pytest.raises(NotifySettingError, match="IPMON_PUBLIC_URL"):
        NotifySettings.from_env({"IPMON_PUBLIC_URL": "ipmon.example.gov.cn"})


def test_links_open_the_dashboard_on_the_region(ctx):
    assert dashboard_link(BASE, ctx, "national_14th_plan", "140500", "2026-10") == (
        f"{BASE}/?target_set=national_14th_plan&region=140000&city=140500&as_of=2026-10")
    assert dashboard_link(BASE, ctx, "jincheng_2025", "140521") == (
        f"{BASE}/?target_set=jincheng_2025&region=140500&county=140521")
    assert dashboard_link(None, ctx, "jincheng_2025", "140500") is None


# --------------------------------------------------------------------------- subscriptions


def test_subscriptions_are_checked_and_audited(ctx, accounts):
    subs = subscriptions(accounts)
    with pytest.raises(SubscriptionError, match="太原市 不在范围内"):
        subs.add(ctx.regions, username="jc-clerk", regions=["140100"], kinds=["overdue"], email="jc@example.gov.cn",
                 actor="admin")
    with pytest.raises(SubscriptionError, match="邮箱或群机器人地址"):
        subs.add(ctx.regions, username="admin", kinds=["overdue"], actor="admin")
    with pytest.raises(SubscriptionError, match="需要填写邮箱"):
        subs.add(ctx.regions, username="admin", briefing=True, webhook_url="https://qyapi.example/send?key=k",
                 webhook_format="wecom", actor="admin")
    with pytest.raises(SubscriptionError, match="无效"):
        subs.add(ctx.regions, username="admin", kinds=["overdue"], webhook_url="ftp://x", webhook_format="wecom",
                 actor="admin")
    made = subs.add(ctx.regions, username="jc-clerk", kinds=["overdue"], email="JC@Example.gov.cn", actor="admin")
    assert made.regions == ("140500",) and made.email == "jc@example.gov.cn" and made.label == "晋城市局数据员"
    with pytest.raises(SubscriptionError, match="不属于账户"):
        subs.set_enabled(made.id, False, actor="clerk", owner="clerk")
    subs.set_enabled(made.id, False, actor="jc-clerk", owner="jc-clerk")
    subs.remove(made.id, actor="admin")
    trail = accounts.audit.query(actions=["subscription_add", "subscription_stop", "subscription_remove"])
    assert list(trail["action"]) == ["subscription_remove", "subscription_stop", "subscription_add"]
    assert subs.list() == []


def test_the_cli_exit_codes(ctx, accounts, receiver, monkeypatch, capsys):
    from cli.main import main

    monkeypatch.setenv("IPMON_TODAY", "2026-12-20")
    monkeypatch.setenv("IPMON_PUBLIC_URL", BASE)
    db = str(ctx.store.path)
    subscriptions(accounts).add(ctx.regions, username="jc-clerk", regions=["140500"], kinds=["overdue"],
                                webhook_url=f"http://127.0.0.1:{free_port()}/nobody-listens", webhook_format="json",
                                actor="admin")
    assert main(["--db", db, "notify", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "将发送：订阅 1（晋城市局数据员）群机器人" in out and "未发送、未记录" in out
    with connect_notify(accounts.path, write=False) as con:
        assert con.execute("SELECT count(*) FROM notify_items").fetchone()[0] == 0

    assert main(["--db", db, "notify"]) == 1
    err = capsys.readouterr().err
    assert "发送失败：订阅 1（晋城市局数据员）群机器人" in err and "下次运行时重试" in err

    monkeypatch.setenv("IPMON_SMTP_SECURITY", "tls")
    assert main(["--db", db, "notify"]) == 2
    assert "IPMON_SMTP_SECURITY" in capsys.readouterr().err
