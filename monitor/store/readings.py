"""Which reading of a disputed clause the product evaluates (``interpretation`` in indicators.yaml).

The registry names the reading each target follows and, where the data allows, how the
alternative is evaluated (``interpretation.switch``). An administrator chooses per target on 总览;
the choice is kept in the store (``store_meta`` rows ``reading:<target id>``), so the pages, the
CLI and the briefing evaluate the same reading, and a choice is a write that bumps the store's
data_version (cached evaluations are redone). Evaluation itself is untouched: the chosen
alternative is an ordinary target (config.alternative_target) put in the written one's place.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from monitor.domain.config import Config
from monitor.errors import MonitorError
from monitor.store.database import Store

Reading = Literal["document", "alternative"]
READING_LABELS = {"document": "按登记的读法", "alternative": "按另一读法"}
_PREFIX = "reading:"


class ReadingError(MonitorError):
    """A reading could not be chosen."""


def switchable_targets(config: Config) -> dict[str, object]:
    """Targets whose alternative reading the data can show, by id."""
    return {t.id: t for s in config.target_sets for t in s.targets
            if t.interpretation is not None and t.interpretation.switch is not None}


def read_readings(store: Store) -> dict[str, Reading]:
    """The readings chosen so far (targets not listed follow the registry's reading)."""
    frame = store.query("SELECT key, value FROM store_meta WHERE key LIKE ?", [_PREFIX + "%"])
    return {key.removeprefix(_PREFIX): value for key, value in zip(frame["key"], frame["value"])
            if value in READING_LABELS}


def set_reading(store: Store, config: Config, target_id: str, reading: str) -> None:
    """Choose the reading of one target; refuses targets without a switchable interpretation."""
    if target_id not in switchable_targets(config):
        raise ReadingError(f"目标「{target_id}」没有可切换的读法（indicators.yaml 中无 interpretation.switch）")
    if reading not in READING_LABELS:
        raise ReadingError(f"读法「{reading}」无效，应为 document 或 alternative")
    with store.transaction() as con:
        con.execute("DELETE FROM store_meta WHERE key = ?", [_PREFIX + target_id])
        if reading == "alternative":
            con.execute("INSERT INTO store_meta VALUES (?, ?)", [_PREFIX + target_id, reading])


def with_readings(ctx, choices: dict[str, str] | None = None):
    """The context whose config evaluates the chosen readings (the same context when none is
    chosen); ``choices`` as read_readings returned them, read from the store when not given."""
    choices = read_readings(ctx.store) if choices is None else choices
    if not choices:
        return ctx
    return replace(ctx, config=_configured(ctx.config, tuple(sorted(choices.items()))))


_CACHE: dict[tuple[int, tuple], Config] = {}


def _configured(config: Config, choices: tuple) -> Config:
    # Pages ask on every cache miss; a config is rebuilt only when the choices change.
    key = (id(config), choices)
    if key not in _CACHE:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = config.with_readings(dict(choices))
    return _CACHE[key]
