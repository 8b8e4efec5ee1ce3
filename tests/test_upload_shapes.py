"""The files offices actually have, loaded through ``python -m etl`` on an empty store (``init``
without --demo) and on the demo store: every period spelling, the national office's province table
(as .xlsx, as GBK CSV and as old Excel .xls), each loading exactly its values; a refused file
writes nothing.

The files are made here, in the shapes they come in: openpyxl for .xlsx, GBK text for CSV, and
xlwt (a test-only dependency, requirements-dev.txt) for a real BIFF8 .xls.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import xlwt

from cli.main import main
from monitor.store.database import Store

# --------------------------------------------------------------------------- the national office's table

# (short name, English or pinyin as the national office prints it) for the 31 provinces, in its order
PROVINCES = [
    ("北京", "Beijing", "110000"), ("天津", "Tianjin", "120000"), ("河北", "Hebei", "130000"),
    ("山西", "Shanxi", "140000"), ("内蒙古", "Inner Mongolia", "150000"), ("辽宁", "Liaoning", "210000"),
    ("吉林", "Jilin", "220000"), ("黑龙江", "Heilongjiang", "230000"), ("上海", "Shanghai", "310000"),
    ("江苏", "Jiangsu", "320000"), ("浙江", "Zhejiang", "330000"), ("安徽", "Anhui", "340000"),
    ("福建", "Fujian", "350000"), ("江西", "Jiangxi", "360000"), ("山东", "Shandong", "370000"),
    ("河南", "Henan", "410000"), ("湖北", "Hubei", "420000"), ("湖南", "Hunan", "430000"),
    ("广东", "Guangdong", "440000"), ("广西", "Guangxi", "450000"), ("海南", "Hainan", "460000"),
    ("重庆", "Chongqing", "500000"), ("四川", "Sichuan", "510000"), ("贵州", "Guizhou", "520000"),
    ("云南", "Yunnan", "530000"), ("西藏", "Tibet", "540000"), ("陕西", "Shaanxi", "610000"),
    ("甘肃", "Gansu", "620000"), ("青海", "Qinghai", "630000"), ("宁夏", "Ningxia", "640000"),
    ("新疆", "Xinjiang", "650000"),
]
MONTH = "2025-12"  # the title names the year 2025: stocks at the end of the year
INDICATORS = ("invention_patents", "trademarks")


def demo_figures(store: Path) -> dict[tuple[str, str], float]:
    """The demo store's values of the table's indicators at MONTH for 全国 and the provinces it
    holds: the table repeats them, so that on the demo store they are unchanged and the rest is new."""
    frame = Store(store).query(
        "SELECT region_code, indicator_id, value FROM observations WHERE month = ? "
        "AND region_code IN (SELECT unnest(?)) AND indicator_id IN ('invention_patents', 'trademarks')",
        [MONTH, ["100000", *(code for _, _, code in PROVINCES)]])
    return {(r, i): float(v) for r, i, v in frame.itertuples(index=False)}


def national_values(figures: dict[tuple[str, str], float], *, national_extra: float = 0) -> dict[tuple[str, str], float]:
    """A value per (region, indicator): 全国 and the provinces the demo holds as given, the other
    provinces sharing the rest, so that the 31 add up to 全国 exactly (whole numbers)."""
    values: dict[tuple[str, str], float] = {}
    for indicator in INDICATORS:
        national = figures[("100000", indicator)]
        held = [code for _, _, code in PROVINCES if (code, indicator) in figures]
        others = [code for _, _, code in PROVINCES if code not in held]
        rest = national - sum(figures[(code, indicator)] for code in held)
        if others:
            weights = list(range(1, len(others) + 1))
            shares = [rest * w // sum(weights) for w in weights]
            shares[-1] += rest - sum(shares)
            values.update({(code, indicator): share for code, share in zip(others, shares)})
        else:
            assert abs(rest) < 0.5, "the demo's provinces add up to its 全国"
        values.update({(code, indicator): figures[(code, indicator)] for code in held})
        values[("100000", indicator)] = national + national_extra
    return values


def national_rows(values: dict[tuple[str, str], float]) -> list[list]:
    """The sheet as the national office publishes it: table number, Chinese and English titles,
    bilingual headers and an English header row, a 序号 column, a 构成（%） share column, 全国总计
    first, names with pinyin after them, and notes below."""
    patents = values[("100000", "invention_patents")]
    rows: list[list] = [
        ["表 3"],
        ["2025年各省、自治区、直辖市有效发明专利和有效注册商标统计"],
        ["Inventions in Force and Registered Trademarks in Force by Region, 2025"],
        ["序号", "地区 Regions", "有效发明专利（件） Inventions in Force", "构成（%） Share (%)",
         "有效注册商标（件） Registered Trademarks in Force"],
        ["No.", "Regions", "Inventions in Force", "Share (%)", "Registered Trademarks in Force"],
        ["", "全国总计 Total", patents, 100.0, values[("100000", "trademarks")]],
    ]
    for k, (name, english, code) in enumerate(PROVINCES, start=1):
        count = values[(code, "invention_patents")]
        rows.append([k, f"{name} {english}", count, round(100 * count / patents, 2), values[(code, "trademarks")]])
    rows.append(["注：1. 本表数据不含香港、澳门和台湾；2. 构成为各地区占全国的比重。"])
    rows.append(["Note: Excluding Hong Kong, Macao and Taiwan."])
    return rows


def write_xlsx(rows: list[list], path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "表3"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_gbk_csv(rows: list[list], path: Path) -> Path:
    def cell(value) -> str:
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        return f'"{text}"' if "," in text else text

    path.write_bytes("\r\n".join(",".join(cell(v) for v in row) for row in rows).encode("gbk"))
    return path


def write_xls(rows: list[list], path: Path, *, sheet: str = "表3") -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    first = book.add_sheet("说明")  # the data is on the second sheet, as in many offices' workbooks
    first.write(0, 0, "数据见工作表「表3」")
    data = book.add_sheet(sheet)
    month_format = xlwt.easyxf(num_format_str="yyyy-mm")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                data.write(r, c, value, month_format)
            elif value != "":
                data.write(r, c, value)
    book.save(str(path))
    return path


# --------------------------------------------------------------------------- the CLI

def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def own_database(monkeypatch, tmp_path):
    monkeypatch.setenv("IPMON_DB", str(tmp_path / "default.duckdb"))


@pytest.fixture
def empty_store(tmp_path) -> Path:
    """A store made as a new office makes one: ``python -m etl init`` without --demo."""
    path = tmp_path / "empty.duckdb"
    code, out, err = run("--db", str(path), "init")
    assert code == 0, err
    assert Store(path).query("SELECT count(*) AS n FROM observations")["n"].iloc[0] == 0
    return path


@pytest.fixture
def demo_store(copy_demo_store) -> Path:
    """A copy of the demo store (what ``python -m etl init --demo`` writes)."""
    return copy_demo_store("shapes_demo")


@pytest.fixture(scope="session")
def figures(demo_store_file, tmp_path_factory) -> dict[tuple[str, str], float]:
    copy = tmp_path_factory.mktemp("figures") / "monitor.duckdb"
    shutil.copyfile(demo_store_file, copy)
    return demo_figures(copy)


def stored(path: Path, month: str | None = None, regions: tuple[str, ...] | None = None) -> dict:
    frame = Store(path).query("SELECT region_code, indicator_id, month, value, origin FROM observations")
    if month:
        frame = frame[frame["month"] == month]
    if regions:
        frame = frame[frame["region_code"].isin(regions)]
    return {(r, i, m): (v, o) for r, i, m, v, o in frame.itertuples(index=False)}


def state(path: Path) -> tuple:
    store = Store(path)
    return (sorted(stored(path).items()), store.query("SELECT count(*) AS n FROM load_batches")["n"].iloc[0],
            store.query("SELECT count(*) AS n FROM observation_log")["n"].iloc[0])


WRITERS = {"xlsx": write_xlsx, "gbk.csv": write_gbk_csv, "xls": write_xls}
SOURCES = {"xlsx": "Excel 工作簿，工作表「表3」", "gbk.csv": "CSV 文本，编码 GBK/GB18030，逗号分隔",
           "xls": "旧版 Excel 工作簿（.xls），工作表「表3」（共 2 个工作表）"}


def load_args(kind: str) -> tuple[str, ...]:
    return ("--sheet", "表3") if kind == "xls" else ()


@pytest.mark.parametrize("kind", list(WRITERS))
@pytest.mark.parametrize("which", ["empty", "demo"])
def test_a_national_office_province_table_loads_exactly_its_values(kind, which, figures, empty_store, demo_store,
                                                                   tmp_path):
    db = empty_store if which == "empty" else demo_store
    values = national_values(figures)
    path = WRITERS[kind](national_rows(values), tmp_path / f"表3-2025年各地区.{kind.split('.')[-1]}")

    code, out, err = run("--db", str(db), "load", str(path), *load_args(kind))
    assert code == 0, err
    assert SOURCES[kind] in out
    assert "宽表（每行一个地区，2 个指标列）；表头在第 4 行" in out
    assert "期间 2025年（来自标题，记为 2025-12）" in out
    # the share column and the English header and note rows are said, not loaded
    assert "「构成（%） Share (%)」是由各地区数值算出的占比或增速，不导入" in out
    assert "第 5 行「Regions」是英文表头或说明行，已跳过" in out
    assert "看起来是注释或说明行，已跳过" in out and "Note: Excluding" in out
    assert "第 6 行「全国」作为全国数值导入，与 31 个省（区、市）之和一致" in out
    unchanged = 0 if which == "empty" else len(figures)  # what the demo holds, repeated
    new = 64 - unchanged
    assert f"有效值 64 个，新增 {new}，修改 0，未变 {unchanged}；错误 0，警告 0" in out

    code, out, err = run("--db", str(db), "load", str(path), *load_args(kind), "--commit")
    assert code == 0, err
    regions = ("100000", *(code for _, _, code in PROVINCES))
    got = stored(db, MONTH, regions)
    want = {(r, i, MONTH): v for (r, i), v in values.items()}
    assert {k: v for k, (v, _) in got.items() if k[1] in INDICATORS} == want
    # on the demo store the three figures it had are the demo's still; everything else is the file's
    uploaded = {k for k, (_, origin) in got.items() if origin == "upload"}
    assert len(uploaded) == new


def test_a_national_total_that_differs_from_the_31_provinces_is_a_warning_naming_both(figures, empty_store, tmp_path):
    values = national_values(figures, national_extra=50_000)
    path = write_gbk_csv(national_rows(values), tmp_path / "表3.csv")
    before = state(empty_store)

    code, out, err = run("--db", str(empty_store), "load", str(path), "--commit")

    assert code == 1
    national = figures[("100000", "invention_patents")]
    assert (f"第 6 行「全国」的「有效发明专利拥有量」为 {national + 50_000:,.0f}，但 31 个省（区、市）之和为 {national:,.0f}"
            "（相差 50,000）") in out + err
    assert state(empty_store) == before  # nothing written without --accept-warnings

    code, out, err = run("--db", str(empty_store), "load", str(path), "--commit", "--accept-warnings",
                         "--reason", "全国数据以国家知识产权局公布数为准")
    assert code == 0, err
    assert stored(empty_store, MONTH, ("100000",))[("100000", "invention_patents", MONTH)][0] == national + 50_000


def test_a_table_of_some_provinces_loads_its_national_row_without_a_sum_check(empty_store, tmp_path):
    path = tmp_path / "部分省份.csv"
    path.write_bytes("2025年部分地区有效发明专利\n地区 Regions,有效发明专利 Inventions in Force\n"
                     "全国 China,5000000\n山西 Shanxi,38000\n陕西 Shaanxi,137000\n".encode("gbk"))
    code, out, err = run("--db", str(empty_store), "load", str(path), "--commit")
    assert code == 0, err
    assert "第 3 行「全国」作为全国数值导入（表中只有 2 个省份，未与各省之和核对）" in out
    assert {k: v for k, (v, _) in stored(empty_store).items()} == {
        ("100000", "invention_patents", "2025-12"): 5000000.0, ("140000", "invention_patents", "2025-12"): 38000.0,
        ("610000", "invention_patents", "2025-12"): 137000.0}


def test_a_city_table_keeps_its_total_row_as_a_check_and_hong_kong_rows_are_set_aside(empty_store, tmp_path):
    path = tmp_path / "晋城.csv"
    path.write_bytes("2025年6月晋城市有效发明专利\n地区,有效发明专利（件）\n城区,300\n泽州县,200\n合计,500\n"
                     .encode("gbk"))
    code, out, err = run("--db", str(empty_store), "load", str(path), "--commit")
    assert code == 0, err
    assert "第 5 行「合计」是合计行：与各行之和一致，仅用于核对，不导入" in out
    assert sorted(k[0] for k in stored(empty_store)) == ["140502", "140525"]

    path = tmp_path / "含港澳台.csv"
    path.write_bytes("2025年各地区有效发明专利\n地区,有效发明专利\n山西,38000\n香港,1200\n台湾,—\n".encode("gbk"))
    code, out, err = run("--db", str(empty_store), "load", str(path))
    assert code == 0, err
    assert "第 4 行「香港」不在本系统的地区范围内（31 个省、自治区、直辖市），已跳过" in out


# --------------------------------------------------------------------------- every period spelling

# 泽州县 (140525): a county the demo data does not cover, so the file is all new on both stores.
# A stock (有效发明专利拥有量) one month after another, a step of one a month (no warning), each
# month written another way; and an annual indicator (有效专利产业化率) by year.
SPELLINGS = [
    ("2023-07", "2023-07"), ("2023-8", "2023-08"), ("2023/09", "2023-09"), ("2023.10", "2023-10"),
    ("202311", "2023-11"), ("2023年12月", "2023-12"), ("2024年01月", "2024-01"), ("2024.02", "2024-02"),
    ("2024年第1季度", "2024-03"), ("45383", "2024-04"),  # an Excel serial day number: 2024-04-01
    ("5月", "2024-05"), ("1—6月", "2024-06"), ("1～7月", "2024-07"), ("1~8月", "2024-08"), ("2024Q3", "2024-09"),
    ("1至10月", "2024-10"), ("2024年11月", "2024-11"), ("2024年", "2024-12"), ("2025年二季度", "2025-06"),
    ("2025年第3季度", "2025-09"), ("2025-07-31 00:00:00", "2025-07"),
]


def period_rows(cells: list[tuple[object, str]]) -> list[list]:
    rows = [["2024年泽州县知识产权指标（按月）"], ["地区", "指标", "期间", "数值"]]
    for k, (cell, _month) in enumerate(sorted(cells, key=lambda c: c[1])):
        rows.append(["泽州县", "有效发明专利", cell, 500 + k])
    rows.append(["泽州县", "有效专利产业化率", "2023年", 30.5])
    rows.append(["泽州县", "有效专利产业化率", "2024", 31.5])
    return rows


def expected_periods(cells: list[tuple[object, str]]) -> dict:
    want = {("140525", "invention_patents", month): float(500 + k)
            for k, (_cell, month) in enumerate(sorted(cells, key=lambda c: c[1]))}
    want[("140525", "patent_industrialisation_rate", "2023-12")] = 30.5
    want[("140525", "patent_industrialisation_rate", "2024-12")] = 31.5
    return want


@pytest.mark.parametrize("which", ["empty", "demo"])
def test_every_period_spelling_in_a_long_csv_loads_under_its_month(which, empty_store, demo_store, tmp_path):
    db = empty_store if which == "empty" else demo_store
    path = tmp_path / "期间写法.csv"
    path.write_bytes("\n".join(",".join(str(c) for c in row) for row in period_rows(SPELLINGS)).encode("gbk"))
    code, out, err = run("--db", str(db), "load", str(path), "--commit")
    assert code == 0, out + err
    got = {k: v for k, (v, _) in stored(db, regions=("140525",)).items()}
    assert got == expected_periods(SPELLINGS)


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_excel_date_cells_in_a_period_column_load_as_their_months(kind, empty_store, demo_store, tmp_path):
    cells = [*SPELLINGS[:9], (datetime(2024, 4, 1), "2024-04"), *SPELLINGS[10:]]
    rows = period_rows(cells)
    for db in (empty_store, demo_store):
        if kind == "xlsx":
            path = write_xlsx(rows, tmp_path / "期间.xlsx")
            for row in openpyxl.load_workbook(path).active.iter_rows(min_row=3, values_only=True):
                assert not isinstance(row[2], float)  # the date stayed a date cell
        else:
            path = write_xls(rows, tmp_path / "期间.xls", sheet="数据")
        code, out, err = run("--db", str(db), "load", str(path), *(("--sheet", "数据") if kind == "xls" else ()),
                             "--commit")
        assert code == 0, out + err
        got = {k: v for k, (v, _) in stored(db, regions=("140525",)).items()}
        assert got == expected_periods(cells)


def test_a_wide_table_whose_headers_name_their_periods_loads_each_column_under_its_own(empty_store, tmp_path):
    path = tmp_path / "表头期间.csv"
    path.write_bytes("2025年晋城市有效发明专利\n地区,6月有效发明专利（件）,7月有效发明专利（件）\n城区,300,301\n泽州县,200,202\n"
                     .encode("gbk"))
    code, out, err = run("--db", str(empty_store), "load", str(path), "--commit")
    assert code == 0, out + err
    assert {k: v for k, (v, _) in stored(empty_store).items()} == {
        ("140502", "invention_patents", "2025-06"): 300.0, ("140502", "invention_patents", "2025-07"): 301.0,
        ("140525", "invention_patents", "2025-06"): 200.0, ("140525", "invention_patents", "2025-07"): 202.0}


@pytest.mark.parametrize(
    ("cell", "title", "message"),
    [
        ("2024.1", "", "「2024.1」可能是 2024年1月，也可能是被 Excel 当作数字而去掉末尾 0 的 2024.10（10 月）；"
                       "请写作 2024-01 或 2024-10（或把该列设为文本格式）"),
        ("2024-13", "", "「2024-13」不是有效月份（月份应在 1–12 之间）"),
        ("2024年2月30日", "", "「2024年2月30日」不是存在的日期；期间只需写月份，例如 2024-02"),
        ("7月", "", "「7月」没有写年份，标题中也没有年份；请写作 2024-07 这样的年-月，或在表格标题中写明年份（如「2024年……」）"),
        ("20247", "", "「20247」不是可识别的期间（既不是 6 位的年月如 202407，也不是 Excel 日期）"),
        ("2024Q2,专利授权量", "", "「2024年第2季度」是 4—6 月的合计，不能作为「专利授权量」某一个月的数值导入；"
                                "请改报 2024年1-6月 的累计值，或各月当月值"),
    ],
)
def test_an_ambiguous_or_impossible_period_is_refused_saying_how_to_write_it(cell, title, message, demo_store,
                                                                            tmp_path):
    period, _, indicator = cell.partition(",")
    path = tmp_path / "错误期间.csv"
    path.write_text(f"{title}地区,指标,期间,数值\n泽州县,{indicator or '有效发明专利'},{period},500\n", encoding="utf-8")
    before = state(demo_store)
    code, out, err = run("--db", str(demo_store), "load", str(path), "--commit")
    assert code == 1
    assert f"第 2 行「期间」列：{message}" in out + err
    assert state(demo_store) == before
