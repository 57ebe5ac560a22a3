"""`sixbtc config validate | show`."""

from __future__ import annotations

import argparse
import json

from entrypoints.cli.context import default_config_path, load


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = sub.add_parser("config", help="check or show the configuration")
    actions = config.add_subparsers(dest="config_action", required=True, metavar="ACTION")
    validate = actions.add_parser("validate", help="exit 0 and print OK, or exit 2 with one line per problem")
    validate.add_argument("--config", help=f"config file (default {default_config_path()})")
    validate.set_defaults(handler=_validate)
    show = actions.add_parser("show", help="print the resolved configuration, secrets masked")
    show.add_argument("--config", help="config file")
    show.set_defaults(handler=_show)


def _validate(args: argparse.Namespace) -> int:
    load(args.config)
    print("OK")
    return 0


def _show(args: argparse.Namespace) -> int:
    settings = load(args.config)
    print(json.dumps(settings.safe_dump(), indent=2, default=str))
    return 0
