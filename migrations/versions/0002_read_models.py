"""read models: strategies, backtest_results, live_trades, performance_snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "strategies",
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
        sa.Column("created_at", TZ),
        sa.Column("updated_at", TZ),
    )
    op.create_table(
        "backtest_results",
        sa.Column("backtest_id", sa.Text, primary_key=True),
        sa.Column("strategy_id", sa.Text, nullable=False, index=True),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("timeframe", sa.Text, nullable=False),
        sa.Column("period_start", TZ, nullable=False),
        sa.Column("period_end", TZ, nullable=False),
        sa.Column("total_trades", sa.Integer, nullable=False),
        sa.Column("win_rate", sa.Float, nullable=False),
        sa.Column("sharpe", sa.Float, nullable=False),
        sa.Column("total_return", sa.Float, nullable=False),
        sa.Column("max_drawdown", sa.Float, nullable=False),
        sa.Column("expectancy", sa.Float, nullable=False),
        sa.Column("metrics", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "live_trades",
        sa.Column("trade_id", sa.Text, primary_key=True),
        sa.Column("subaccount", sa.Integer, nullable=False, index=True),
        sa.Column("strategy_id", sa.Text, nullable=False, index=True),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("size", sa.Float, nullable=False),
        sa.Column("entry_price", sa.Float, nullable=False),
        sa.Column("exit_price", sa.Float, nullable=False),
        sa.Column("entry_time", TZ, nullable=False),
        sa.Column("exit_time", TZ, nullable=False),
        sa.Column("pnl", sa.Float, nullable=False),
        sa.Column("fees", sa.Float, nullable=False),
        sa.Column("exit_reason", sa.Text, nullable=False),
    )
    op.create_table(
        "performance_snapshots",
        sa.Column("snapshot_id", sa.Text, primary_key=True),
        sa.Column("subaccount", sa.Integer, nullable=False, index=True),
        sa.Column("strategy_id", sa.Text),
        sa.Column("taken_at", TZ, nullable=False),
        sa.Column("equity", sa.Float, nullable=False),
        sa.Column("cash", sa.Float, nullable=False),
        sa.Column("realized_pnl", sa.Float, nullable=False),
        sa.Column("unrealized_pnl", sa.Float, nullable=False),
        sa.Column("peak_equity", sa.Float, nullable=False),
        sa.Column("drawdown", sa.Float, nullable=False),
        sa.Column("daily_pnl", sa.Float, nullable=False),
        sa.Column("open_positions", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("performance_snapshots", "live_trades", "backtest_results", "strategies"):
        op.drop_table(table)
