"""validation results read model; strategies carry their latest validation and their provenance

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("strategies", sa.Column("validation_status", sa.Text))
    op.add_column("strategies", sa.Column("latest_validation_id", sa.Text))
    op.add_column("strategies", sa.Column("provenance", JSONB))
    op.create_table(
        "validation_results",
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
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("validation_results")
    op.drop_column("strategies", "provenance")
    op.drop_column("strategies", "latest_validation_id")
    op.drop_column("strategies", "validation_status")
