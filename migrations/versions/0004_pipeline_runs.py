"""pipeline runs read model

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
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
        sa.Column("started_at", TZ),
        sa.Column("completed_at", TZ),
        sa.Column("updated_at", TZ),
    )


def downgrade() -> None:
    op.drop_table("pipeline_runs")
