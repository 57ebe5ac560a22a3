from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from adapters.synthetic.market import EPOCH, SyntheticHistory, synthetic_candles
from application.ports.market_data import HistoricalCandles
from domain.candle_quality import quality_report
from domain.candles import COLUMNS, INDEX_DTYPE, InvalidCandles, UnknownTimeframe, normalize_candles

START = datetime(2023, 1, 1, tzinfo=UTC)
END = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def year_1h() -> pd.DataFrame:
    return synthetic_candles("BTCUSDT", "1h", START, END, seed=11)


def test_same_seed_same_candles_other_seed_other_candles() -> None:
    a = synthetic_candles("ETHUSDT", "5m", START, datetime(2023, 1, 8, tzinfo=UTC), seed=3)
    b = synthetic_candles("ETHUSDT", "5m", START, datetime(2023, 1, 8, tzinfo=UTC), seed=3)
    c = synthetic_candles("ETHUSDT", "5m", START, datetime(2023, 1, 8, tzinfo=UTC), seed=4)
    d = synthetic_candles("SOLUSDT", "5m", START, datetime(2023, 1, 8, tzinfo=UTC), seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["close"], c["close"]) and not np.allclose(a["close"], d["close"])


def test_frames_are_standard_clean_and_labelled_synthetic(year_1h: pd.DataFrame) -> None:
    assert list(year_1h.columns) == list(COLUMNS) and year_1h.index.dtype == INDEX_DTYPE
    assert len(year_1h) == 365 * 24
    assert year_1h.index[0] == pd.Timestamp(START) and year_1h.index[-1] == pd.Timestamp(END) - pd.Timedelta(hours=1)
    pd.testing.assert_frame_equal(normalize_candles(year_1h), year_1h)
    report = quality_report(year_1h, "1h")
    assert report.ok, report.summary()
    assert year_1h.attrs["synthetic"] is True and year_1h.attrs["source"] == "synthetic"


@pytest.mark.parametrize("timeframe", ["1m", "15m", "4h", "1d"])
def test_ohlc_rules_hold_on_every_timeframe(timeframe: str) -> None:
    df = synthetic_candles("DOGEUSDT", timeframe, datetime(2022, 6, 1), datetime(2022, 6, 20), seed=5)
    assert quality_report(df, timeframe).ok
    assert (df["low"] > 0).all() and (df["volume"] > 0).all()
    assert (df["open"].iloc[1:].to_numpy() == df["close"].iloc[:-1].to_numpy()).all()


def test_a_bar_is_the_same_whatever_window_asked_for_it() -> None:
    history = SyntheticHistory(seed=2)
    whole = history.fetch("BTCUSDT", "1m", datetime(2024, 3, 1), datetime(2024, 3, 4))
    for lo, hi in [("2024-03-02 13:17", "2024-03-02 19:00"), ("2024-03-01", "2024-03-01 00:01"),
                   ("2024-03-03 23:58:30", "2024-03-05")]:
        part = history.fetch("BTCUSDT", "1m", pd.Timestamp(lo), pd.Timestamp(hi))
        overlap = part.index.intersection(whole.index)
        assert len(overlap) > 0
        pd.testing.assert_frame_equal(part.loc[overlap], whole.loc[overlap])


def test_windows_round_to_the_bar_grid_and_empty_windows_are_empty() -> None:
    history = SyntheticHistory(seed=1)
    df = history.fetch("BTCUSDT", "1h", datetime(2024, 1, 1, 0, 30), datetime(2024, 1, 1, 3, 0))
    assert list(df.index.hour) == [1, 2]
    assert len(history.fetch("BTCUSDT", "1h", datetime(2024, 1, 1), datetime(2024, 1, 1))) == 0


def test_it_is_a_historical_candles_source() -> None:
    source: HistoricalCandles = SyntheticHistory(seed=0)
    assert len(source.fetch("BTCUSDT", "1d", datetime(2024, 1, 1), datetime(2024, 2, 1))) == 31


def test_volatility_comes_in_clusters(year_1h: pd.DataFrame) -> None:
    returns = np.log(year_1h["close"]).diff().dropna()
    weekly_vol = returns.rolling(24 * 7).std().dropna()
    assert weekly_vol.max() / weekly_vol.min() > 3.0
    abs_returns = returns.abs()
    assert abs_returns.autocorr(lag=1) > 0.1  # big moves follow big moves
    assert returns.kurt() > 3.0               # fatter tails than a normal distribution


def test_both_up_and_down_trends_appear(year_1h: pd.DataFrame) -> None:
    monthly = np.log(year_1h["close"]).diff(24 * 30).dropna()
    assert monthly.max() > 0.15 and monthly.min() < -0.15


def test_volume_rises_with_moves_and_volatility(year_1h: pd.DataFrame) -> None:
    returns = np.log(year_1h["close"]).diff().abs().iloc[1:]
    volume = np.log(year_1h["volume"]).iloc[1:]
    assert np.corrcoef(returns, volume)[0, 1] > 0.3
    vol = returns.rolling(24 * 7).mean().dropna()
    assert np.corrcoef(vol, volume.rolling(24 * 7).mean().dropna())[0, 1] > 0.3


def test_long_one_minute_windows_are_fast() -> None:
    started = pd.Timestamp.now()
    df = synthetic_candles("BTCUSDT", "1m", datetime(2024, 1, 1), datetime(2024, 5, 20), seed=9)
    assert len(df) > 200_000 and (pd.Timestamp.now() - started).total_seconds() < 3.0


def test_bad_requests_are_refused() -> None:
    with pytest.raises(InvalidCandles, match="starts at"):
        synthetic_candles("BTCUSDT", "1h", EPOCH - pd.Timedelta(days=1), EPOCH, seed=0)
    with pytest.raises(UnknownTimeframe):
        synthetic_candles("BTCUSDT", "2h", START, END, seed=0)
    with pytest.raises(ValueError, match="seed"):
        SyntheticHistory(seed=-1)
