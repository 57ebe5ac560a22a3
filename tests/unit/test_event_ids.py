"""Event ids are random version-4 UUIDs, never handed out twice, not even across a fork."""

from __future__ import annotations

import os
import threading
import uuid

from domain.event_ids import new_event_id


def test_ids_are_version_4_uuids_and_all_distinct() -> None:
    ids = [new_event_id() for _ in range(5000)]  # many blocks of 256
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)


def test_threads_drawing_at_once_never_share_an_id() -> None:
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(into: list[str]) -> None:
        into.extend(new_event_id() for _ in range(2000))

    threads = [threading.Thread(target=draw, args=(d,)) for d in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for d in drawn for i in d]
    assert len(set(every)) == len(every) == 16000


def test_a_forked_child_does_not_hand_out_the_ids_its_parent_will() -> None:
    new_event_id()  # a block drawn: the child inherits what is left of it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, ",".join(new_event_id() for _ in range(10)).encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split(","))
    assert os.waitstatus_to_exitcode(status) == 0 and len(child) == 10
    assert child.isdisjoint(new_event_id() for _ in range(10))
