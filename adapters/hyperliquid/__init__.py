"""Hyperliquid: live candles over one WebSocket, REST through the official SDK, the perp universe."""
