"""A disputed clause names its reading; an administrator's choice of the alternative is stored and
evaluated everywhere (monitor/store/readings.py), and 总览's words say which reading is in force
(monitor/domain/provenance.py)."""

from __future__ import annotations

import pytest

from monitor.context import open_context
from monitor.domain.config import alternative_target
from monitor.domain.provenance import annotate
from monitor.evaluation.targetset import evaluate_target_set
from monitor.store.readings import ReadingError, read_readings, set_reading, with_readings


@pytest.fixture
def ctx(copy_demo_store):
    return open_context(store_path=copy_demo_store("readings_store"))


def row(frame, target_id):
    return frame.set_index("target_id").loc[target_id]


def test_the_alternative_of_a_switchable_target_is_an_ordinary_target(config):
    gi = next(t for t in config.target_set("shaanxi_2022").targets if t.id == "sn22_new_gi")
    alt = alternative_target(gi)
    assert (alt.type, alt.indicator, alt.value, alt.clause) == ("increase", "gi_trademarks_and_products", 3, gi.clause)
    copyright_ = next(t for t in config.target_set("jincheng_2025").targets if t.id == "jc_copyright")
    alt = alternative_target(copyright_)
    assert (alt.type, alt.start, alt.deadline, alt.value) == ("increase", "2020-09", "2025-12", 60)


def test_no_choice_means_the_registry_reading(ctx):
    assert read_readings(ctx.store) == {}
    assert with_readings(ctx) is ctx


def test_choosing_the_alternative_changes_what_is_evaluated_and_is_kept_in_the_store(ctx):
    before = ctx.store.data_version()
    written = row(evaluate_target_set(ctx, "shaanxi_2022", "2022-12"), "sn22_new_gi")
    set_reading(ctx.store, ctx.config, "sn22_new_gi", "alternative")
    assert ctx.store.data_version() > before  # cached evaluations are redone
    assert read_readings(ctx.store) == {"sn22_new_gi": "alternative"}
    chosen = with_readings(ctx)
    alt = row(evaluate_target_set(chosen, "shaanxi_2022", "2022-12"), "sn22_new_gi")
    assert written["indicator"] == "geographic_indications" and alt["indicator"] == "gi_trademarks_and_products"
    assert alt["indicator_name"] == "地理标志商标和保护产品"
    # the document's config itself is untouched
    assert ctx.config.target_set("shaanxi_2022").targets[1].indicator == "geographic_indications"
    set_reading(ctx.store, ctx.config, "sn22_new_gi", "document")
    assert read_readings(ctx.store) == {}


def test_copyright_read_as_registrations_since_the_plan_counts_from_september_2020(ctx):
    set_reading(ctx.store, ctx.config, "jc_copyright", "alternative")
    frame = evaluate_target_set(with_readings(ctx), "jincheng_2025", "2025-06")
    alt = row(frame, "jc_copyright")
    assert alt["type"] == "increase" and alt["target_text"] == "新增 60件（2025年底）"
    assert alt["measure"] == "2020年9月以来新增" and alt["baseline_period"] == "2020-08"
    written = row(evaluate_target_set(ctx, "jincheng_2025", "2025-06"), "jc_copyright")
    assert written["target_text"] == "2025年全年（1—12月）合计达到 60件"  # the registry's reading: 2025's total


def test_a_target_without_a_switch_cannot_be_switched(ctx):
    with pytest.raises(ReadingError, match="没有可切换的读法"):
        set_reading(ctx.store, ctx.config, "sn22_advantage_enterprises", "alternative")
    with pytest.raises(ReadingError, match="读法「both」无效"):
        set_reading(ctx.store, ctx.config, "sn22_new_gi", "both")


def test_the_page_words_say_the_reading_the_document_and_whether_it_is_a_quotation(ctx):
    tset = ctx.config.target_set("shaanxi_2022")
    frame = annotate(evaluate_target_set(ctx, "shaanxi_2022", "2022-12"), tset, {})
    gi = row(frame, "sn22_new_gi")
    assert gi["interpretation"].startswith("解读：地理标志按三类合计") and "另一读法：只计知识产权部门主管的" in gi["interpretation"]
    assert gi["reading_note"] == "当前按登记的读法评估；管理员可切换为另一读法。"
    assert gi["document"] == tset.document_label and gi["quote"] == "原文：「新增地理标志3件」"
    standard = row(frame, "sn22_standard_units")
    assert "（依据：「推进知识产权贯标，新增贯标企业150家以上」）" in standard["interpretation"]
    assert standard["reading_note"] is None  # the data cannot show the alternative
    chosen = annotate(evaluate_target_set(ctx, "shaanxi_2022", "2022-12"), tset, {"sn22_new_gi": "alternative"})
    assert row(chosen, "sn22_new_gi")["reading_note"] == "当前按另一读法评估（管理员选择）。"


def test_a_direction_the_document_does_not_set_is_not_shown_as_its_target(ctx):
    tset = ctx.config.target_set("shanxi_14th_plan")
    frame = annotate(evaluate_target_set(ctx, "shanxi_14th_plan", "2025-12"), tset, {})
    per_10k = row(frame, "sx14_invention_per_10k")
    assert per_10k["target_text"] == "方向性跟踪（文件未设目标）：与2020年12月的基数 4.4件/万人 比较"
    assert "稳步提升" not in " ".join(frame["target_text"][frame["derived"].notna()])
    assert "不是规划设定的目标" in per_10k["derived"]
    assert row(frame, "sx14_protection_satisfaction")["target_text"] == "稳步提升（2025年底）"
