"""routing: live routing table, SLA clocks, batch incidents, correction examples

Revision ID: routing_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "routing_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "routing_destination",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routing_destination"),
        sa.UniqueConstraint("name", name="uq_routing_destination_name"),
    )
    op.create_table(
        "routing_route",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("selector", sa.String(128), nullable=False),
        sa.Column("destinations", JSON, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routing_route"),
        sa.UniqueConstraint("selector", name="uq_routing_route_selector"),
    )
    op.create_table(
        "complaint_clock",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("complaint_id", ID, nullable=False),
        sa.Column("clock", sa.String(32), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("met_at", TS, nullable=True),
        sa.Column("overdue_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaint.id"], name="fk_complaint_clock_complaint_id_complaint"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_clock"),
        sa.UniqueConstraint("complaint_id", "clock", name="uq_complaint_clock_complaint_clock"),
    )
    op.create_index(
        "ix_complaint_clock_open_due", "complaint_clock", ["overdue_at", "met_at", "due_at"]
    )
    op.create_table(
        "batch_incident",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("open_key", sa.String(200), nullable=True),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("last_at", TS, nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_batch_incident"),
        sa.UniqueConstraint("open_key", name="uq_batch_incident_open_key"),
    )
    op.create_table(
        "complaint_batch_key",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("complaint_id", ID, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name="fk_complaint_batch_key_complaint_id_complaint",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_batch_key"),
    )
    op.create_index(
        "ix_complaint_batch_key_key_received", "complaint_batch_key", ["key", "received_at"]
    )
    op.create_table(
        "correction_example",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("complaint_id", ID, nullable=False),
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("previous", JSON, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name="fk_correction_example_complaint_id_complaint",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_correction_example"),
    )
    op.create_index("ix_correction_example_created", "correction_example", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_correction_example_created", table_name="correction_example")
    op.drop_table("correction_example")
    op.drop_index("ix_complaint_batch_key_key_received", table_name="complaint_batch_key")
    op.drop_table("complaint_batch_key")
    op.drop_table("batch_incident")
    op.drop_index("ix_complaint_clock_open_due", table_name="complaint_clock")
    op.drop_table("complaint_clock")
    op.drop_table("routing_route")
    op.drop_table("routing_destination")
