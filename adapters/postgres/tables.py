"""Table definitions the adapters query; migrations/ creates them (tests check they agree)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    sa.Column("global_position", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("stream_id", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    sa.UniqueConstraint("event_id", name="uq_events_event_id"),
)

projection_checkpoints = sa.Table(
    "projection_checkpoints",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

strategies = sa.Table(
    "strategies",
    metadata,
    sa.Column("strategy_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("strategy_type", sa.Text),
    sa.Column("timeframe", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("generator", sa.Text),
    sa.Column("code", sa.Text),
    sa.Column("prompt", sa.Text),
    sa.Column("pattern_id", sa.Text),
    sa.Column("latest_backtest_id", sa.Text),
    sa.Column("score", sa.Float),
    sa.Column("rank", sa.Integer),
    sa.Column("subaccount", sa.Integer),
    sa.Column("deploy_mode", sa.Text),
    sa.Column("retired_reason", sa.Text),
    sa.Column("validation_status", sa.Text),
    sa.Column("latest_validation_id", sa.Text),
    sa.Column("provenance", JSONB),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

backtest_results = sa.Table(
    "backtest_results",
    metadata,
    sa.Column("backtest_id", sa.Text, primary_key=True),
    sa.Column("strategy_id", sa.Text, nullable=False, index=True),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("timeframe", sa.Text, nullable=False),
    sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
    sa.Column("total_trades", sa.Integer, nullable=False),
    sa.Column("win_rate", sa.Float, nullable=False),
    sa.Column("sharpe", sa.Float, nullable=False),
    sa.Column("total_return", sa.Float, nullable=False),
    sa.Column("max_drawdown", sa.Float, nullable=False),
    sa.Column("expectancy", sa.Float, nullable=False),
    sa.Column("metrics", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

live_trades = sa.Table(
    "live_trades",
    metadata,
    sa.Column("trade_id", sa.Text, primary_key=True),
    sa.Column("subaccount", sa.Integer, nullable=False, index=True),
    sa.Column("strategy_id", sa.Text, nullable=False, index=True),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("size", sa.Float, nullable=False),
    sa.Column("entry_price", sa.Float, nullable=False),
    sa.Column("exit_price", sa.Float, nullable=False),
    sa.Column("entry_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("exit_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("pnl", sa.Float, nullable=False),
    sa.Column("fees", sa.Float, nullable=False),
    sa.Column("exit_reason", sa.Text, nullable=False),
)

performance_snapshots = sa.Table(
    "performance_snapshots",
    metadata,
    sa.Column("snapshot_id", sa.Text, primary_key=True),
    sa.Column("subaccount", sa.Integer, nullable=False, index=True),
    sa.Column("strategy_id", sa.Text),
    sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("equity", sa.Float, nullable=False),
    sa.Column("cash", sa.Float, nullable=False),
    sa.Column("realized_pnl", sa.Float, nullable=False),
    sa.Column("unrealized_pnl", sa.Float, nullable=False),
    sa.Column("peak_equity", sa.Float, nullable=False),
    sa.Column("drawdown", sa.Float, nullable=False),
    sa.Column("daily_pnl", sa.Float, nullable=False),
    sa.Column("open_positions", sa.Integer, nullable=False),
)

validation_results = sa.Table(
    "validation_results",
    metadata,
    sa.Column("validation_id", sa.Text, primary_key=True),
    sa.Column("strategy_id", sa.Text, index=True),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("code_sha256", sa.Text, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("sandbox_ok", sa.Boolean),
    sa.Column("ast_ok", sa.Boolean),
    sa.Column("lookahead_free", sa.Boolean),
    sa.Column("shuffle_p_value", sa.Float),
    sa.Column("deflated_sharpe", sa.Float),
    sa.Column("walk_forward_passed", sa.Boolean),
    sa.Column("reasons", JSONB, nullable=False),
    sa.Column("report", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("request", JSONB),
    sa.Column("generation", JSONB),
    sa.Column("candidates", sa.Integer),
    sa.Column("evaluated", sa.Integer),
    sa.Column("passed", sa.Integer),
    sa.Column("selected", JSONB),
    sa.Column("last_evaluated", sa.Text),
    sa.Column("report", JSONB),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

TZ = sa.DateTime(timezone=True)

subaccounts = sa.Table(
    "subaccounts",
    metadata,
    sa.Column("subaccount", sa.Integer, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("strategy_id", sa.Text),
    sa.Column("mode", sa.Text),
    sa.Column("capital", sa.Float),
    sa.Column("assigned_at", TZ),
    sa.Column("previous_strategy_id", sa.Text),
    sa.Column("unassigned_reason", sa.Text),
    sa.Column("account_value", sa.Float),
    sa.Column("last_reconciled_at", TZ),
    sa.Column("last_differences", sa.Integer),
    sa.Column("last_reconciliation", JSONB),
    sa.Column("updated_at", TZ),
)

subaccount_positions = sa.Table(
    "subaccount_positions",
    metadata,
    sa.Column("subaccount", sa.Integer, primary_key=True),
    sa.Column("symbol", sa.Text, primary_key=True),
    sa.Column("strategy_id", sa.Text),
    sa.Column("direction", sa.Text),
    sa.Column("size", sa.Float, nullable=False),
    sa.Column("entry_price", sa.Float),
    sa.Column("updated_at", TZ),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.Text, primary_key=True),
    sa.Column("subaccount", sa.Integer, nullable=False, index=True),
    sa.Column("strategy_id", sa.Text, index=True),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("side", sa.Text),
    sa.Column("size", sa.Float),
    sa.Column("trigger_price", sa.Float),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("filled_size", sa.Float),
    sa.Column("average_price", sa.Float),
    sa.Column("reason", sa.Text),
    sa.Column("created_at", TZ),
    sa.Column("updated_at", TZ),
)

READ_MODEL_TABLES = {t.name: t for t in (strategies, backtest_results, live_trades, performance_snapshots,
                                         validation_results, pipeline_runs, subaccounts, subaccount_positions,
                                         orders)}
