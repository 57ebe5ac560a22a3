"""Candles kept in Parquet files: the shared data folder's loader and the on-disk candle cache."""
