"""A provider that answers from a script: use-case and manager tests without any network.

Each call takes the next scripted reply: a string becomes the completion's text, an exception
is raised as if the service had failed. The prompts it got are kept, so tests can check what
the use case asked. Token counts are rough (four characters a token), enough for stats.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from application.ports.ai_provider import Completion, ProviderUnavailable


class ScriptedProvider:
    def __init__(self, name: str, replies: Iterable[str | Exception], model: str = "scripted",
                 cost_per_call: float = 0.0) -> None:
        self.name = name
        self.model = model
        self.cost_per_call = cost_per_call
        self.prompts: list[str] = []
        self.systems: list[str | None] = []
        self._replies = iter(replies)
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        return len(self.prompts)

    def generate(self, prompt: str, *, system: str | None = None) -> Completion:
        with self._lock:
            self.prompts.append(prompt)
            self.systems.append(system)
            reply = next(self._replies, None)
        if reply is None:
            # An exhausted script is a failing service, not a test crash: the manager's
            # fallback paths see the same kind of error a real outage gives.
            raise ProviderUnavailable(self.name, "script exhausted")
        if isinstance(reply, Exception):
            raise reply
        return Completion(text=reply, provider=self.name, model=self.model,
                          input_tokens=_tokens(prompt) + _tokens(system or ""), output_tokens=_tokens(reply),
                          cost_usd=self.cost_per_call)


def _tokens(text: str) -> int:
    return (len(text) + 3) // 4
