"""Column mappings: a column header the loader does not recognise, mapped once by a person to an
indicator (and the unit its values are written in), and used for every later file of the same
layout without asking again.

What "the same layout" is (``layout_signature``): the set of the header row's non-empty cells,
each folded as indicator names are (``normalise_name``: no spaces or brackets, half-width, lower
case), sorted and hashed. So:
- the title (「2026年10月……」), the file name and the sheet name are not part of it: they change
  every month (sheets are often named 「10月」) while the columns stay;
- the order of the columns is not part of it: a column moved keeps its meaning;
- a header's unit is (「质押融资（万元）」 is another column than 「质押融资（元）」), and so is every
  other column: a file with a column more or less is another layout and is asked about again,
  rather than guessing that a header means in a new table what it meant in the old one.

Who a mapping applies to (``owner``): one saved by an uploader applies to that uploader's own
uploads; one saved by an administrator, or on the command line, to everyone's ('' owner). An
uploader's own mapping of a column wins over everyone's. Not everyone's at once, because two
offices may head different figures alike, and one clerk's slip must not change what another
office's file loads; an administrator can widen a mapping to everyone on 「列对应关系」.

Mappings live in the accounts file beside the accounts and the audit trail (monitor/accounts/access.py:
a long load holding the store must not block saving one, and a demo reset must not erase them);
every change is audited (mapping_add, mapping_edit, mapping_remove).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from etl.units import UnitError, conversion_factor, split_header, units_convertible_to
from monitor.accounts.access import Location, connect, exists, location
from monitor.accounts.audit import AuditLog
from monitor.domain.clock import now as product_now
from monitor.domain.config import Config, normalise_name
from monitor.errors import MappingError, UnknownColumnsError

EVERYONE = ""
SKIP_LABEL = "不是指标（不导入）"


def folded_headers(cells: Iterable[str]) -> list[str]:
    """A header row's non-empty cells, folded, each once, sorted: what its layout is made of."""
    return sorted({normalise_name(c) for c in cells if str(c).strip()} - {""})


def layout_signature(cells: Iterable[str]) -> str:
    """The layout of a header row (see the module's docstring): 16 hex digits."""
    return hashlib.sha256("\x1f".join(folded_headers(cells)).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ColumnMapping:
    id: int
    layout: str
    headers: tuple[str, ...]  # the header row as written, for people to recognise the layout
    header: str  # the column's header, folded
    label: str  # the column's header as written
    indicator_id: str | None  # None: not an indicator, skipped without a warning
    unit: str | None  # the unit the column's values are written in
    owner: str  # EVERYONE, or the account whose uploads it applies to
    created_by: str
    created_at: str
    updated_by: str
    updated_at: str

    def describe(self, config: Config) -> str:
        """「『质押融资』→ 指标「知识产权质押融资额」（万元）」, or 「『序号2』不是指标（不导入）」."""
        if self.indicator_id is None:
            return f"「{self.label}」{SKIP_LABEL}"
        name = config.indicator(self.indicator_id).name if self.indicator_id in config.indicator_by_id \
            else self.indicator_id
        return f"「{self.label}」→ 指标「{name}」（{self.unit}）"


_COLUMNS = ("id, layout, headers, header, label, indicator_id, unit, owner, created_by, created_at, updated_by, "
            "updated_at")


def _mapping(row) -> ColumnMapping:
    values = list(row)
    values[2] = tuple(json.loads(values[2]))
    return ColumnMapping(*values)


class SavedMappings:
    """The mappings that apply to one person's uploads, looked up by header row."""

    def __init__(self, mappings: Iterable[ColumnMapping]):
        by_layout: dict[str, dict[str, ColumnMapping]] = {}
        # everyone's first, so a person's own mapping of the same column replaces it
        for m in sorted(mappings, key=lambda m: m.owner != EVERYONE):
            by_layout.setdefault(m.layout, {})[m.header] = m
        self._by_layout = by_layout
        # changes when any applicable mapping does: a page caches its plan on it
        self.version = tuple(sorted((m.id, m.updated_at) for ms in by_layout.values() for m in ms.values()))

    def __bool__(self) -> bool:
        return bool(self._by_layout)

    def for_row(self, cells: list[str]) -> dict[str, ColumnMapping]:
        """The mappings of this header row's layout: folded header → mapping."""
        if not self._by_layout:
            return {}
        return self._by_layout.get(layout_signature(cells), {})


def check_mapping(config: Config, headers: list[str], label: str, indicator: str | None,
                  unit: str | None) -> tuple[str | None, str | None]:
    """The indicator id and unit a mapping of column ``label`` would keep, or MappingError saying
    what to fix. ``indicator``: an id, name or alias; None maps the column to "not an indicator".
    ``unit`` None: the unit in the header's brackets, else the indicator's own."""
    if not str(label).strip() or normalise_name(label) not in folded_headers(headers):
        raise MappingError(f"列「{label}」不在表头（{'、'.join(h for h in headers if h)}）中")
    if indicator is None:
        return None, None
    indicator_id = config.resolve_indicator(indicator)
    if indicator_id is None:
        raise MappingError(f"「{indicator}」不是已知指标；请用 indicators.yaml 中的指标代码、名称或别名")
    ind = config.indicator(indicator_id)
    if ind.kind == "derived":
        raise MappingError(f"「{ind.name}」是派生指标（由其他指标计算），不能从文件导入；请选择它的分项指标")
    unit = (unit or "").strip() or split_header(label)[1] or ind.unit
    try:
        conversion_factor(unit, ind.unit)
    except UnitError:
        raise MappingError(f"单位「{unit}」无法换算为「{ind.name}」的单位「{ind.unit}」；"
                           f"可用单位：{'、'.join(units_convertible_to(ind.unit))}") from None
    return indicator_id, unit


class MappingStore:
    """The column mappings, in the accounts file (monitor/accounts/access.py)."""

    def __init__(self, path: Location | None = None, *, clock: Callable[[], datetime] = product_now):
        self.path = location(path)  # a SQLite file or a postgresql:// URL
        self.clock = clock

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.path, clock=self.clock)

    def _now(self) -> str:
        return self.clock().isoformat(sep=" ", timespec="seconds")

    # ------------------------------------------------------------------ reading
    def list(self, *, owner: str | None = None) -> list[ColumnMapping]:
        """Every mapping (``owner`` None), or those of one owner (EVERYONE: everyone's), by id."""
        sql, params = f"SELECT {_COLUMNS} FROM column_mappings", []
        if owner is not None:
            sql += " WHERE owner = ?"
            params.append(owner)
        with connect(self.path, write=False) as con:
            return [_mapping(r) for r in con.execute(sql + " ORDER BY id", params).fetchall()]

    def get(self, mapping_id: int) -> ColumnMapping:
        with connect(self.path, write=False) as con:
            row = con.execute(f"SELECT {_COLUMNS} FROM column_mappings WHERE id = ?", [int(mapping_id)]).fetchone()
        if row is None:
            raise MappingError(f"没有编号为 {mapping_id} 的列对应关系")
        return _mapping(row)

    def for_user(self, username: str | None) -> SavedMappings:
        """The mappings that apply to ``username``'s uploads (None: everyone's only)."""
        if not exists(self.path):  # a dry run on the command line creates no accounts file
            return SavedMappings([])
        owners = [EVERYONE] + ([username] if username else [])
        with connect(self.path, write=False) as con:
            rows = con.execute(f"SELECT {_COLUMNS} FROM column_mappings WHERE owner IN "
                               f"({', '.join('?' for _ in owners)})", owners).fetchall()
        return SavedMappings(_mapping(r) for r in rows)

    # ------------------------------------------------------------------ changing (each one audited)
    def save(self, config: Config, headers: list[str], label: str, indicator: str | None, unit: str | None = None,
             *, owner: str = EVERYONE, actor: str, client: str | None = None, via: str | None = None) -> ColumnMapping:
        """Map column ``label`` of the layout of ``headers`` (see ``check_mapping``); replaces the
        owner's earlier mapping of that column of that layout (audited as an edit)."""
        indicator_id, unit = check_mapping(config, headers, label, indicator, unit)
        label = next(h for h in headers if normalise_name(h) == normalise_name(label))  # as the file heads it
        layout, header, now = layout_signature(headers), normalise_name(label), self._now()
        shown = json.dumps([str(h) for h in headers if str(h).strip()], ensure_ascii=False)
        with connect(self.path) as con:
            old = con.execute(f"SELECT {_COLUMNS} FROM column_mappings WHERE layout = ? AND header = ? AND owner = ?",
                              [layout, header, owner]).fetchone()
            if old is None:
                mapping_id = con.insert(
                    "INSERT INTO column_mappings (layout, headers, header, label, indicator_id, unit, owner, created_by, "
                    "created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [layout, shown, header, str(label).strip(), indicator_id, unit, owner, actor, now, actor, now])
            else:
                mapping_id = old[0]
                con.execute("UPDATE column_mappings SET label = ?, indicator_id = ?, unit = ?, headers = ?, "
                            "updated_by = ?, updated_at = ? WHERE id = ?",
                            [str(label).strip(), indicator_id, unit, shown, actor, now, mapping_id])
        saved = self.get(mapping_id)
        before = None if old is None else _mapping(old)
        self.audit.record("mapping_add" if before is None else "mapping_edit", actor=actor, target=f"列对应关系 {mapping_id}",
                          client=client, via=via, detail=_detail(config, saved, before))
        return saved

    def update(self, config: Config, mapping_id: int, *, indicator: str | None, unit: str | None = None,
               owner: str | None = None, actor: str, client: str | None = None, via: str | None = None) -> ColumnMapping:
        """Change a mapping's indicator and unit, and its owner when given (EVERYONE widens it)."""
        before = self.get(mapping_id)
        indicator_id, unit = check_mapping(config, list(before.headers), before.label, indicator, unit)
        owner = before.owner if owner is None else owner
        with connect(self.path) as con:
            clash = con.execute("SELECT id FROM column_mappings WHERE layout = ? AND header = ? AND owner = ? AND id != ?",
                                [before.layout, before.header, owner, before.id]).fetchone()
            if clash:
                raise MappingError(f"该列已有{_owner_words(owner)}的对应关系（编号 {clash[0]}）；请修改或删除那一条")
            con.execute("UPDATE column_mappings SET indicator_id = ?, unit = ?, owner = ?, updated_by = ?, updated_at = ? "
                        "WHERE id = ?", [indicator_id, unit, owner, actor, self._now(), before.id])
        after = self.get(before.id)
        self.audit.record("mapping_edit", actor=actor, target=f"列对应关系 {before.id}", client=client, via=via,
                          detail=_detail(config, after, before))
        return after

    def remove(self, config: Config, mapping_id: int, *, actor: str, client: str | None = None,
               via: str | None = None) -> ColumnMapping:
        before = self.get(mapping_id)
        with connect(self.path) as con:
            con.execute("DELETE FROM column_mappings WHERE id = ?", [before.id])
        self.audit.record("mapping_remove", actor=actor, target=f"列对应关系 {before.id}", client=client, via=via,
                          detail=f"{before.describe(config)}；{_owner_words(before.owner)}；表头 {'、'.join(before.headers)}")
        return before


def _owner_words(owner: str) -> str:
    return "适用于所有人的上传" if owner == EVERYONE else f"仅用于 {owner} 的上传"


def _detail(config: Config, after: ColumnMapping, before: ColumnMapping | None) -> str:
    now = f"{after.describe(config)}；{_owner_words(after.owner)}"
    if before is None:
        return f"{now}；表头 {'、'.join(after.headers)}"
    return f"原为 {before.describe(config)}（{_owner_words(before.owner)}），改为 {now}"


def owner_label(owner: str) -> str:
    return "所有人" if owner == EVERYONE else owner


def mappings_frame(mappings: list[ColumnMapping], config: Config) -> pd.DataFrame:
    """The mappings as people read them (the 列对应关系 page and ``python -m etl mappings list``)."""
    def indicator(m: ColumnMapping) -> str:
        if m.indicator_id is None:
            return SKIP_LABEL
        if m.indicator_id not in config.indicator_by_id:
            return f"{m.indicator_id}（配置中已没有此指标，该对应关系不再使用）"
        return config.indicator(m.indicator_id).name

    return pd.DataFrame({
        "编号": [m.id for m in mappings], "适用于": [owner_label(m.owner) for m in mappings],
        "列": [m.label for m in mappings], "指标": [indicator(m) for m in mappings],
        "单位": [m.unit or "" for m in mappings], "表头": ["、".join(m.headers) for m in mappings],
        "修改人": [m.updated_by for m in mappings], "修改时间": [m.updated_at for m in mappings],
    })


def file_headers(data: bytes, file_name: str, config: Config, *, sheet: str | None = None) -> list[str]:
    """The header row of a file, as the loader finds it (also when none of its indicator columns
    is known yet): what ``python -m etl mappings add`` maps a column of."""
    from etl.layout import find_layout
    from etl.readers import read_grid

    grid = read_grid(data, file_name, sheet=sheet)
    try:
        layout, _canonical, _indicators = find_layout(grid, config)
    except UnknownColumnsError as e:
        return e.headers
    return layout.headers
