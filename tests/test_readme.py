"""The README documents what a deployment can set and every command of the CLI: a setting or a
command added without its documentation fails here."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from cli.main import build_parser
from monitor import settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
NAME = re.compile(r"\bIPMON_[A-Z0-9_]+")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(" ".join((*prefix, name)))
                found += _commands(sub, (*prefix, name))
    return found


def _python_sources() -> list[Path]:
    skip = {".venv", ".git", "node_modules"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


def test_the_settings_section_is_the_table_of_every_variable_settings_reads():
    expected = [f"| `{v.name}` | {v.default} | {v.meaning} |" for v in settings.VARIABLES]
    rows = [line for line in _section("Settings").splitlines() if line.startswith("| `IPMON_")]
    assert rows == expected, "README「## Settings」 must show monitor/settings.py VARIABLES row by row, in order"


def test_every_ipmon_name_in_the_python_sources_is_a_setting():
    known = {v.name for v in settings.VARIABLES}
    unknown = {}
    for path in _python_sources():
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            # a name ending in "_" is a family (IPMON_SMTP_*): some setting must belong to it
            if name not in known and not (name.endswith("_") and any(k.startswith(name) for k in known)):
                unknown.setdefault(name, str(path.relative_to(ROOT)))
    assert not unknown, f"IPMON_ names that monitor/settings.py does not read: {unknown}"


def test_the_python_sources_read_ipmon_variables_only_through_settings():
    # os.environ.get("IPMON_…"), os.getenv(…), os.environ["IPMON_…"], but not an assignment to it (bench/)
    reads = re.compile(r"""(?:environ\.get\(|getenv\(|environ\[)\s*["']IPMON_\w*["'](?!\]\s*=[^=])""")
    offenders = [str(p.relative_to(ROOT)) for p in _python_sources()
                 if p.name != "settings.py" and "tests" not in p.relative_to(ROOT).parts
                 and reads.search(p.read_text(encoding="utf-8"))]
    assert not offenders


def test_every_cli_command_and_subcommand_is_shown_in_the_readme():
    commands = _commands(build_parser())
    assert {"load", "users add", "mappings remove"} <= set(commands)  # the parser was walked
    missing = [c for c in commands
               if not re.search(rf"\bpython -m etl (?:--db \S+ )?{re.escape(c)}(?![\w-])", README)]
    assert not missing, f"commands of python -m etl that README.md never shows: {missing}"
