"""``python -m etl``: exit codes and what a person reads in the terminal.

Runs ``cli.main.main`` in-process (and ``python -m etl`` as a real subprocess twice). Every run
points --db (and IPMON_DB) at a file under tmp_path, so data/monitor.duckdb is never touched.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from monitor.store.database import Store

ROOT = Path(__file__).parent.parent
CONFIG = ROOT / "indicators.yaml"
HEADER = "地区,指标,期间,数值\n"
GOOD = HEADER + "晋城,有效发明专利拥有量,2024-05,600\n晋城,有效注册商标量,2024-05,13000\n"


@pytest.fixture(autouse=True)
def own_database(monkeypatch, tmp_path):
    """Whatever a command opens by default is a file of this test's own."""
    monkeypatch.setenv("IPMON_DB", str(tmp_path / "default.duckdb"))


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "x.duckdb")


def run(*argv: str) -> tuple[int, str, str]:
    """main(argv) -> (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- check-config


def test_check_config_passes_on_the_real_file_and_prints_counts():
    code, out, err = run("check-config")
    assert code == 0, err
    assert out.startswith("配置有效：") and "个指标" in out and "个目标集" in out and "个目标" in out


def test_check_config_rejects_a_broken_copy_naming_line_target_and_field(tmp_path):
    text = CONFIG.read_text(encoding="utf-8")
    broken = text.replace("        value: 700\n", "        value: abc\n", 1)
    line = broken.splitlines().index("        value: abc") + 1
    path = write(tmp_path, "copy.yaml", broken)

    code, out, err = run("check-config", path)

    assert code == 1 and out == ""
    assert f"配置文件 {path} 有 1 处错误" in err
    assert f"第 {line} 行" in err
    assert "目标集 jincheng_2025 › 目标 jc_invention_patents › 字段 value" in err
    assert "应为数字（当前值：'abc'）" in err


def test_check_config_checks_the_file_given_with_the_global_config_option(tmp_path):
    path = write(tmp_path, "copy.yaml", CONFIG.read_text(encoding="utf-8").replace("达到 700 件", "达到 800 件"))
    code, _, err = run("--config", path, "check-config")
    assert code == 1
    assert "未在来源文件 003_d749e9a744f654f6.txt 中找到" in err


# --------------------------------------------------------------------------- load


def test_load_without_commit_is_a_dry_run_that_writes_nothing(tmp_path, db):
    code, out, err = run("--db", db, "load", write(tmp_path, "a.csv", GOOD))
    assert code == 0, err
    assert "a.csv：有效值 2 个，新增 2，修改 0，未变 0；错误 0，警告 0" in out
    assert "预检完成，未写入。确认无误后加 --commit 写入。" in out
    assert Store(db).observation_count() == 0


def test_load_with_commit_writes_and_a_corrected_file_shows_old_and_new(tmp_path, db):
    code, out, _ = run("--db", db, "load", write(tmp_path, "a.csv", GOOD), "--commit", "--user", "测试员")
    assert code == 0
    assert "已写入，批次号 1" in out
    assert Store(db).observation_count() == 2

    corrected = GOOD.replace("2024-05,600", "2024-05,612")
    code, _, err = run("--db", db, "load", write(tmp_path, "b.csv", corrected), "--commit")
    assert code == 1  # May 2024 closed long ago (indicators.yaml reporting): a correction needs a reason
    assert "本次提交会修改已关账期间的 1 个数值（2024年5月自 2024年7月15日 起已关账），属于更正；未写入任何数据" in err
    code, out, _ = run("--db", db, "load", write(tmp_path, "b.csv", corrected), "--commit", "--reason", "市局复核")
    assert code == 0
    assert "注意：本次更正已关账期间的 1 个值：2024年5月（2024年7月15日关账）" in out
    assert "b.csv：有效值 2 个，新增 0，修改 1，未变 1" in out
    assert "将被修改的值（原值 → 新值）：" in out and "600.0" in out and "612.0" in out
    assert "已写入，批次号 2" in out
    stored = Store(db).query("SELECT value FROM observations WHERE indicator_id = 'invention_patents'")
    assert stored["value"].tolist() == [612.0]


def test_load_of_the_same_file_again_says_when_it_was_loaded_before(tmp_path, db):
    path = write(tmp_path, "a.csv", GOOD)
    run("--db", db, "load", path, "--commit")
    code, out, _ = run("--db", db, "load", path)
    assert code == 0
    assert "注意：内容完全相同的文件已作为批次 1 导入过；本次没有任何变化，无需再次导入" in out


def test_load_of_a_file_with_errors_exits_1_shows_the_problems_and_writes_nothing(tmp_path, db):
    bad = GOOD + "晋阳市,有效发明专利拥有量,2024-05,5\n"
    code, out, err = run("--db", db, "load", write(tmp_path, "bad.csv", bad), "--commit")
    assert code == 1
    assert "错误 1" in out
    assert "第 4 行「地区」列：「晋阳市」不是已知地区" in out
    assert "有错误，未写入任何数据。请按上表修改后重新导入。" in err
    store = Store(db)
    assert store.observation_count() == 0
    assert store.query("SELECT count(*) AS n FROM load_batches")["n"].iloc[0] == 0


def test_load_of_a_file_without_the_required_columns_exits_1(tmp_path, db):
    code, _, err = run("--db", db, "load", write(tmp_path, "cols.csv", "地区,指标\n晋城,有效发明专利拥有量\n"))
    assert code == 1
    assert "cols.csv 第 1 行像是表头，但缺少必需的列：数值" in err


def test_load_of_a_missing_file_exits_2(tmp_path, db):
    code, _, err = run("--db", db, "load", str(tmp_path / "nowhere.csv"))
    assert code == 2
    assert f"找不到文件：{tmp_path / 'nowhere.csv'}" in err
    assert not Path(db).exists()


@pytest.mark.parametrize("argv", [[], ["load"], ["frobnicate"], ["evaluate", "--as-of", "2025-06"],
                                  ["check-config", "--no-such-option"]])
def test_bad_usage_exits_2_with_usage_text(argv):
    code, _, err = run(*argv)
    assert code == 2
    assert "usage: python -m etl" in err


def test_help_exits_0():
    code, out, _ = run("--help")
    assert code == 0 and "知识产权指标监测" in out


# --------------------------------------------------------------------------- init and evaluate


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> tuple[str, int, str]:
    """A store initialised with the demo data once for the module: (path, exit code, stdout)."""
    path = str(tmp_path_factory.mktemp("demo") / "x.duckdb")
    code, out, err = run("--db", path, "init", "--demo")
    assert err == ""
    return path, code, out


def test_init_demo_on_an_empty_database_loads_the_demo_data(demo_db):
    path, code, out = demo_db
    assert code == 0
    rows = Store(path).observation_count()
    assert rows > 10_000
    assert f"观测值 {rows} 条（本次写入示例数据 {rows} 条）" in out
    origins = Store(path).query("SELECT DISTINCT origin FROM load_batches ORDER BY origin")["origin"].tolist()
    assert origins == ["demo", "published"]


def test_init_demo_again_leaves_a_database_with_data_alone(demo_db):
    path, _, _ = demo_db
    before = Store(path).observation_count()
    code, out, _ = run("--db", path, "init", "--demo")
    assert code == 0
    assert out.strip().endswith(f"观测值 {before} 条")
    assert Store(path).observation_count() == before


def test_evaluate_prints_every_jincheng_target(demo_db):
    path, _, _ = demo_db
    code, out, err = run("--db", path, "evaluate", "--target-set", "jincheng_2025", "--as-of", "2025-06")
    assert code == 3, err  # some of 晋城's own targets are 滞后 in June 2025: a scheduled job acts on it
    for target_id in ("jc_invention_patents", "jc_invention_per_10k", "jc_trademarks", "jc_gi_trademarks",
                      "jc_gi_products", "jc_agri_gi", "jc_copyright"):
        assert target_id in out
    assert "注：标「示例」的行含示例数据" in out


def test_evaluate_gives_machines_numbers_in_csv_and_json(demo_db):
    import io
    import json

    import pandas as pd

    path, _, _ = demo_db
    code, out, err = run("--db", path, "evaluate", "--target-set", "jincheng_2025", "--as-of", "2025-06",
                         "--format", "json")
    assert code == 3, err
    rows = {r["target_id"]: r for r in json.loads(out)}
    copyright_row = rows["jc_copyright"]
    # 60 registrations in 2025: judged on 2025's 1—6月 total; needed per month = (60 − total) / 6 months left
    assert copyright_row["measure"] == "2025年累计（1—当月）" and copyright_row["value_month"] == "2025-06"
    assert copyright_row["needed_per_month"] == pytest.approx((60 - copyright_row["value"]) / 6)
    assert copyright_row["months_left"] == 6 and copyright_row["demo"] is True and copyright_row["reference"] is False
    code, out, _ = run("--db", path, "evaluate", "--target-set", "jincheng_2025", "--as-of", "2025-06",
                       "--format", "csv")
    table = pd.read_csv(io.StringIO(out))
    assert list(table["target_id"]) == list(rows) and pd.api.types.is_float_dtype(table["gap"])


def test_evaluate_of_another_city_marks_references_and_refuses_the_province_above(demo_db):
    import json

    path, _, _ = demo_db
    code, out, err = run("--db", path, "evaluate", "--target-set", "jincheng_2025", "--as-of", "2025-06",
                         "--region", "太原", "--format", "json")
    rows = {r["target_id"]: r for r in json.loads(out)}
    assert rows["jc_invention_patents"]["reference"] is True
    assert rows["jc_invention_patents"]["target_value"] == 1692  # 700 × 5,304,061 / 2,194,545, whole patents
    assert rows["jc_invention_patents"]["status_label"].endswith("（参考）")
    assert rows["jc_invention_per_10k"]["reference"] is False  # a ratio applies as written
    assert code in (0, 3) and code == (3 if any(r["status"] in ("滞后", "未达成") and not r["reference"]
                                                for r in rows.values()) else 0)
    code, _, err = run("--db", path, "evaluate", "--target-set", "jincheng_2025", "--region", "山西省")
    assert code == 2 and "不适用：目标集为晋城市制定" in err


def test_evaluate_of_an_unknown_target_set_lists_the_known_ones(demo_db):
    path, _, _ = demo_db
    code, _, err = run("--db", path, "evaluate", "--target-set", "jincheng_2030", "--as-of", "2025-06")
    assert code == 2
    assert "没有目标集「jincheng_2030」；可用：" in err and "jincheng_2025" in err


# --------------------------------------------------------------------------- a real process


def python_m_etl(*argv: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "IPMON_DB": str(tmp_path / "sub.duckdb"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "etl", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_python_m_etl_runs_as_a_program_with_its_exit_codes(tmp_path):
    ok = python_m_etl("check-config", tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("配置有效：")

    missing = python_m_etl("load", str(tmp_path / "nowhere.csv"), tmp_path=tmp_path)
    assert missing.returncode == 2
    assert "找不到文件" in missing.stderr


# --------------------------------------------------------------------------- uploads: shapes, history, templates

UPLOADS = ROOT / "tests" / "data" / "uploads"


def test_load_reads_a_gbk_wide_file_with_a_title_row_and_says_what_it_found(db):
    code, out, err = run("--db", db, "load", str(UPLOADS / "good_wide_gbk_title.csv"), "--commit")
    assert code == 0, err
    assert out.startswith("文件格式：CSV 文本，编码 GBK/GB18030，逗号分隔；宽表（每行一个地区，2 个指标列）；表头在第 2 行；"
                          "标题「2024年6月山西省知识产权主要指标」；期间 2024-06（来自标题）")
    assert "good_wide_gbk_title.csv：有效值 5 个，新增 5" in out
    assert "合计行" in out and "已写入，批次号 1" in out
    assert Store(db).observation_count() == 5


def test_load_takes_a_sheet_and_a_period(tmp_path, db):
    code, out, err = run("--db", db, "load", str(UPLOADS / "good_wide.xlsx"), "--sheet", "6月")
    assert code == 0, err
    assert "Excel 工作簿，工作表「6月」（共 2 个工作表）" in out
    code, _, err = run("--db", db, "load", str(UPLOADS / "good_wide.xlsx"))
    assert code == 1 and "工作簿中还有 「6月」，请选择数据所在的工作表" in err
    code, out, err = run("--db", db, "load", str(UPLOADS / "bad_no_period.csv"), "--period", "2024-06", "--commit")
    assert code == 0, err
    assert "期间 2024-06（由导入参数指定）" in out


def test_load_with_warnings_needs_accept_warnings_and_a_reason_to_commit(db, accounts):
    path = str(UPLOADS / "warn_outlier.csv")
    code, out, err = run("--db", db, "load", path)
    assert code == 0 and "（有警告，还需加 --accept-warnings 确认，并用 --reason 说明理由）" in out
    code, _, err = run("--db", db, "load", path, "--commit")
    assert code == 1 and "有 1 条警告，未写入。核对无误后加 --accept-warnings 确认写入，并用 --reason 说明理由。" in err
    code, _, err = run("--db", db, "load", path, "--commit", "--accept-warnings", "--reason", "  ")
    assert code == 1 and "确认写入需用 --reason 说明理由（记入批次说明和审计记录）" in err
    assert Store(db).observation_count() == 0
    code, out, _ = run("--db", db, "load", path, "--commit", "--accept-warnings", "--reason", "已与市局核对，\n数值无误")
    assert code == 0 and "已写入，批次号 1" in out
    note = Store(db).query("SELECT note FROM load_batches WHERE id = 1")["note"].iloc[0]
    assert note == "接受 1 条警告：已与市局核对， 数值无误"
    [commit] = accounts.audit.query(actions=["commit"]).to_dict("records")
    assert commit["target"] == "批次 1" and commit["detail"].endswith("；接受 1 条警告：已与市局核对， 数值无误")


def test_load_of_an_unreadable_file_exits_1_with_the_reason(db):
    code, _, err = run("--db", db, "load", str(UPLOADS / "bad_old_excel.xls"))
    assert code == 1
    assert err.startswith("无法导入：bad_old_excel.xls 不是有效的 Excel（.xls）文件，或已损坏")


def test_batches_batch_and_rollback_from_the_command_line(tmp_path, db):
    run("--db", db, "load", write(tmp_path, "a.csv", GOOD), "--commit", "--user", "张三")
    corrected = GOOD.replace("2024-05,600", "2024-05,612")
    run("--db", db, "load", write(tmp_path, "b.csv", corrected), "--commit", "--user", "李四", "--reason", "市局复核")
    code, out, _ = run("--db", db, "batches")
    assert code == 0
    lines = out.splitlines()
    assert "批次" in lines[0] and "操作人" in lines[0]
    assert "b.csv" in lines[1] and "李四" in lines[1] and "已生效" in lines[1]
    code, out, _ = run("--db", db, "batch", "2", "--save-file", str(tmp_path / "kept.csv"))
    assert code == 0 and "批次 2：b.csv" in out and "写入 1 个值" in out
    assert (tmp_path / "kept.csv").read_text(encoding="utf-8") == corrected
    code, out, _ = run("--db", db, "rollback", "2", "--user", "管理员")
    assert code == 0 and out.strip() == "批次 2 已回滚（回滚记录为批次 3），被它替换的数值已恢复"
    assert Store(db).query("SELECT value FROM observations WHERE indicator_id = 'invention_patents'")[
        "value"].tolist() == [600.0]
    code, _, err = run("--db", db, "rollback", "2")
    assert code == 1 and "批次 2 已被回滚" in err


def test_a_rollback_that_changes_a_closed_month_needs_a_reason_from_the_command_line(tmp_path, db):
    run("--db", db, "load", write(tmp_path, "a.csv", GOOD), "--commit")  # a late report of May 2024, closed
    code, _, err = run("--db", db, "rollback", "1")
    assert code == 1 and err.startswith("错误：回滚批次 1 会修改已关账期间的 2 个数值（其中 2 个将被删除），"
                                        "2024年5月自 2024年7月15日 起已关账，属于更正；未做任何更改。")
    assert "命令行用 --reason" in err and Store(db).observation_count() == 2
    code, out, _ = run("--db", db, "rollback", "1", "--reason", "误报：5月数据属于晋城市城区")
    assert code == 0 and out.splitlines() == ["批次 1 已回滚（回滚记录为批次 2），被它替换的数值已恢复",
                                              "本次回滚修改了已关账期间的数值，已记为更正（理由：误报：5月数据属于晋城市城区）。"]
    assert Store(db).observation_count() == 0


def test_template_writes_csv_and_xlsx_that_the_loader_reads(tmp_path, db):
    csv_path, xlsx_path = tmp_path / "t.csv", tmp_path / "t.xlsx"
    code, out, _ = run("--db", db, "template", "--region", "晋城", "--month", "2024-06", "--out", str(csv_path))
    assert code == 0 and "模板已写入" in out and "（7 行）" in out
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    code, _, _ = run("--db", db, "template", "--region", "140500", "--month", "2024-06", "--form", "long",
                     "--out", str(xlsx_path))
    assert code == 0
    code, out, err = run("--db", db, "load", str(xlsx_path))  # an unfilled template: nothing to load
    assert code == 1 and "t.xlsx 中没有可导入的数值（所有数值单元格都为空）" in out
    assert "有错误，未写入任何数据" in err


def test_completeness_prints_each_region_of_the_province(tmp_path, db):
    run("--db", db, "load", write(tmp_path, "a.csv", GOOD), "--commit")
    code, out, _ = run("--db", db, "completeness", "--region", "山西", "--month", "2024-05")
    assert code == 0
    assert out.startswith("山西省 2024-05 报送情况（截止 2024-06-15）：")
    assert "晋城市" in out and "太原市" in out and "逾期报送" in out


# --------------------------------------------------------------------------- reading commands read


def fingerprint(path: Path) -> tuple:
    """What a reading command must leave as it found it: the store's bytes, its time stamp, its
    data version (every page's cache key), and the files beside it (no write-ahead log left)."""
    import hashlib

    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, Store(path).data_version(),
            sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name)))


@pytest.mark.parametrize("argv", [
    ("batches",), ("batch", "1", "--limit", "3"), ("completeness", "--region", "山西", "--month", "2026-09"),
    ("evaluate", "--target-set", "jincheng_2025", "--as-of", "2026-06"), ("load", "{file}"),
], ids=["batches", "batch", "completeness", "evaluate", "dry-run load"])
def test_a_reading_command_writes_nothing_and_keeps_the_data_version(argv, copy_demo_store, tmp_path):
    path = copy_demo_store("read_only_commands")
    file = write(tmp_path, "a.csv", HEADER + "晋城,有效发明专利拥有量,2026-09,1\n")
    run("--db", str(path), "batches")  # the first open of a copy may mirror the reference data once
    before = fingerprint(path)
    code, _, err = run("--db", str(path), *(a.format(file=file) for a in argv))
    assert code in (0, 1, 3), err  # evaluate: 3 when a target is behind (it read, and said so)
    assert fingerprint(path) == before


def test_a_changed_configuration_is_mirrored_once_and_then_reads_read_again(copy_demo_store, tmp_path):
    path = copy_demo_store("config_changed")
    run("--db", str(path), "batches")
    version = Store(path).data_version()
    changed = tmp_path / "indicators.yaml"
    changed.write_text(CONFIG.read_text(encoding="utf-8").replace("name: 有效发明专利拥有量\n", "name: 有效发明专利拥有量（件）\n", 1),
                       encoding="utf-8")
    assert run("--config", str(changed), "--db", str(path), "batches")[0] == 0
    assert Store(path).data_version() == version + 1
    assert Store(path).query("SELECT name FROM indicators WHERE id = 'invention_patents'")["name"].tolist() == [
        "有效发明专利拥有量（件）"]
    before = fingerprint(path)
    assert run("--config", str(changed), "--db", str(path), "batches")[0] == 0
    assert fingerprint(path) == before
