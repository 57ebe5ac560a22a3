"""The weekly report for people: the same figures as its JSON, as Markdown tables."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from application.weekly_report_model import WeeklyReport

NONE = "-"


def render_markdown(report: WeeklyReport) -> str:
    totals = report.totals()
    lines = [
        f"# SixBTC weekly report {report.week}", "",
        f"{_when(report.period_start)} to {_when(report.period_end)} (7 days; built {_when(report.generated_at)}).",
        "",
        f"{totals['live_strategies']} live strategies, {totals['trades_in_week']} trades closed, realized PnL "
        f"{totals['realized_pnl_in_week']:+.2f}; {totals['rotations']} rotated, {totals['stops']} stopped, "
        f"{totals['emergency_stops']} emergency stops.", "",
        "## Live against backtest", "",
    ]
    if report.strategies:
        lines += [_row(["strategy", "subaccount", "timeframe", "status now", "live in the week", "trades (week)",
                        "trades (since deployed)", "live expectancy", "backtest expectancy", "realized PnL (week)",
                        "return (week)", "max drawdown (week)"]), _rule(12)]
        for s in report.strategies:
            p = s.performance
            lines.append(_row([
                f"{s.name or s.strategy_id} (`{s.strategy_id}`)", _text(s.subaccount), _text(s.timeframe), s.status,
                f"{_when(s.live_from)} to {_when(s.live_until)}", str(s.trades_in_week), str(p.live_trades),
                _percent(p.live_expectancy, 3), _percent(p.backtest_expectancy, 3), f"{s.realized_pnl_in_week:+.2f}",
                _percent(s.return_in_week, 2), _percent(s.max_drawdown_in_week, 2)]))
    else:
        lines.append("No strategy was live this week.")
    lines += ["", "## Correlation of daily returns", ""]
    correlation = report.correlation
    if len(correlation.strategy_ids) > 1:
        lines += [_row(["", *correlation.strategy_ids]), _rule(len(correlation.strategy_ids) + 1)]
        for name, values in zip(correlation.strategy_ids, correlation.matrix, strict=True):
            lines.append(_row([name, *(_number(v) for v in values)]))
        lines += ["", f"From each subaccount's equity at the end of each day; {NONE}: fewer than "
                      f"{correlation.min_common_days} days with a return for both."]
    else:
        lines.append("Fewer than two live strategies: nothing to correlate.")
    lines += ["", "## Rotations and stops", ""]
    if report.changes:
        lines += [_row(["when", "what", "strategy", "subaccount", "replaced by", "reason"]), _rule(6)]
        for c in report.changes:
            what = c.kind.replace("_", " ") + ("" if c.retired else " (nothing retired)")
            lines.append(_row([_when(c.at), what, _text(c.strategy_id), _text(c.subaccount), _text(c.replacement),
                               c.reason]))
    else:
        lines.append("None this week.")
    return "\n".join(lines) + "\n"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"


def _rule(columns: int) -> str:
    return "|" + " --- |" * columns


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _text(value: object) -> str:
    return NONE if value is None else str(value)


def _percent(value: float | None, digits: int) -> str:
    return NONE if value is None or not math.isfinite(value) else f"{value:+.{digits}%}"


def _number(value: float | None) -> str:
    return NONE if value is None or not math.isfinite(value) else f"{value:+.2f}"
