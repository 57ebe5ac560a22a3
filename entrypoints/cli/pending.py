"""Commands whose use cases later issues build: they say so and exit 2, never fake output."""

from __future__ import annotations

import argparse
import sys

PENDING: dict[str, tuple[str, str]] = {
    "monitor": ("live terminal dashboard", "#10 monitoring"),
}


def add_pending(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, (summary, issue) in PENDING.items():
        parser = sub.add_parser(name, help=f"{summary} [not built yet: {issue}]", add_help=True)
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        parser.set_defaults(handler=_not_built(name, issue))


def _not_built(name: str, issue: str):  # type: ignore[no-untyped-def]
    def handler(_: argparse.Namespace) -> int:
        print(f"sixbtc {name}: not implemented yet (planned in issue {issue}).", file=sys.stderr)
        return 2

    return handler
