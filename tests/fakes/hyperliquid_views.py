"""The fake Hyperliquid's /info answers about one account, in the shapes of the recorded responses.

clearinghouseState as info_clearinghouseState.json (numbers as strings, "oneWay" positions, cross
leverage), frontendOpenOrders as info_frontendOpenOrders.json, orderStatus's order object as
info_historicalOrders.json, fills as info_userFills.json plus the newer fields (tid, cloid,
feeToken). Fills come newest first, as recorded; userFillsByTime returns at most FILLS_LIMIT fills,
the earliest of the window, so a client pages forward from the last time it got.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.hyperliquid_ledger import Account, Ledger, Order, num

FILLS_LIMIT = 2000
_ORDER_TYPES = {None: "Limit", "sl": "Stop Market", "tp": "Take Profit Market"}


def clearinghouse_state(ledger: Ledger, acct: Account) -> dict[str, Any]:
    positions = []
    total_ntl = margin_total = raw = 0.0
    for coin, pos in sorted(acct.positions.items()):
        mid = ledger.mids[coin]
        lev = ledger.leverage(acct, coin)
        value = abs(pos.szi) * mid
        upnl = pos.szi * (mid - pos.entry_px)
        margin = value / lev
        total_ntl += value
        margin_total += margin
        raw -= pos.szi * mid
        positions.append({"position": {
            "coin": coin, "szi": num(pos.szi), "entryPx": num(pos.entry_px),
            "leverage": {"type": "cross", "value": lev}, "liquidationPx": None, "marginUsed": num(margin),
            "maxLeverage": ledger.instruments[ledger.asset_of[coin]].max_leverage,
            "positionValue": num(value), "returnOnEquity": num(upnl / (abs(pos.szi) * pos.entry_px / lev)),
            "unrealizedPnl": num(upnl)}, "type": "oneWay"})
    value = ledger.account_value(acct)
    summary = {"accountValue": num(value), "totalMarginUsed": num(margin_total), "totalNtlPos": num(total_ntl),
               "totalRawUsd": num(value + raw)}
    return {"assetPositions": positions, "crossMarginSummary": dict(summary), "marginSummary": summary,
            "crossMaintenanceMarginUsed": num(margin_total / 2), "withdrawable": num(max(0.0, value - margin_total)),
            "time": ledger.now_ms()}


def order_json(order: Order) -> dict[str, Any]:
    """One order as frontendOpenOrders and orderStatus show it."""
    if order.trigger_px is None:
        condition = "N/A"
    else:
        condition = f"Price {'below' if order.fires_below() else 'above'} {num(order.trigger_px)}"
    return {"coin": order.coin, "side": "B" if order.is_buy else "A", "limitPx": num(order.limit_px),
            "sz": num(order.sz), "oid": order.oid, "timestamp": order.timestamp, "triggerCondition": condition,
            "isTrigger": order.is_trigger, "triggerPx": num(order.trigger_px or 0.0), "children": [],
            "isPositionTpsl": False, "reduceOnly": order.reduce_only, "orderType": _ORDER_TYPES[order.tpsl],
            "origSz": num(order.orig_sz), "tif": order.tif, "cloid": order.cloid}


def open_orders(acct: Account) -> list[dict[str, Any]]:
    return [{"coin": o.coin, "limitPx": num(o.limit_px), "oid": o.oid, "side": "B" if o.is_buy else "A",
             "sz": num(o.sz), "timestamp": o.timestamp, "origSz": num(o.orig_sz), "cloid": o.cloid}
            for o in _newest_first(acct.open_orders())]


def frontend_open_orders(acct: Account) -> list[dict[str, Any]]:
    return [order_json(o) for o in _newest_first(acct.open_orders())]


def order_status(acct: Account | None, ref: int | str) -> dict[str, Any]:
    """By oid (an int) or cloid (a 0x string), as the venue's orderStatus."""
    if acct is None:
        return {"status": "unknownOid"}
    oid = acct.by_cloid.get(ref) if isinstance(ref, str) else ref
    order = acct.orders.get(oid) if oid is not None else None
    if order is None:
        return {"status": "unknownOid"}
    return {"status": "order", "order": {"order": order_json(order), "status": order.status,
                                         "statusTimestamp": order.status_ts}}


def user_fills(acct: Account | None) -> list[dict[str, Any]]:
    return [dict(f) for f in reversed(acct.fills)][:FILLS_LIMIT] if acct else []


def user_fills_by_time(acct: Account | None, start_ms: int, end_ms: int | None) -> list[dict[str, Any]]:
    if acct is None:
        return []
    chosen = [f for f in acct.fills if f["time"] >= start_ms and (end_ms is None or f["time"] <= end_ms)]
    return [dict(f) for f in reversed(chosen[:FILLS_LIMIT])]


def _newest_first(orders: list[Order]) -> list[Order]:
    return sorted(orders, key=lambda o: (o.timestamp, o.oid), reverse=True)
