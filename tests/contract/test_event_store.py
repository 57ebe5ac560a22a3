"""One contract for every EventStore adapter (in-memory and PostgreSQL)."""

from __future__ import annotations

import threading
import uuid

import pytest

from application.ports.event_store import (
    NO_STREAM,
    DuplicateEventId,
    EventStore,
    InvalidEventPayload,
    NewEvent,
    WrongExpectedVersion,
)


def ev(event_type: str = "Happened", **payload: object) -> NewEvent:
    return NewEvent(event_id=str(uuid.uuid4()), event_type=event_type, payload=dict(payload),
                    metadata={"correlation_id": "c-1", "causation_id": None})


def test_new_store_is_empty(store: EventStore) -> None:
    assert store.head_position() == 0
    assert store.read_all() == []
    assert store.stream_version("nothing") == NO_STREAM
    assert store.read_stream("nothing") == []


def test_stream_keeps_order_and_versions(store: EventStore) -> None:
    batch = [ev(n=i) for i in range(5)]
    assert store.append("s-1", batch[:2], expected_version=NO_STREAM) == 2
    assert store.append("s-1", batch[2:], expected_version=2) == 5
    stored = store.read_stream("s-1")
    assert [e.version for e in stored] == [1, 2, 3, 4, 5]
    assert [e.payload["n"] for e in stored] == [0, 1, 2, 3, 4]
    assert [e.event_id for e in stored] == [e.event_id for e in batch]
    assert stored[0].metadata == {"correlation_id": "c-1", "causation_id": None}
    assert [e.version for e in store.read_stream("s-1", from_version=4)] == [4, 5]


def test_global_order_interleaves_streams_in_append_order(store: EventStore) -> None:
    store.append("a", [ev(n=1)], None)
    store.append("b", [ev(n=2), ev(n=3)], None)
    store.append("a", [ev(n=4)], None)
    everything = store.read_all()
    assert [e.payload["n"] for e in everything] == [1, 2, 3, 4]
    assert [e.stream_id for e in everything] == ["a", "b", "b", "a"]
    positions = [e.global_position for e in everything]
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert store.head_position() == positions[-1]


def test_read_all_pages_by_position(store: EventStore) -> None:
    store.append("s", [ev(n=i) for i in range(10)], None)
    first = store.read_all(after_position=0, limit=4)
    second = store.read_all(after_position=first[-1].global_position, limit=4)
    rest = store.read_all(after_position=second[-1].global_position, limit=100)
    assert [e.payload["n"] for e in first + second + rest] == list(range(10))


def test_version_conflict_raises_and_writes_nothing(store: EventStore) -> None:
    store.append("s", [ev(), ev()], NO_STREAM)
    with pytest.raises(WrongExpectedVersion) as caught:
        store.append("s", [ev(n="lost")], expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    with pytest.raises(WrongExpectedVersion):
        store.append("s", [ev()], expected_version=NO_STREAM)
    assert store.stream_version("s") == 2
    assert store.head_position() == len(store.read_all())
    assert all(e.payload.get("n") != "lost" for e in store.read_all())


def test_same_event_ids_twice_is_a_no_op(store: EventStore) -> None:
    batch = [ev(n=1), ev(n=2)]
    assert store.append("s", batch, NO_STREAM) == 2
    head = store.head_position()
    assert store.append("s", batch, NO_STREAM) == 2  # a retry after a lost reply
    assert store.append("s", batch[:1], None) == 2
    assert store.head_position() == head
    assert len(store.read_stream("s")) == 2


def test_partly_stored_batch_or_id_in_other_stream_is_refused(store: EventStore) -> None:
    first = ev()
    store.append("s", [first], NO_STREAM)
    with pytest.raises(DuplicateEventId):
        store.append("s", [first, ev()], None)
    with pytest.raises(DuplicateEventId):
        store.append("other", [first], None)
    dup = ev()
    with pytest.raises(DuplicateEventId):
        store.append("s", [dup, dup], None)
    assert store.head_position() == 1
    assert store.stream_version("other") == NO_STREAM


def test_large_and_unicode_payloads_round_trip(store: EventStore) -> None:
    payload = {
        "text": "Ελληνικά 中文 العربية עברית 😀🚀 e\u0301 \U0001f9d1\u200d\U0001f680 \\u0000 literal",
        "ключ": ["ok", 1, 2.5, True, None, {"nested": "ü"}],
        "big": "x" * 2_000_000,
        "many": list(range(20_000)),
        "float": 0.1 + 0.2,
        "large_int": 2**53,
    }
    store.append("s", [NewEvent(str(uuid.uuid4()), "Big", payload, {"note": "ünïcødé"})], None)
    (stored,) = store.read_stream("s")
    assert stored.payload == payload
    assert stored.metadata == {"note": "ünïcødé"}


@pytest.mark.parametrize("bad", [{"x": float("nan")}, {"x": "a\x00b"}, {"x": object()}, {"x\x00": 1}])
def test_payloads_json_cannot_hold_are_refused_before_writing(store: EventStore, bad: dict) -> None:
    with pytest.raises(InvalidEventPayload):
        store.append("s", [ev(), NewEvent(str(uuid.uuid4()), "Bad", bad)], None)
    assert store.head_position() == 0


def test_tuples_come_back_as_lists_everywhere(store: EventStore) -> None:
    store.append("s", [NewEvent(str(uuid.uuid4()), "T", {"pair": (1, 2)})], None)
    assert store.read_stream("s")[0].payload == {"pair": [1, 2]}


def test_concurrent_appenders_on_one_stream_never_lose_or_double(store: EventStore) -> None:
    writers, per_writer = 6, 15
    conflicts = []
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(per_writer):
                event = ev(worker=worker, i=i)
                while True:
                    version = store.stream_version("hot")
                    try:
                        store.append("hot", [event], expected_version=version)
                        break
                    except WrongExpectedVersion:
                        conflicts.append(worker)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = store.read_stream("hot")
    assert [e.version for e in stored] == list(range(1, writers * per_writer + 1))
    assert sorted((e.payload["worker"], e.payload["i"]) for e in stored) == sorted(
        (w, i) for w in range(writers) for i in range(per_writer)
    )


def test_racing_appends_with_the_same_expected_version_let_exactly_one_win(store: EventStore) -> None:
    store.append("race", [ev()], NO_STREAM)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            store.append("race", [ev()], expected_version=1)
            outcomes.append("won")
        except WrongExpectedVersion:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1
    assert store.stream_version("race") == 2


def test_catch_up_reader_never_skips_an_event_under_concurrent_writers(store: EventStore) -> None:
    stop = threading.Event()
    total = 4 * 40

    def write(worker: int) -> None:
        for i in range(40):
            store.append(f"w-{worker}", [ev(i=i)], None)

    seen: list[int] = []

    def read() -> None:
        position = 0
        while not stop.is_set() or position < store.head_position():
            for event in store.read_all(after_position=position, limit=7):
                seen.append(event.global_position)
                position = event.global_position

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    assert len(seen) == total
    assert seen == sorted(seen)
