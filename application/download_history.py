"""Download candle history into the cache, fetching only what the cache lacks.

Re-downloading months of candles on every run wastes the venue's rate limit and minutes of the
user's time, so each run asks only for the bars missing from the requested window: before the
cached first bar, inside holes, and after the cached last bar. Every chunk is saved as soon as it
arrives, so a failure late in a long download keeps what came before it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from application.ports.clock import Clock
from application.ports.market_data import CacheEntry, CandleStore, HistoricalCandles, MarketDataError, UnknownSymbol
from application.ports.progress import Progress
from domain.candle_quality import find_gaps
from domain.candles import INDEX_DTYPE, TIMESTAMP, slice_candles, timeframe_delta, to_utc

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_BARS = 5000


class InvalidDownloadRequest(ValueError):
    """Arguments that cannot describe a download (no symbols, days <= 0 ...)."""


@dataclass(frozen=True)
class DownloadResult:
    """What one (symbol, timeframe) download did; first/last/rows describe the cache afterwards."""

    symbol: str
    timeframe: str
    rows_added: int
    gaps_filled: int   # holes inside the cached span (within the window) now complete
    gaps_left: int     # holes still in the window: bars the venue did not have (or not yet)
    first: datetime | None
    last: datetime | None
    rows: int


class DownloadFailed(MarketDataError):
    """The venue kept failing; bars fetched before the failure are saved, a rerun resumes."""

    def __init__(self, symbol: str, timeframe: str, window: tuple[datetime, datetime], saved_rows: int,
                 completed: Sequence[DownloadResult], cause: MarketDataError) -> None:
        start, end = (w.strftime("%Y-%m-%d %H:%M") for w in window)
        super().__init__(
            f"downloading {symbol} {timeframe} stopped at {start} -> {end}: {cause}. "
            f"{saved_rows} bars of {symbol} {timeframe} fetched before the failure are in the cache; "
            f"run the download again to resume")
        self.symbol = symbol
        self.timeframe = timeframe
        self.saved_rows = saved_rows
        self.completed = list(completed)


@dataclass(frozen=True)
class _Range:
    start: pd.Timestamp
    end: pd.Timestamp      # exclusive
    backwards: bool        # fetched newest first, stopping where the venue's history begins
    is_gap: bool

    def bars(self, step: pd.Timedelta) -> int:
        return int((self.end - self.start) // step)


@dataclass
class _Job:
    symbol: str
    timeframe: str
    step: pd.Timedelta
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    index: pd.DatetimeIndex       # open times in the cache, updated as chunks are saved
    ranges: list[_Range]

    @property
    def bars(self) -> int:
        return sum(r.bars(self.step) for r in self.ranges)


class DownloadHistory:
    def __init__(self, history: HistoricalCandles, store: CandleStore, clock: Clock,
                 progress: Progress | None = None, *, chunk_bars: int = DEFAULT_CHUNK_BARS) -> None:
        """`chunk_bars` bars are fetched and saved at a time: smaller loses less on a failure,
        larger rewrites the cache file less often."""
        if chunk_bars < 1:
            raise InvalidDownloadRequest(f"chunk_bars must be at least 1, got {chunk_bars}")
        self._history = history
        self._store = store
        self._clock = clock
        self._progress = progress
        self._chunk_bars = chunk_bars

    def execute(self, symbols: Sequence[str], timeframes: Sequence[str], days: float) -> list[DownloadResult]:
        """One result per (symbol, timeframe), in the order given; the window is the last `days`
        days of closed bars. Raises UnknownTimeframe before any download, UnknownSymbol as the
        venue reports it, DownloadFailed when the venue keeps failing."""
        if not symbols or not timeframes:
            raise InvalidDownloadRequest("give at least one symbol and one timeframe")
        if not days > 0:
            raise InvalidDownloadRequest(f"days must be positive, got {days}")
        for timeframe in timeframes:
            timeframe_delta(timeframe)
        now = to_utc(self._clock.now())
        jobs = [self._plan(s, tf, now, days) for s in dict.fromkeys(symbols) for tf in dict.fromkeys(timeframes)]
        results: list[DownloadResult] = []
        if self._progress is not None:
            self._progress.start(sum(job.bars for job in jobs))
        try:
            for job in jobs:
                results.append(self._run(job, results))
        finally:
            if self._progress is not None:
                self._progress.finish()
        return results

    def status(self) -> list[CacheEntry]:
        """What the cache holds, per (symbol, timeframe)."""
        return self._store.entries()

    def _plan(self, symbol: str, timeframe: str, now: pd.Timestamp, days: float) -> _Job:
        step = timeframe_delta(timeframe)
        end = now.floor(step)  # open time of the forming bar: closed bars open before it
        start = (end - pd.Timedelta(timedelta(days=days))).floor(step)
        index = self._cached_index(symbol, timeframe)
        ranges: list[_Range] = []
        if len(index) == 0:
            ranges.append(_Range(start, end, backwards=True, is_gap=False))
        else:
            first, last = index[0], index[-1]
            if start < first:
                ranges.append(_Range(start, min(first, end), backwards=True, is_gap=False))
            for gap in find_gaps(index, timeframe):
                lo, hi = max(gap.first_missing, start), min(gap.last_missing + step, end)
                if lo < hi:
                    ranges.append(_Range(lo, hi, backwards=False, is_gap=True))
            if max(last + step, start) < end:
                ranges.append(_Range(max(last + step, start), end, backwards=False, is_gap=False))
        return _Job(symbol, timeframe, step, start, end, index, ranges)

    def _cached_index(self, symbol: str, timeframe: str) -> pd.DatetimeIndex:
        try:
            return pd.DatetimeIndex(self._store.load(symbol, timeframe).index)
        except UnknownSymbol:  # the store's way of saying nothing is cached yet
            return pd.DatetimeIndex([], dtype=INDEX_DTYPE, name=TIMESTAMP)

    def _run(self, job: _Job, completed: Sequence[DownloadResult]) -> DownloadResult:
        added = filled = 0
        for rng in job.ranges:
            got = 0
            for lo, hi in self._chunks(rng, job.step):
                try:
                    candles = slice_candles(self._history.fetch(job.symbol, job.timeframe, lo, hi), lo, hi)
                except UnknownSymbol:
                    raise
                except MarketDataError as exc:
                    raise DownloadFailed(job.symbol, job.timeframe, (lo, hi), added + got, completed, exc) from exc
                if len(candles):
                    self._store.save(job.symbol, job.timeframe, candles)
                    job.index = job.index.union(candles.index)
                got += len(candles)
                self._advance(int((hi - lo) // job.step))
                if rng.backwards and not len(candles):
                    self._advance(int((lo - rng.start) // job.step))
                    logger.info("%s %s: no bars before %s at the venue", job.symbol, job.timeframe, hi)
                    break
            added += got
            filled += int(rng.is_gap and got == rng.bars(job.step))
        window = job.index[(job.index >= job.window_start) & (job.index < job.window_end)]
        result = DownloadResult(
            symbol=job.symbol, timeframe=job.timeframe, rows_added=added, gaps_filled=filled,
            gaps_left=len(find_gaps(window, job.timeframe)),
            first=job.index[0].to_pydatetime() if len(job.index) else None,
            last=job.index[-1].to_pydatetime() if len(job.index) else None,
            rows=len(job.index))
        logger.info("%s %s: %d bars added, %d gaps filled, %d left", job.symbol, job.timeframe, added, filled,
                    result.gaps_left)
        return result

    def _chunks(self, rng: _Range, step: pd.Timedelta) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        span = step * self._chunk_bars
        edges: list[tuple[pd.Timestamp, pd.Timestamp]] = []
        if rng.backwards:
            hi = rng.end
            while hi > rng.start:
                edges.append((max(hi - span, rng.start), hi))
                hi -= span
            return edges
        lo = rng.start
        while lo < rng.end:
            edges.append((lo, min(lo + span, rng.end)))
            lo += span
        return edges

    def _advance(self, bars: int) -> None:
        if self._progress is not None and bars > 0:
            self._progress.advance(bars)
