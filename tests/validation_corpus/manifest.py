"""What each corpus strategy is, so tests can assert how the validation gate classifies it.

Keys are file names, unique across both folders: "lookahead_ast" and "lookahead_dynamic" files live
in `lookahead/`, "clean" ones in `clean/`.
- lookahead_ast: `find_lookahead` flags it (and the dynamic check should too);
- lookahead_dynamic: `find_lookahead` returns [] but signals are not prefix invariant on real candles;
- clean: no static finding and prefix invariant.
"""

MANIFEST: dict[str, dict[str, str]] = {
    "ast_shift_next_close.py": {"kind": "lookahead_ast", "construct": "close.shift(-1)"},
    "ast_diff_forward.py": {"kind": "lookahead_ast", "construct": "close.diff(-horizon)"},
    "ast_pct_change_forward.py": {"kind": "lookahead_ast", "construct": "pct_change(periods=-horizon)"},
    "ast_centered_rolling.py": {"kind": "lookahead_ast", "construct": "rolling(center=True).mean()"},
    "ast_bfill_pivot.py": {"kind": "lookahead_ast", "construct": "pivot lows .bfill()-ed"},
    "ast_interpolate_outliers.py": {"kind": "lookahead_ast", "construct": ".interpolate() over blanked bars"},
    "ast_forward_loop.py": {"kind": "lookahead_ast", "construct": "closes[i + 1] in a bar loop"},
    "ast_last_close.py": {"kind": "lookahead_ast", "construct": "df['close'].iloc[-1] as a scalar"},
    "ast_global_zscore.py": {"kind": "lookahead_ast", "construct": "(close - close.mean()) / close.std()"},
    "ast_np_roll.py": {"kind": "lookahead_ast", "construct": "np.roll(closes, -1)"},
    "ast_reindex_bfill.py": {"kind": "lookahead_ast", "construct": "hourly highs reindex(method='bfill')"},
    "dyn_day_mean.py": {"kind": "lookahead_dynamic", "construct": "groupby(day).transform('mean')"},
    "dyn_resample_bucket_last.py": {"kind": "lookahead_dynamic",
                                    "construct": "resample('4h').last() at bucket start, ffill"},
    "dyn_polyfit_trend.py": {"kind": "lookahead_dynamic", "construct": "np.polyfit over the whole series"},
    "dyn_random_entries.py": {"kind": "lookahead_dynamic", "construct": "unseeded np.random draw"},
    "dyn_reversed_cummax.py": {"kind": "lookahead_dynamic", "construct": "iloc[::-1].cummax() future high"},
    "dyn_reverse_cumsum.py": {"kind": "lookahead_dynamic", "construct": "np.flip(np.cumsum(np.flip(volume)))"},
    "dyn_qcut_regime.py": {"kind": "lookahead_dynamic", "construct": "pd.qcut whole-series quintiles"},
    "dyn_helper_peak_ratio.py": {"kind": "lookahead_dynamic",
                                 "construct": "min/max scaling in a helper function"},
    "dyn_hidden_shift.py": {"kind": "lookahead_dynamic", "construct": "shift(lead), lead = 1 - hold < 0"},
    "clean_expanding_zscore.py": {"kind": "clean", "construct": "expanding().mean() / .std() z-score"},
    "clean_resample_closed_hour.py": {"kind": "clean",
                                      "construct": "resample('1h', label='right', closed='left'), ffill"},
    "clean_wma_reversed_window.py": {"kind": "clean", "construct": "rolling.apply(np.dot(w[::-1], weights))"},
    "clean_loop_trailing_stop.py": {"kind": "clean", "construct": "explicit loop over past bars with state"},
    "clean_ewm_macd.py": {"kind": "clean", "construct": "ewm(adjust=True) MACD"},
    "clean_talib_rsi_atr.py": {"kind": "clean", "construct": "talib.RSI and talib.ATR"},
    "clean_shifted_breakout_cummax.py": {"kind": "clean", "construct": "shift(1) of comparisons, cummax"},
    "clean_intraday_vwap.py": {"kind": "clean", "construct": "groupby(day).cumsum() VWAP"},
    "clean_where_chain_regime.py": {"kind": "clean", "construct": "np.where chains, rolling quantile"},
    "clean_loop_percent_rank.py": {"kind": "clean", "construct": "loop with window[-1] and closes[:i + 1]"},
}
