"""python -m etl notify against a real SMTP server (aiosmtpd) and a real HTTP receiver, both started
here on free local ports: who gets what, once; a failed send tried again; STARTTLS, SSL and login."""

from __future__ import annotations

import datetime as dt
import re
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from mailroom import Inbox

from devtools.serving import free_port
from etl.loader import commit_plan, plan_upload
from monitor.accounts.subscriptions import (
    Subscription,
    SubscriptionStore,
    briefing_file,
    connect_notify,
    notify_log,
)
from monitor.context import open_context
from monitor.errors import NotifySettingError, SubscriptionError
from monitor.output.notify import Message, NotifySettings, SendError, dashboard_link, run_notify, send_email
from monitor.store.writer import Writer

TODAY = dt.date(2026, 12, 20)  # 2026-11 is due on 2026-12-15; the demo store ends in 2026-10
NOW = dt.datetime(2026, 12, 20, 8, 0)
BASE = "http://ipmon.example.gov.cn:8501"


@pytest.fixture
def ctx(copy_demo_store):
    return open_context(store_path=copy_demo_store("notify"))


def settings_for(smtp: Inbox, **changes) -> NotifySettings:
    values = dict(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none", smtp_from="ipmon@example.gov.cn",
                  public_url=BASE, timeout=10)
    values.update(changes)
    return NotifySettings(**values)


@pytest.fixture(params=("sqlite", "postgresql"))
def accounts_backend(request) -> str:
    return request.param


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


# --------------------------------------------------------------------------- the monthly briefing as a link

LINK = re.compile(re.escape(BASE) + r"/briefing_file\?token=([A-Za-z0-9_-]+)")


def counting_briefings(ctx, calls: list):
    """The real briefing builder, counting its calls."""
    from monitor.output.briefing import briefing_file_name, build_briefing

    def build(set_id: str, region: str, month: str) -> tuple[str, bytes]:
        calls.append((set_id, region, month))
        return briefing_file_name(ctx, set_id, region, month), build_briefing(ctx, set_id, region, month).pdf

    return build


def test_a_linked_briefing_goes_as_one_link_by_mail_and_webhook_once_and_the_file_is_written_once(
        ctx, accounts, smtp, receiver, tmp_path):
    sub = subscriptions(accounts).add(
        ctx.regions, username="jc-clerk", regions=["140500"], kinds=[], briefing=True, briefing_delivery="link",
        email="jc@example.gov.cn", webhook_url=receiver.url("/wecom?key=k1"), webhook_format="wecom", actor="admin")
    settings = settings_for(smtp, briefings_dir=tmp_path / "briefings")
    calls: list = []
    receiver.replies = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"})]  # the robot refuses once

    first = notify(ctx, accounts, settings, briefing_pdf=counting_briefings(ctx, calls))

    assert [(o.message.channel, o.ok) for o in first.outcomes] == [("email", True), ("webhook", False)]
    [mail] = smtp.messages
    assert list(mail.iter_attachments()) == []  # a link, no attachment
    text = smtp.texts()[0]
    [token] = LINK.findall(text)
    assert "本月监测简报（PDF）请从下面的链接下载" in text and "见附件" not in text
    assert "晋城市知识产权强市建设目标监测简报" in text and mail["Subject"].startswith("【知识产权指标监测】监测简报（1 份")
    found = briefing_file(token, accounts.path)
    assert (found.region, found.month, found.target_set) == ("140500", "2026-11", "jincheng_2025")
    assert found.path == tmp_path / "briefings" / "2026-11" / "简报_晋城市_jincheng_2025_2026-11.pdf"
    assert found.path.read_bytes().startswith(b"%PDF")
    assert len(token) >= 40 and token not in str(found.path)  # unguessable, and not the file's name

    second = notify(ctx, accounts, settings, briefing_pdf=counting_briefings(ctx, calls))  # the webhook again

    assert [(o.message.channel, o.ok) for o in second.outcomes] == [("webhook", True)]
    content = receiver.to("/wecom")[-1]["text"]["content"]
    assert LINK.findall(content) == [token]  # the same file, the same token
    assert len(calls) == 1 and len(smtp.messages) == 1
    assert notify(ctx, accounts, settings, briefing_pdf=counting_briefings(ctx, calls)).outcomes == []
    log = notify_log(accounts.path)
    assert [(row["channel"], row["outcome"], row["attachments"]) for row in reversed(log)] == [
        ("email", "sent", "下载链接"), ("webhook", "failed", "下载链接"), ("webhook", "sent", "下载链接")]
    assert sub.briefing_linked


def test_a_generic_webhook_carries_the_download_link_of_each_briefing(ctx, accounts, smtp, receiver, tmp_path):
    subscriptions(accounts).add(ctx.regions, username=None, label="晋城市局群", regions=["140500"], kinds=[],
                                briefing=True, briefing_delivery="link", webhook_url=receiver.url("/json"),
                                webhook_format="json", actor="admin")
    calls: list = []
    run = notify(ctx, accounts, settings_for(smtp, briefings_dir=tmp_path), briefing_pdf=counting_briefings(ctx, calls))

    assert not run.failed and smtp.messages == []
    [post] = receiver.to("/json")
    [item] = post["items"]
    assert item["kind"] == "briefing" and LINK.fullmatch(item["download"])
    assert item["download"] in item["body"] and item["download"] in post["text"]


def test_without_a_public_address_a_linked_briefing_goes_without_a_link_and_the_cli_says_so(
        ctx, accounts, smtp, monkeypatch, capsys, tmp_path):
    from cli.main import main

    subscriptions(accounts).add(ctx.regions, username="jc-clerk", regions=["140500"], kinds=[], briefing=True,
                                briefing_delivery="link", email="jc@example.gov.cn", actor="admin")
    monkeypatch.delenv("IPMON_PUBLIC_URL", raising=False)
    for name, value in {"IPMON_TODAY": "2026-12-20", "IPMON_SMTP_HOST": "127.0.0.1", "IPMON_SMTP_PORT": str(smtp.port),
                        "IPMON_SMTP_SECURITY": "none", "IPMON_SMTP_FROM": "ipmon@example.gov.cn",
                        "IPMON_BRIEFINGS_DIR": str(tmp_path / "briefings")}.items():
        monkeypatch.setenv(name, value)

    assert main(["--db", str(ctx.store.path), "notify"]) == 0

    out = capsys.readouterr().out
    assert "未设置 IPMON_PUBLIC_URL" in out and "订阅 1 的每月简报无法附下载链接，消息已不带链接发送" in out
    [mail] = smtp.messages
    assert list(mail.iter_attachments()) == [] and "briefing_file" not in smtp.texts()[0]
    assert "系统未配置访问地址，无法附下载链接" in smtp.texts()[0]
    assert not (tmp_path / "briefings").exists()  # nothing written that nobody can reach


def test_a_linked_briefing_needs_no_mail_address_but_an_attached_one_does(ctx, accounts):
    subs = subscriptions(accounts)
    robot = dict(webhook_url="https://qyapi.example/send?key=k", webhook_format="wecom")
    with pytest.raises(SubscriptionError, match="需要填写邮箱，或改为以下载链接发送"):
        subs.add(ctx.regions, username="admin", briefing=True, briefing_delivery="attach", actor="admin", **robot)
    with pytest.raises(SubscriptionError, match="简报发送方式「fax」无效"):
        subs.add(ctx.regions, username="admin", briefing=True, briefing_delivery="fax", actor="admin", **robot)
    made = subs.add(ctx.regions, username="admin", briefing=True, briefing_delivery="link", actor="admin", **robot)
    assert made.briefing_linked and made.email is None
    with pytest.raises(SubscriptionError, match="没有邮箱"):
        subs.set_briefing_delivery(made.id, "attach", actor="admin")
    mailed = subs.add(ctx.regions, username="jc-clerk", briefing=True, email="jc@example.gov.cn", actor="admin")
    with pytest.raises(SubscriptionError, match="不属于账户"):
        subs.set_briefing_delivery(mailed.id, "link", actor="clerk", owner="clerk")
    assert subs.set_briefing_delivery(mailed.id, "link", actor="jc-clerk", owner="jc-clerk").briefing_linked
    [edit] = accounts.audit.query(actions=["subscription_edit"]).itertuples()
    assert edit.actor == "jc-clerk" and "每月简报改为下载链接（邮件和群机器人消息）" in edit.detail
    [add] = accounts.audit.query(actions=["subscription_add"]).head(2).tail(1).itertuples()
    assert "每月简报（下载链接（邮件和群机器人消息））" in add.detail


def test_an_accounts_file_from_before_linked_briefings_gets_the_choice_in_place(tmp_path):
    import sqlite3

    from monitor.accounts import subscriptions as module

    path = tmp_path / "old.sqlite3"
    before = module.SCHEMA.replace(
        "    briefing_delivery TEXT NOT NULL DEFAULT 'attach' CHECK (briefing_delivery IN ('attach', 'link')),\n", "")
    assert before != module.SCHEMA
    with sqlite3.connect(path) as con:
        con.executescript(before)
        con.execute("INSERT INTO subscriptions (label, kinds, email, briefing, created_by, created_at, updated_by, "
                    "updated_at) VALUES ('局', 'overdue', 'a@example.gov.cn', 1, 'admin', 't', 'admin', 't')")

    [old] = SubscriptionStore(path).list()

    assert (old.briefing, old.briefing_delivery, old.briefing_linked) == (True, "attach", False)
    assert SubscriptionStore(path).set_briefing_delivery(old.id, "link", actor="admin").briefing_linked


def test_a_token_nobody_was_given_finds_nothing(accounts):
    assert briefing_file("x" * 43, accounts.path) is None
    assert briefing_file("../../etc/passwd", accounts.path) is None and briefing_file(None, accounts.path) is None
