"""Columns of cell texts, worked on once per distinct text.

A long file repeats a few hundred region names, a few dozen indicator names and a few hundred
periods hundreds of thousands of times: resolving, parsing or testing each distinct text once
and spreading the answers back over the rows is what keeps a large upload fast.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa


class Distinct(NamedTuple):
    """The distinct texts of a column, and for every row the position of its text among them."""

    codes: np.ndarray  # int64, one per row
    texts: list[str]

    def spread(self, answers: list[Any], dtype: Any = object, rows: np.ndarray | None = None) -> np.ndarray:
        """One answer per distinct text → one per row (of the ``rows`` chosen by a mask, if given)."""
        count = len(self.codes) if rows is None else int(np.count_nonzero(rows))
        if len(answers) == 1:  # a column with one text (or none a table has): no gather needed
            out = np.empty(count, dtype=dtype)
            out.fill(answers[0])
            return out
        values = _objects(answers) if dtype is object else np.array(answers, dtype=dtype)
        codes = self.codes if rows is None else self.codes[rows]
        return values[codes] if len(values) else np.empty(0, dtype=dtype)

    def text_column(self, answers: list[str], index: pd.Index | None = None, rows: np.ndarray | None = None) -> pd.Series:
        """One text per distinct text → a text column (pandas' Arrow-backed ``str``), one per row
        (of the ``rows`` chosen by a mask, if given; then indexed 0 …)."""
        codes = self.codes if rows is None else self.codes[rows]
        column = pa.array(answers, pa.string()).take(pa.array(codes)) if len(codes) else pa.array([], pa.string())
        return pd.Series(column, index=index, dtype="str")


def distinct(column: pd.Series) -> Distinct:
    """The distinct texts of a column (in the order they first appear) and each row's."""
    if column.dtype == object and len(column):
        # a column of Python objects (a column a table does not have: all ""): factorizing one
        # converts every cell to Arrow first, while testing whether all are the first is cheap
        values = column.to_numpy()
        if (values == values[0]).all():
            return Distinct(np.zeros(len(values), dtype="int64"), [values[0]])
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return Distinct(np.asarray(codes, dtype="int64"), uniques.tolist())  # list(): an Arrow call per text


def distinct_or(column: pd.Series | None, n: int, constant: Any) -> Distinct:
    """``distinct(column)``, or ``n`` rows of ``constant`` where a table has no such column."""
    if column is None:
        return Distinct(np.zeros(n, dtype="int64"), [constant])
    return distinct(column)


def _objects(answers: list[Any]) -> np.ndarray:
    # np.array would turn a list of tuples into a 2-d array: fill an object array element-wise
    out = np.empty(len(answers), dtype=object)
    for i, answer in enumerate(answers):
        out[i] = answer
    return out
