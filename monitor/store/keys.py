"""Observation keys (region_code, indicator_id, month) as integers, and the stored values of keys.

The checks and the diff look rows up by key among hundreds of thousands of rows: the previous
month of every row, the months before a year-to-date value, the stored value a row replaces.
Joining three columns of strings each time costs more than everything else a plan does, so a
key is coded once as an int64 (each part's text numbered in a vocabulary shared by one plan)
and every lookup is a join of integers. The store is read once per plan, for every key any
check or the diff needs: each read scans the observations table, millions of rows nationally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa

from monitor.domain.texts import distinct

KEY = ["region_code", "indicator_id", "month"]
REGION, INDICATOR, MONTH = range(3)
_BITS = 21  # per part: two million regions, indicators or months in one plan
_MASK = (1 << _BITS) - 1


class KeyCodes:
    """The vocabulary of one plan: a number for every region code, indicator id and month seen."""

    def __init__(self) -> None:
        self._texts: tuple[list[str], list[str], list[str]] = ([], [], [])
        self._numbers: tuple[dict[str, int], dict[str, int], dict[str, int]] = ({}, {}, {})
        self._indexes: dict[int, tuple[np.ndarray, pd.Index]] = {}

    def index(self, codes: np.ndarray) -> pd.Index:
        """``codes`` as a pandas Index, made once per array in this plan: its hash table (and
        whether it is unique) then serve every look-up among the same rows (``first_rows``).
        The arrays of codes a plan keeps are never changed in place."""
        found = self._indexes.get(id(codes))
        if found is None or found[0] is not codes:
            found = self._indexes[id(codes)] = (codes, pd.Index(codes))
        return found[1]

    def number(self, part: int, text: str) -> int:
        return int(self.numbers(part, [text])[0])

    def numbers(self, part: int, texts: Sequence[str]) -> np.ndarray:
        """The number of each text of a key part, numbering texts not seen before."""
        known, numbers = self._texts[part], self._numbers[part]
        out = np.empty(len(texts), dtype="int64")
        for k, text in enumerate(texts):
            number = numbers.get(text)
            if number is None:
                number = numbers[text] = len(known)
                if number > _MASK:
                    raise OverflowError(f"more than {_MASK + 1} distinct values in one key part")
                known.append(text)
            out[k] = number
        return out

    def encode(self, region: pd.Series, indicator: pd.Series, month: pd.Series) -> np.ndarray:
        """The codes of rows given as three text columns."""
        parts = []
        for part, column in enumerate((region, indicator, month)):
            found = distinct(column)
            parts.append(self.numbers(part, found.texts)[found.codes])
        return combine(*parts)

    def encode_frame(self, frame: pd.DataFrame) -> np.ndarray:
        return self.encode(frame["region_code"], frame["indicator_id"], frame["month"])

    def texts(self, part: int, numbers: np.ndarray) -> pa.Array:
        return pa.array(self._texts[part], pa.string(), from_pandas=True).take(pa.array(numbers))

    def with_part(self, codes: np.ndarray, part: int, fn: Callable[[str], str]) -> np.ndarray:
        """The codes with one part replaced by ``fn`` of its text (the month before, a numerator):
        ``fn`` is called once per distinct text."""
        parts = list(split(codes))
        which, distinct_numbers = pd.factorize(parts[part])
        replaced = self.numbers(part, [fn(self._texts[part][k]) for k in distinct_numbers])
        parts[part] = replaced[which] if len(replaced) else parts[part]
        return combine(*parts)

    def text_of(self, part: int, number: int) -> str:
        return self._texts[part][number]

    def table(self, codes: np.ndarray) -> pa.Table:
        """Codes (distinct) as a table: region_code, indicator_id, month (text) and code."""
        region, indicator, month = split(codes)
        return pa.table({"region_code": self.texts(REGION, region), "indicator_id": self.texts(INDICATOR, indicator),
                         "month": self.texts(MONTH, month), "code": codes})


def combine(region: np.ndarray, indicator: np.ndarray, month: np.ndarray) -> np.ndarray:
    return (region << (2 * _BITS)) | (indicator << _BITS) | month


def split(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return codes >> (2 * _BITS), (codes >> _BITS) & _MASK, codes & _MASK


def first_rows(codes: np.ndarray | pd.Index, wanted: np.ndarray) -> np.ndarray:
    """For each wanted code, the position of the first row with that code (-1: none). ``codes``
    as an Index (``KeyCodes.index``, ``StoredValues.index``): its hash table, made once."""
    index = codes if isinstance(codes, pd.Index) else pd.Index(codes)
    positions = np.arange(len(index))
    if not index.is_unique:
        first = ~index.duplicated(keep="first")
        index, positions = index[first], positions[first]
    found = index.get_indexer(wanted)
    return np.where(found >= 0, positions[found], -1) if len(positions) else np.full(len(wanted), -1)


def look_up(wanted: np.ndarray, *sources: tuple[np.ndarray | pd.Index, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The value of each wanted code in the first source (codes, values) that has it, the first
    such row of that source (NaN where none has it), and whether one had it. A source's codes
    may be an Index (see ``first_rows``)."""
    out = np.full(len(wanted), np.nan)
    missing = np.ones(len(wanted), dtype=bool)
    for codes, values in sources:
        if not missing.any():
            break
        at = first_rows(codes, wanted[missing])
        hit = at >= 0
        rows = np.flatnonzero(missing)[hit]
        out[rows] = values[at[hit]]
        missing[rows] = False
    return out, ~missing


@dataclass
class StoredValues:
    """The stored observations of the keys a plan looks up: code, value, origin."""

    codes: np.ndarray
    values: np.ndarray
    origins: np.ndarray  # objects, as DuckDB gives text to pandas

    @cached_property
    def index(self) -> pd.Index:
        """The codes as an Index, made once for every look-up among them (``first_rows``)."""
        return pd.Index(self.codes)

    @classmethod
    def read(cls, store_or_con, keys: KeyCodes, wanted: np.ndarray) -> StoredValues:
        """One join of the wanted keys with the observations table. ``store_or_con``: a Store,
        or an open connection (inside a transaction, the values as that transaction sees them)."""
        from monitor.store.database import Store

        if not len(wanted):
            return cls(np.empty(0, dtype="int64"), np.empty(0), np.empty(0, dtype=object))

        table = keys.table(wanted)
        # the ranges of the wanted keys, as filters the scan of the observations table applies
        # itself (a plain join reads every row of it)
        ranges = []
        for part, numbers in enumerate(split(wanted)):
            texts = [t for t in (keys.text_of(part, n) for n in pd.unique(numbers)) if isinstance(t, str)]
            if not texts:  # a key part that is never text (None) matches nothing
                return cls(np.empty(0, dtype="int64"), np.empty(0), np.empty(0, dtype=object))
            ranges += [min(texts), max(texts)]

        def fetch(con) -> pa.Table:
            con.register("wanted_keys", table)
            try:
                return con.sql(
                    "SELECT w.code, CAST(o.value AS DOUBLE PRECISION) AS value, o.origin FROM wanted_keys w "
                    "JOIN observations o USING (region_code, indicator_id, month) "
                    "WHERE o.region_code BETWEEN ? AND ? AND o.indicator_id BETWEEN ? AND ? "
                    "AND o.month BETWEEN ? AND ?", params=ranges).to_arrow_table()
            finally:
                con.unregister("wanted_keys")

        if isinstance(store_or_con, Store):
            with store_or_con.connect() as con:
                found = fetch(con)
        else:
            found = fetch(store_or_con)
        return cls(found["code"].to_numpy().astype("int64"), found["value"].to_numpy().astype("float64"),
                   found["origin"].to_numpy(zero_copy_only=False).astype(object))
