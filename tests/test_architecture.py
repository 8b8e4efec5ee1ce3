"""The rules of the house, checked on the source itself (docs/decisions.md says why each holds).

Each rule reads every module's imports (including imports inside functions) or its SQL text; a
breach names the file and what it does, so the fix is obvious.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("monitor", "etl", "cli", "bench", "pages", "devtools", "tests")
ROOMS = ("domain", "accounts", "store", "evaluation", "views", "output", "demo")
# what each room of the core may import (besides itself, monitor.errors, monitor.settings and the
# package's constants in monitor/__init__.py): lower layers only
ROOM_MAY_IMPORT = {
    "domain": set(),
    "accounts": {"domain"},
    "store": {"domain", "accounts"},
    "evaluation": {"domain", "store"},
    "views": {"domain", "accounts", "store", "evaluation"},
    "output": {"domain", "accounts", "store", "evaluation", "views"},
    "demo": {"domain", "store", "accounts"},
}
# the tables only the writer writes (observations and their log; monitor/store/writer.py)
WRITTEN_ONLY_BY_WRITER = ("observations", "observation_log", "observation_confirmations")
WRITER = ROOT / "monitor" / "store" / "writer.py"
# a PostgreSQL store's read mirror writes its own in-memory copy, never the store (docs/decisions.md D19)
MIRROR = ROOT / "monitor" / "store" / "mirror.py"


def python_files(*tops: str) -> list[Path]:
    files = []
    for top in tops:
        path = ROOT / top
        files += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return [f for f in files if ".venv" not in f.parts]


@cache
def imports_of(path: Path) -> tuple[str, ...]:
    """Every module ``path`` imports, absolute names, at any depth of the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return tuple(found)


def importers(files: list[Path], *prefixes: str) -> list[str]:
    return [f"{f.relative_to(ROOT)} imports {name}" for f in files for name in imports_of(f)
            if any(name == p or name.startswith(p + ".") for p in prefixes)]


def room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "monitor" and parts[1] in ROOMS else None


def test_nothing_outside_the_dashboard_and_its_pages_imports_streamlit():
    # the harnesses that drive the app (tests/, bench's page timings) use streamlit.testing
    product = python_files("monitor", "etl", "cli", "devtools")
    assert importers(product, "streamlit") == []


def test_the_core_never_imports_the_etl_the_cli_the_pages_or_the_benchmark():
    assert importers(python_files("monitor"), "etl", "cli", "bench", "pages", "tests", "dashboard") == []


def test_the_etl_never_imports_the_cli_the_pages_or_the_benchmark():
    files = [f for f in python_files("etl") if f.name != "__main__.py"]  # `python -m etl` starts the CLI
    assert importers(files, "cli", "bench", "pages", "tests", "dashboard") == []


def test_tests_never_import_the_benchmark():
    assert importers(python_files("tests"), "bench") == []


def test_each_room_of_the_core_imports_only_rooms_below_it():
    breaches = []
    for room, allowed in ROOM_MAY_IMPORT.items():
        for f in python_files(f"monitor/{room}"):
            for name in imports_of(f):
                other = room_of(name)
                if other is not None and other != room and other not in allowed:
                    breaches.append(f"{f.relative_to(ROOT)} ({room}) imports {name} ({other})")
    assert breaches == []


def test_the_rooms_named_in_the_rule_are_the_rooms_there_are():
    rooms = {p.name for p in (ROOT / "monitor").iterdir() if (p / "__init__.py").exists()}
    assert rooms == set(ROOMS)


_WRITE = re.compile(r"\b(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE|TRUNCATE(?:\s+TABLE)?|COPY)\s+("
                    + "|".join(WRITTEN_ONLY_BY_WRITER) + r")\b", re.IGNORECASE)


def sql_writes(path: Path) -> list[str]:
    """The observation tables a file's string constants write to (SQL is only ever in strings)."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            hits += [m.group(0) for m in _WRITE.finditer(node.value)]
    return hits


def test_only_the_writer_writes_observations_and_their_log():
    writers = {f"{f.relative_to(ROOT)}: {hit}" for f in python_files("monitor", "etl", "cli", "bench", "pages",
                                                                       "dashboard.py")
               if f not in (WRITER, MIRROR) for hit in sql_writes(f)}
    assert writers == set()


def test_the_writer_rule_sees_a_write_when_there_is_one():
    # the rule above must be able to fail: the writer itself writes each table
    written = " ".join(sql_writes(WRITER)).lower()
    assert all(table in written for table in WRITTEN_ONLY_BY_WRITER)


def test_every_table_on_a_page_draws_a_missing_value_as_a_dash():
    # pages/_tables.py show_table: Streamlit's grid would draw a missing cell as the word None
    direct = [f"{f.relative_to(ROOT)}" for f in python_files("pages", "dashboard.py")
              if f.name != "_tables.py" and "st.dataframe(" in f.read_text(encoding="utf-8")]
    assert direct == []


def test_every_multiselect_on_a_page_says_in_chinese_what_choosing_nothing_means():
    # Streamlit's own placeholder is English (「Choose options」) and shows whenever nothing is chosen
    missing = []
    for f in python_files("pages", "dashboard.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "multiselect"
                    and not any(k.arg == "placeholder" for k in node.keywords)):
                missing.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert missing == []
