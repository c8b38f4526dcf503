"""hotline call steps

Revision ID: hotline_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "hotline_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotline_call_step",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_account_id"], ["channel_account.id"], name=op.f("fk_hotline_call_step_channel_account_id_channel_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_call_step")),
        sa.UniqueConstraint("channel_account_id", "call_sid", "step", name="uq_hotline_call_step_account_call_step"),
    )
    op.create_index("ix_hotline_call_step_created", "hotline_call_step", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_hotline_call_step_created", table_name="hotline_call_step")
    op.drop_table("hotline_call_step")
