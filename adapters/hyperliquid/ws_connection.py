"""One WebSocket that reconnects by itself, with exponential backoff and application pings.

Why not the SDK's WebsocketManager: it is a Thread subclass around one WebSocketApp that runs once
(a thread cannot be started twice), its ping thread exits for good when the socket closes, it has
no reconnect or resubscribe, and it print()s messages it cannot route.

Why not websocket-client's WebSocketApp either, but its plain WebSocket in our own loop: the
WebSocketApp dispatcher calls select() before every frame, and the frame reader asks the socket for
exactly the bytes it needs next (header, then payload), so each message costs several calls that
release the GIL. While other threads run Python (readers building frames, strategies computing),
every such call waits for the GIL's switch interval (5 ms), and the measured stream rate fell to
~60 messages/s (bench/market_data.py). Here the socket is read ahead in 64 KiB chunks, so a backlog
is parsed without giving up the GIL between messages.

Hyperliquid closes connections that stay silent for about a minute and expects {"method": "ping"}
(answered with {"channel": "pong"}), not WebSocket ping frames. A connection that delivers nothing
for `idle_timeout_s` (a half-open TCP link looks like this) is closed here so it gets replaced.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websocket

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Delays between reconnect attempts: initial_s * factor**attempt, capped, with +-jitter."""

    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.initial_s < 0 or self.max_s < self.initial_s or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError(f"invalid backoff {self}")

    def delay(self, attempt: int) -> float:
        base = min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))
        return base * (1 + self.jitter * (2 * random.random() - 1))


class _ReadAheadWebSocket(websocket.WebSocket):
    """websocket-client's WebSocket, reading the socket in large chunks once connected."""

    CHUNK = 65536

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ahead = bytearray()

    def _recv(self, bufsize: int) -> bytes:
        if not self._ahead:
            self._ahead += super()._recv(max(bufsize, self.CHUNK))
        chunk = bytes(self._ahead[:bufsize])
        del self._ahead[:bufsize]
        return chunk


class ReconnectingWebSocket:
    """Keeps one connection to `url` open until stop(); calls `on_open()` after each connect, when
    send() already works, so the owner can (re)subscribe. `on_message` gets each text message on
    the connection thread, in order."""

    STABLE_AFTER_S = 30.0

    def __init__(self, url: str, *, on_open: Callable[[], None], on_message: Callable[[str], None],
                 backoff: Backoff | None = None, ping_interval_s: float = 50.0,
                 idle_timeout_s: float | None = None, connect_timeout_s: float = 10.0,
                 name: str = "hl-ws") -> None:
        self.url = url
        self._on_open = on_open
        self._on_message = on_message
        self._backoff = backoff or Backoff()
        self._ping_interval_s = ping_interval_s
        self._idle_timeout_s = idle_timeout_s if idle_timeout_s is not None else 2 * ping_interval_s + 10
        self._connect_timeout_s = connect_timeout_s
        self._name = name
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._ws: websocket.WebSocket | None = None
        self._threads: list[threading.Thread] = []
        self._last_message = time.monotonic()
        self.connections_opened = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> None:
        if self._threads:
            raise RuntimeError(f"{self._name} already started")
        self._threads = [threading.Thread(target=self._run, name=self._name, daemon=True),
                         threading.Thread(target=self._keepalive, name=f"{self._name}-ping", daemon=True)]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._close_current()
        for thread in self._threads:
            thread.join(timeout)
            if thread.is_alive():
                logger.error("%s did not stop within %.1fs", thread.name, timeout)

    def send(self, payload: dict[str, Any]) -> None:
        """Sends on the current connection; raises websocket's exception when there is none."""
        with self._lock:
            ws = self._ws
        if ws is None or not ws.connected:
            raise websocket.WebSocketConnectionClosedException(f"{self._name}: not connected")
        ws.send(json.dumps(payload))

    def reconnect(self) -> None:
        """Drops the current connection; a new one is opened after the backoff delay."""
        self._close_current()

    # -- threads -----------------------------------------------------------------------------------
    def _run(self) -> None:
        attempt = 0  # failures in a row; a connection only counts as a success once it has lasted
        while not self._stop.is_set():
            try:
                ws = websocket.create_connection(self.url, timeout=self._connect_timeout_s,
                                                 class_=_ReadAheadWebSocket, enable_multithread=True)
            except (websocket.WebSocketException, OSError) as exc:
                delay = self._backoff.delay(attempt)
                attempt += 1
                logger.warning("%s: cannot connect to %s (%s: %s); retry %d in %.2fs",
                               self._name, self.url, type(exc).__name__, exc, attempt, delay)
                self._stop.wait(delay)
                continue
            opened = time.monotonic()
            self._serve(ws)
            if self._stop.is_set():
                break
            # A server that accepts and then drops us at once must not be hammered either.
            attempt = 0 if time.monotonic() - opened >= self.STABLE_AFTER_S else attempt + 1
            delay = self._backoff.delay(attempt)
            logger.warning("%s: disconnected from %s; reconnecting in %.2fs", self._name, self.url, delay)
            self._stop.wait(delay)
        logger.info("%s stopped", self._name)

    def _serve(self, ws: websocket.WebSocket) -> None:
        """Reads one connection until it ends; blocking reads are woken by _close_current()."""
        ws.settimeout(None)
        with self._lock:
            self._ws = ws
        if self._stop.is_set():  # stop() ran while this connection was being made
            with self._lock:
                self._ws = None
            ws.shutdown()
            return
        self.connections_opened += 1
        self._last_message = time.monotonic()
        self._connected.set()
        logger.info("%s: connected to %s (connection #%d)", self._name, self.url, self.connections_opened)
        try:
            self._on_open()
            while not self._stop.is_set():
                opcode, data = ws.recv_data()
                self._last_message = time.monotonic()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    logger.info("%s: server closed the connection: %r", self._name, bytes(data)[:200])
                    break
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    self._dispatch(data.decode("utf-8") if isinstance(data, bytes) else data)
        except (websocket.WebSocketException, OSError) as exc:
            if not self._stop.is_set():
                logger.warning("%s: connection lost (%s: %s)", self._name, type(exc).__name__, exc)
        except Exception:
            logger.exception("%s: unexpected failure; dropping the connection to start afresh", self._name)
        finally:
            self._connected.clear()
            with self._lock:
                self._ws = None
            ws.shutdown()

    def _dispatch(self, message: str) -> None:
        try:
            self._on_message(message)
        except Exception:
            logger.exception("%s: handling a message failed: %.500s", self._name, message)

    def _keepalive(self) -> None:
        tick = min(self._ping_interval_s, self._idle_timeout_s / 4, 1.0)
        next_ping = time.monotonic() + self._ping_interval_s
        while not self._stop.wait(tick):
            if not self._connected.is_set():
                continue
            now = time.monotonic()
            if now - self._last_message > self._idle_timeout_s:
                logger.warning("%s: nothing received for %.1fs; dropping the connection",
                               self._name, now - self._last_message)
                self._close_current()
                continue
            if now >= next_ping:
                next_ping = now + self._ping_interval_s
                try:
                    self.send({"method": "ping"})
                except (websocket.WebSocketException, OSError) as exc:
                    logger.warning("%s: ping failed (%s); reconnecting", self._name, exc)
                    self._close_current()

    def _close_current(self) -> None:
        """Ends the current connection now, from any thread: a best-effort close frame, then a
        socket shutdown, which wakes the blocked reader at once (and also ends a half-open
        connection that would never answer the close frame)."""
        with self._lock:
            ws = self._ws
        if ws is None:
            return
        try:
            if ws.connected:
                ws.send_close(reason=b"client closing")
        except (websocket.WebSocketException, OSError) as exc:
            logger.debug("%s: close frame not sent (%s)", self._name, exc)
        raw = ws.sock
        if raw is not None:
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError as exc:  # already closed by the peer: the reader is waking anyway
                logger.debug("%s: shutdown: %s", self._name, exc)
