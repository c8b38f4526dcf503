"""social DM conversations

Revision ID: social_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "social_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "chat_conversation",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("channel_account_id", BIG_ID, nullable=False),
        sa.Column("person", sa.String(length=256), nullable=False),
        sa.Column("open_key", sa.String(length=300), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("follow_up_of", sa.String(length=32), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw_id", BIG_ID, nullable=True),
        sa.Column("reference", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_account.id"],
            name=op.f("fk_chat_conversation_channel_account_id_channel_account"),
        ),
        sa.ForeignKeyConstraint(
            ["raw_id"], ["raw_message.id"], name=op.f("fk_chat_conversation_raw_id_raw_message")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_conversation")),
        sa.UniqueConstraint("open_key", name=op.f("uq_chat_conversation_open_key")),
    )
    op.create_index(
        "ix_chat_conversation_state_due", "chat_conversation", ["state", "due_at"], unique=False
    )
    op.create_index(
        "ix_chat_conversation_person",
        "chat_conversation",
        ["channel_account_id", "person", "closed_at"],
        unique=False,
    )
    op.create_table(
        "chat_message",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", BIG_ID, nullable=False),
        sa.Column("raw_id", BIG_ID, nullable=False),
        sa.Column("provider_id", sa.String(length=512), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversation.id"],
            name=op.f("fk_chat_message_conversation_id_chat_conversation"),
        ),
        sa.ForeignKeyConstraint(
            ["raw_id"], ["raw_message.id"], name=op.f("fk_chat_message_raw_id_raw_message")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_message")),
        sa.UniqueConstraint("raw_id", name=op.f("uq_chat_message_raw_id")),
    )
    op.create_index(
        "ix_chat_message_conversation", "chat_message", ["conversation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_chat_message_conversation", table_name="chat_message")
    op.drop_table("chat_message")
    op.drop_index("ix_chat_conversation_person", table_name="chat_conversation")
    op.drop_index("ix_chat_conversation_state_due", table_name="chat_conversation")
    op.drop_table("chat_conversation")
