"""Wiring: the validated config, the registries and the store, opened together once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from monitor.accounts.access import accounts_timeout
from monitor.accounts.audit import AuditLog
from monitor.demo.generator import generate_demo
from monitor.domain.config import Config, load_config
from monitor.domain.periods import last_full_month
from monitor.domain.population import Population, load_population
from monitor.domain.regions import RegionRegistry, load_regions
from monitor.store import outbox
from monitor.store.database import Store
from monitor.store.outbox import AuditEntry


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
    # audit records a process committed and could not move to the trail (killed, or the trail
    # busy) are moved now; quietly, with a short wait: they stay in the outbox until a later open
    outbox.drain_quietly(store, AuditLog(timeout=min(2.0, accounts_timeout())))
    return Context(config, regions, population, store)


def load_demo_data(ctx: Context, *, end: str | None = None, today: date | None = None,
                   audit: AuditEntry | None = None) -> int:
    """Generate the demo observations and load them as two batches: published (with the counts
    estimated from a published ratio, origin ``estimated``) and demo.
    Returns the number of rows written. ``audit``: each batch's audit record (monitor/store/outbox.py)."""
    from etl.loader import LoadPlan, commit_plan, diff_against_store, file_digest

    frame = generate_demo(ctx.config, ctx.regions, ctx.population, end or last_full_month(today))
    written = 0
    for origin, kept in (("published", ("published", "estimated")), ("demo", ("demo",))):
        part = frame[frame["origin"].isin(kept)].copy()
        part["line"] = range(1, len(part) + 1)
        digest = file_digest(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        plan = LoadPlan(f"示例数据生成器（{origin}）", digest, part, [])
        plan.diff = diff_against_store(ctx.store, part)
        commit_plan(ctx.store, plan, origin=origin, loaded_by="demo-generator", audit=audit,
                    note="公布值直接引用" if origin == "published" else "示例数据（虚构，仅供演示）")
        written += len(part)
    from monitor.store.milestones import load_demo_updates

    load_demo_updates(ctx.store, ctx.config)
    return written


def ensure_demo_data(ctx: Context, *, today: date | None = None, audit: AuditEntry | None = None) -> int:
    """Load the demo data when the store holds no observations at all; returns rows written."""
    if ctx.store.observation_count() > 0:
        return 0
    return load_demo_data(ctx, today=today, audit=audit)
