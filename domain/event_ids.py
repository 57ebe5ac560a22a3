"""Event ids: random UUIDs (version 4) from the operating system's CSPRNG, drawn 256 at a time.

os.urandom is a system call that lets go of the GIL. With ten deciding threads busy, a thread
that asked for one id then waits its turn for the GIL again, up to the 5 ms switch interval, and
a decision creates a dozen events: profiled, a fifth of the live loop's deciding time went there.
One draw per 256 ids makes that one wait per 256. A forked child forgets the ids it inherited, so
a parent and its child never hand out the same one.
"""

from __future__ import annotations

import os
import uuid
from collections import deque

_BLOCK = 256
_fresh: deque[bytes] = deque()


def new_event_id() -> str:
    try:
        raw = _fresh.popleft()
    except IndexError:
        block = os.urandom(16 * _BLOCK)
        _fresh.extend(block[i:i + 16] for i in range(16, len(block), 16))
        raw = block[:16]
    return str(uuid.UUID(bytes=raw, version=4))


os.register_at_fork(after_in_child=_fresh.clear)
