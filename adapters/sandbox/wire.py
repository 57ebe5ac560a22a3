"""Messages between host and worker. The host trusts nothing the worker sends.

Host to worker: length-prefixed pickles (the worker may trust its host). Worker to host: a
length-prefixed JSON header, then raw array bytes whose layout the header declares and the host
checks, so a compromised worker can send wrong numbers at worst, never code (no pickle here).
"""

from __future__ import annotations

import json
import pickle
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

from domain.signal_frame import FLAG_COLUMNS, SIGNAL_COLUMNS

MAX_HEADER = 1 << 20
MAX_PAYLOAD = 1 << 31
_DTYPES = {"bool": np.dtype(np.uint8), "float64": np.dtype("<f8")}
COLUMN_DTYPES = {c: ("bool" if c in FLAG_COLUMNS else "float64") for c in SIGNAL_COLUMNS}
BYTES_PER_ROW = sum(_DTYPES[d].itemsize for d in COLUMN_DTYPES.values())


class WireError(RuntimeError):
    """The worker sent something that is not a well-formed reply."""


def encode_request(message: dict[str, Any]) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("<Q", len(body)) + body


def encode_reply(header: dict[str, Any], payload: bytes = b"") -> bytes:
    text = json.dumps({**header, "payload": len(payload)}, allow_nan=False, default=str).encode()
    return struct.pack("<I", len(text)) + text + payload


def frame_payload(frames: Mapping[str, Mapping[str, Any]]) -> tuple[list[dict[str, Any]], bytes]:
    """(header entries, bytes) for checked signals, each a frame or its columns as arrays: every
    column in SIGNAL_COLUMNS order."""
    entries, parts = [], []
    for key, frame in frames.items():
        entries.append({"key": key, "rows": len(frame[SIGNAL_COLUMNS[0]])})
        for column in SIGNAL_COLUMNS:
            dtype = _DTYPES[COLUMN_DTYPES[column]]
            parts.append(np.ascontiguousarray(np.asarray(frame[column]), dtype=dtype).tobytes())
    return entries, b"".join(parts)


def decode_frames(entries: object, payload: bytes, expected_rows: dict[str, int]) -> dict[str, dict[str, np.ndarray]]:
    """Columns per key, after checking that the layout is exactly what was asked for."""
    if not isinstance(entries, list) or len(entries) != len(expected_rows):
        raise WireError("reply does not list one frame per request")
    columns: dict[str, dict[str, np.ndarray]] = {}
    offset = 0
    for entry in entries:
        key, rows = (entry.get("key"), entry.get("rows")) if isinstance(entry, dict) else (None, None)
        if key not in expected_rows or key in columns or rows != expected_rows[key]:
            raise WireError(f"reply frame {key!r} with {rows!r} rows was not asked for")
        found = {}
        for column in SIGNAL_COLUMNS:
            dtype = _DTYPES[COLUMN_DTYPES[column]]
            size = dtype.itemsize * int(rows)
            if offset + size > len(payload):
                raise WireError("reply payload is shorter than its header says")
            array = np.frombuffer(payload, dtype=dtype, count=int(rows), offset=offset)
            found[column] = array != 0 if dtype.kind == "u" else array.astype(np.float64)
            offset += size
        columns[str(key)] = found
    if offset != len(payload):
        raise WireError("reply payload is longer than its header says")
    return columns
