"""Headless Chromium for end-to-end tests of the web dashboard: a local server, the DOM and a screenshot.

Chromium is Debian's package (`make browser` installs it). Without it the tests skip with the
reason, unless CI or SIXBTC_REQUIRE_BROWSER (set by `make unit`) is set: then they fail, so a
test run that was meant to cover the browser cannot pass without one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "chromium is not installed (make browser installs Debian's chromium package)"
    if os.environ.get("CI") or os.environ.get("SIXBTC_REQUIRE_BROWSER"):
        pytest.fail(reason + "; CI/SIXBTC_REQUIRE_BROWSER is set, so this fails instead of skipping")
    pytest.skip(reason)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """uvicorn on 127.0.0.1, on a port the OS picked, in a thread; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _headless(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    return done


def dump_dom(binary: str, url: str, profile: Path, budget_ms: int = 20000) -> str:
    """The DOM after the page ran for `budget_ms` of virtual time (its fetches and Plotly done)."""
    return _headless(binary, profile, f"--virtual-time-budget={budget_ms}", "--dump-dom", url).stdout


def screenshot(binary: str, url: str, path: Path, profile: Path, size: tuple[int, int] = (1400, 1800),
               budget_ms: int = 20000) -> Path:
    _headless(binary, profile, f"--virtual-time-budget={budget_ms}", f"--screenshot={path}",
              f"--window-size={size[0]},{size[1]}", url)
    return path


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, element_id: str) -> Element:
        found = [e for e in self.walk() if e.attrs.get("id") == element_id]
        assert found, f"no element with id {element_id!r} in the DOM"
        return found[0]

    def having(self, css_class: str) -> list[Element]:
        return [e for e in self.walk() if css_class in e.classes]

    def content(self) -> str:
        return " ".join(" ".join(e.text) for e in self.walk()).strip()

    def rows(self) -> list[list[str]]:
        """The cells of each body row of the tables under this element."""
        return [[" ".join(td.content().split()) for td in tr.children if td.tag == "td"]
                for tbody in self.walk() if tbody.tag == "tbody" for tr in tbody.children]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(element)
        if tag not in VOID:
            self._stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].text.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
