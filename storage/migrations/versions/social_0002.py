"""social DM inbox: chat messages kept by the webhook, joined to conversations later

Revision ID: social_0002
Revises: social_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "social_0002"
down_revision = "social_0001"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "chat_inbox",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("raw_id", BIG_ID, nullable=False),
        sa.Column("channel_account_id", BIG_ID, nullable=False),
        sa.Column("provider_id", sa.String(length=512), nullable=False),
        sa.Column("person", sa.String(length=256), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("closes", sa.String(length=16), nullable=True),
        sa.Column("quiet_seconds", sa.Float(), nullable=False),
        sa.Column("follow_up_seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_account.id"],
            name=op.f("fk_chat_inbox_channel_account_id_channel_account"),
        ),
        sa.ForeignKeyConstraint(
            ["raw_id"], ["raw_message.id"], name=op.f("fk_chat_inbox_raw_id_raw_message")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_inbox")),
        sa.UniqueConstraint("raw_id", name=op.f("uq_chat_inbox_raw_id")),
    )


def downgrade() -> None:
    op.drop_table("chat_inbox")
