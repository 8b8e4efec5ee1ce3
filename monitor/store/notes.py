"""Notes with values: comments on a stored value and the follow-up flag 跟踪核实.

Any value, by its key (region, indicator, month; a flow's 1–N月累计 series under ``<id>@ytd``),
can carry comments and a flag that says "someone should verify this". The door decides who may
(pages/indicator.py, cli/notes.py): uploaders in their scope and reviewers comment and raise the
flag, reviewers and admins clear it. Here every write re-checks the writer's region scope
(``Writer.check_scope``) and commits its audit record with it (monitor/store/outbox.py).

Notes live in ``value_notes`` (monitor/store/sql/009_value_notes.sql), one row per comment, raising
or clearing, never edited in place; the flag of a key is open when its last row about the flag
raised it. A note changes no value, so it is not a write of observations (monitor/store/writer.py).

The reason given when an upload's warnings were accepted (the batch's note, etl/preview.py
``warnings_note``) is shown as a note of every value that batch wrote: ``batch_notes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from monitor.domain import clock
from monitor.domain.periods import format_month_cn, parse_month
from monitor.domain.yeartodate import YTD_SUFFIX
from monitor.errors import NoteError, PeriodError
from monitor.store.database import Store, key_filter
from monitor.store.writer import Writer

FLAG_LABEL = "跟踪核实"
FLAG_STATES = {"open": "待核实", "cleared": "已核实"}
TEXT_MAX_CHARS = 500
NOTE_COLUMNS = ["id", "region_code", "indicator_id", "month", "text", "flag", "author", "written_at"]


@dataclass(frozen=True)
class ValueKey:
    """A stored value's key: region code, indicator id as stored, month (YYYY-MM)."""

    region_code: str
    indicator_id: str
    month: str


def _clean(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    if len(text) > TEXT_MAX_CHARS:
        raise NoteError(f"备注最多 {TEXT_MAX_CHARS} 个字，现有 {len(text)} 个字；请精简后再提交")
    return text or None


def _key_label(con: duckdb.DuckDBPyConnection, key: ValueKey) -> str:
    """「晋城市 · 发明专利授权量 · 2026年10月」, for the audit record; refuses a key the store does
    not know (region or indicator not in its reference tables)."""
    region = con.execute("SELECT name FROM regions WHERE code = ?", [key.region_code]).fetchone()
    base = key.indicator_id.removesuffix(YTD_SUFFIX)
    indicator = con.execute("SELECT name FROM indicators WHERE id = ?", [base]).fetchone()
    if region is None or indicator is None:
        raise NoteError(f"没有这个数值（地区 {key.region_code}、指标 {key.indicator_id}）；请从指标详情页选择数值")
    name = indicator[0] + ("（1—N月累计）" if key.indicator_id.endswith(YTD_SUFFIX) else "")
    return f"{region[0]} · {name} · {format_month_cn(key.month)}"


def _flag_open(con: duckdb.DuckDBPyConnection, key: ValueKey) -> bool:
    row = con.execute("SELECT flag FROM value_notes WHERE region_code = ? AND indicator_id = ? AND month = ? "
                      "AND flag IS NOT NULL ORDER BY id DESC LIMIT 1",
                      [key.region_code, key.indicator_id, key.month]).fetchone()
    return row is not None and row[0] == "raised"


def _write(store: Store, key: ValueKey, *, text: str | None, flag: str | None, by: Writer, action: str,
           at: datetime | None) -> int:
    try:
        key = ValueKey(key.region_code, key.indicator_id, parse_month(key.month))
    except PeriodError as e:
        raise NoteError(f"月份「{key.month}」无法识别，请写作 YYYY-MM（例如 2026-10）") from e
    by.check_scope([key.region_code], "备注的数值")
    now = at or clock.now()
    with store.transaction() as con:
        label = _key_label(con, key)
        is_open = _flag_open(con, key)
        if flag == "raised" and is_open:
            raise NoteError(f"{label} 已在{FLAG_LABEL}中；如需补充，请只写备注")
        if flag == "cleared" and not is_open:
            raise NoteError(f"{label} 没有待解除的{FLAG_LABEL}标记")
        note_id = con.execute(
            "INSERT INTO value_notes (region_code, indicator_id, month, text, flag, author, written_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [key.region_code, key.indicator_id, key.month, text, flag, by.name, now]).fetchone()[0]
        by.stage(con, action, at=now, target=label, detail=text)
    return int(note_id)


def add_note(store: Store, key: ValueKey, text: str | None, *, by: Writer, raise_flag: bool = False,
             at: datetime | None = None) -> int:
    """A comment on the value at ``key``, and with ``raise_flag`` the flag 跟踪核实 (refused when it is
    already open). A comment alone needs text; raising the flag may go without. Returns the note's id."""
    text = _clean(text)
    if text is None and not raise_flag:
        raise NoteError("备注不能为空；请写明需要说明或核实的内容")
    return _write(store, key, text=text, flag="raised" if raise_flag else None, by=by,
                  action="value_flag" if raise_flag else "value_note", at=at)


def clear_flag(store: Store, key: ValueKey, text: str | None = None, *, by: Writer,
               at: datetime | None = None) -> int:
    """Clear the open flag 跟踪核实 of ``key`` (refused when none is open), with an optional comment
    (e.g. what the verification found). Returns the note's id."""
    return _write(store, key, text=_clean(text), flag="cleared", by=by, action="value_flag_clear", at=at)


def note_history(store: Store, region_codes: Iterable[str] | None = None,
                 indicator_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Every note on the values asked for, oldest first: ``NOTE_COLUMNS``."""
    where, params = key_filter(region_codes, indicator_ids)
    return store.query(f"SELECT {', '.join(NOTE_COLUMNS)} FROM value_notes WHERE 1 = 1{where} ORDER BY id", params)


def notes_by_value(store: Store, region_codes: Iterable[str] | None = None,
                   indicator_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per key with a note: region_code, indicator_id, month, ``comments`` (each comment as
    「作者（日期）：文字」, oldest first, joined by 「；」) and ``flag`` ('open', 'cleared' or None)."""
    history = note_history(store, region_codes, indicator_ids)
    columns = ["region_code", "indicator_id", "month", "comments", "flag"]
    if history.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for key, notes in history.groupby(["region_code", "indicator_id", "month"], sort=True):
        said = [f"{a}（{pd.Timestamp(w):%Y-%m-%d}）：{t}"
                for a, w, t in zip(notes["author"], notes["written_at"], notes["text"]) if isinstance(t, str)]
        flags = notes["flag"].dropna()
        flag = None if flags.empty else ("open" if flags.iloc[-1] == "raised" else "cleared")
        rows.append((*key, "；".join(said), flag))
    return pd.DataFrame(rows, columns=columns)


def open_flags(store: Store, region_codes: Iterable[str] | None = None,
               indicator_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The keys whose flag 跟踪核实 is open, oldest raising first: region_code, indicator_id, month,
    raised_by, raised_at, text (what the raising said), value (the value stored now, or missing)."""
    where, params = key_filter(region_codes, indicator_ids, "n.")
    return store.query(
        f"""
        WITH last_flag AS (
            SELECT * FROM value_notes n WHERE flag IS NOT NULL{where}
            QUALIFY row_number() OVER (PARTITION BY region_code, indicator_id, month ORDER BY id DESC) = 1)
        SELECT f.region_code, f.indicator_id, f.month, f.author AS raised_by, f.written_at AS raised_at, f.text,
               o.value
        FROM last_flag f LEFT JOIN observations o USING (region_code, indicator_id, month)
        WHERE f.flag = 'raised' ORDER BY f.id
        """, params)


def batch_notes(store: Store, region_codes: Iterable[str] | None = None,
                indicator_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The reason a batch's warnings were accepted, as a note of each value of the official view that
    batch wrote: region_code, indicator_id, month, note (the batch's note, 「接受 N 条警告：…」)."""
    where, params = key_filter(region_codes, indicator_ids, "o.")
    return store.query(
        "SELECT o.region_code, o.indicator_id, o.month, b.note FROM official_observations o "
        "JOIN load_batches b ON b.id = o.batch_id "
        f"WHERE b.rows_warnings > 0 AND b.note IS NOT NULL{where} ORDER BY o.region_code, o.indicator_id, o.month",
        params)
