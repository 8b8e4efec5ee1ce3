"""Wiring: the validated config, the registries and the store, opened together once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from monitor.config import Config, load_config
from monitor.demo import generate_demo
from monitor.periods import last_full_month
from monitor.population import Population, load_population
from monitor.regions import RegionRegistry, load_regions
from monitor.store import Store


@dataclass(frozen=True)
class Context:
    config: Config
    regions: RegionRegistry
    population: Population
    store: Store


def open_context(config_path: Path | str | None = None, store_path: Path | str | None = None) -> Context:
    """Load and cross-check the config, open (create, migrate) the store and mirror the reference data."""
    regions = load_regions()
    population = load_population()
    config = load_config(config_path, regions=regions)
    store = Store(store_path)
    store.migrate()
    store.sync_reference(config, regions, population)
    return Context(config, regions, population, store)


def load_demo_data(ctx: Context, *, end: str | None = None, today: date | None = None) -> int:
    """Generate the demo observations and load them as two batches: published (with the counts
    estimated from a published ratio, origin ``estimated``) and demo.
    Returns the number of rows written."""
    from etl.loader import LoadPlan, commit_plan, diff_against_store, file_digest

    frame = generate_demo(ctx.config, ctx.regions, ctx.population, end or last_full_month(today))
    written = 0
    for origin, kept in (("published", ("published", "estimated")), ("demo", ("demo",))):
        part = frame[frame["origin"].isin(kept)].copy()
        part["line"] = range(1, len(part) + 1)
        digest = file_digest(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        plan = LoadPlan(f"示例数据生成器（{origin}）", digest, part, [])
        plan.diff = diff_against_store(ctx.store, part)
        commit_plan(ctx.store, plan, origin=origin, loaded_by="demo-generator",
                    note="公布值直接引用" if origin == "published" else "示例数据（虚构，仅供演示）")
        written += len(part)
    from monitor.milestones import load_demo_updates

    load_demo_updates(ctx.store, ctx.config)
    return written


def ensure_demo_data(ctx: Context, *, today: date | None = None) -> int:
    """Load the demo data when the store holds no observations at all; returns rows written."""
    if ctx.store.observation_count() > 0:
        return 0
    return load_demo_data(ctx, today=today)
