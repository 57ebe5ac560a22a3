"""execution read models: subaccounts, subaccount_positions, orders

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subaccounts",
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
    op.create_table(
        "subaccount_positions",
        sa.Column("subaccount", sa.Integer, primary_key=True),
        sa.Column("symbol", sa.Text, primary_key=True),
        sa.Column("strategy_id", sa.Text),
        sa.Column("direction", sa.Text),
        sa.Column("size", sa.Float, nullable=False),
        sa.Column("entry_price", sa.Float),
        sa.Column("updated_at", TZ),
    )
    op.create_table(
        "orders",
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


def downgrade() -> None:
    for table in ("orders", "subaccount_positions", "subaccounts"):
        op.drop_table(table)
