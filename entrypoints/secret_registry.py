"""Every secret this process was given is known to scrub() before anything can log or answer it.

The patterns in logging_setup catch keys of known shapes (0x + 64 hex, sk-...); a Gemini key, a
bot token, a webhook secret or a signing key written without its 0x have none, so their exact
values are registered: each SecretStr in the settings, and HL_PRIVATE_KEY from the environment
even on paper (it is there, so a typo in a URL could still echo it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, SecretStr

from entrypoints.execution import KEY_VARIABLE
from entrypoints.logging_setup import add_secret
from entrypoints.settings import Settings


def register_secrets(settings: Settings, environ: Mapping[str, str]) -> None:
    for value in secret_values(settings):
        add_secret(value)
    key = environ.get(KEY_VARIABLE, "").strip()
    if key:
        add_secret(key)


def secret_values(value: Any) -> Iterator[str]:
    if isinstance(value, SecretStr):
        if value.get_secret_value().strip():
            yield value.get_secret_value().strip()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secret_values(getattr(value, name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from secret_values(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from secret_values(item)
