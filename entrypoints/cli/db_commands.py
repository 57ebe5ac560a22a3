"""`sixbtc db migrate | status | rebuild-projections`."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from adapters.postgres.engine import describe
from adapters.postgres.migrate import current_revision, head_revision
from application.projections.read_models import ALL_PROJECTIONS
from entrypoints.cli.context import app_container


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database: migrate, status, rebuild projections")
    actions = db.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    for name, handler, text in (
        ("migrate", _migrate, "upgrade the schema to the latest migration (the app also does it on start)"),
        ("status", _status, "schema revision, events stored, projection checkpoints"),
        ("rebuild-projections", _rebuild, "drop every read model and rebuild it from the event store"),
    ):
        parser = actions.add_parser(name, help=text)
        parser.add_argument("--config", help="config file")
        parser.set_defaults(handler=handler)


def _migrate(args: argparse.Namespace) -> int:
    with app_container(args.config) as container:
        engine = container.database()
        print(f"{describe(engine.url)}: schema at revision {current_revision(engine)} (head {head_revision()})")
    return 0


def _status(args: argparse.Namespace) -> int:
    with app_container(args.config) as container:
        engine = container.database()
        store, read_models = container.event_store(), container.read_models()
        table = Table(title=f"{describe(engine.url)}, schema {current_revision(engine)}")
        table.add_column("projection")
        table.add_column("checkpoint", justify="right")
        table.add_column("behind", justify="right")
        head = store.head_position()
        for projection in ALL_PROJECTIONS:
            checkpoint = read_models.checkpoint(projection.name)
            table.add_row(projection.name, str(checkpoint), str(head - checkpoint))
        console = Console()
        console.print(f"events stored up to position {head}")
        console.print(table)
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    with app_container(args.config) as container:
        result = container.projection_runner().rebuild()
        print(f"rebuilt {len(ALL_PROJECTIONS)} projections from {result.events_seen} events "
              f"(position {result.position})")
    return 0
