"""e-mail threading: message id → complaint reference

Revision ID: email_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "email_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_thread",
        sa.Column("message_id", sa.String(length=512), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_message_thread")),
    )
    op.create_index("ix_message_thread_reference", "message_thread", ["reference"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_message_thread_reference", table_name="message_thread")
    op.drop_table("message_thread")
