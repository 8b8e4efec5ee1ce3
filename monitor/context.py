"""Wiring: the validated config, the registries and the store, opened together once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from monitor.accounts.access import accounts_timeout
from monitor.accounts.audit import AuditLog
from monitor.demo.generator import generate_demo
from monitor.domain.config import Config, load_config
from monitor.domain.periods import last_full_month
from monitor.domain.population import Population, load_population
from monitor.domain.regions import RegionRegistry, load_regions
from monitor.store import outbox, writer
from monitor.store.database import Store
from monitor.store.milestones import load_demo_updates


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


# who writes the demo when no door says so (a test's or a benchmark's store): not audited
DEMO_GENERATOR = writer.Writer.internal("demo-generator")


def load_demo_data(ctx: Context, *, end: str | None = None, today: date | None = None,
                   by: writer.Writer = DEMO_GENERATOR) -> int:
    """Generate the demo observations and load them as two batches: published (with the counts
    estimated from a published ratio, origin ``estimated``) and demo (monitor/store/writer.py load_demo).
    Returns the number of rows written."""
    frame = generate_demo(ctx.config, ctx.regions, ctx.population, end or last_full_month(today))
    written = writer.load_demo(ctx.store, frame, by=by)
    load_demo_updates(ctx.store, ctx.config)
    return written


def reset_demo_data(ctx: Context, *, by: writer.Writer, end: str | None = None, today: date | None = None) -> int:
    """Erase every observation, batch and history entry and load the demo anew, audited as a reset
    (monitor/store/writer.py reset_demo). Returns the number of rows written."""
    frame = generate_demo(ctx.config, ctx.regions, ctx.population, end or last_full_month(today))
    written = writer.reset_demo(ctx.store, frame, by=by)
    load_demo_updates(ctx.store, ctx.config)
    return written


def ensure_demo_data(ctx: Context, *, today: date | None = None, by: writer.Writer = DEMO_GENERATOR) -> int:
    """Load the demo data when the store holds no observations at all; returns rows written."""
    if ctx.store.observation_count() > 0:
        return 0
    return load_demo_data(ctx, today=today, by=by)
