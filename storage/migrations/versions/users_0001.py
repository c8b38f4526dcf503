"""users: admin accounts, sessions, API tokens, retraining runs, rule suggestions, record search

Revision ID: users_0001
Revises: 0001

Search: SQLite gets an FTS5 table with the trigram tokenizer (any 3 characters, so
Chinese needs no segmenter) kept in step by triggers; PostgreSQL gets a pg_trgm GIN
index on the record's subject + body + reference, which serves ILIKE '%…%'.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "users_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)

SQLITE_TEXT = (
    "coalesce(json_extract({row}.record, '$.subject'), '') || ' ' || "
    "coalesce(json_extract({row}.record, '$.body'), '')"
)
PG_TEXT = (
    "(coalesce(record->>'subject', '') || ' ' || coalesce(record->>'body', '') "
    "|| ' ' || reference)"
)


def upgrade() -> None:
    op.create_table(
        "admin_user",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("last_login_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_user"),
        sa.UniqueConstraint("username", name="uq_admin_user_username"),
    )
    op.create_table(
        "admin_session",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["admin_user.id"], name="fk_admin_session_user_id_admin_user"
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_admin_session"),
    )
    op.create_index("ix_admin_session_expires", "admin_session", ["expires_at"])
    op.create_table(
        "user_token",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["admin_user.id"], name="fk_user_token_user_id_admin_user"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_token"),
        sa.UniqueConstraint("token_hash", name="uq_user_token_token_hash"),
    )
    op.create_table(
        "retrain_run",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("report", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retrain_run"),
    )
    op.create_index("ix_retrain_run_state", "retrain_run", ["state"])
    op.create_table(
        "rule_suggestion",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("group", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("phrase", sa.String(200), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("support", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("rules_version", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rule_suggestion"),
    )
    op.create_index("ix_rule_suggestion_state", "rule_suggestion", ["state"])
    op.create_index("ix_complaint_received", "complaint", ["received_at"])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_search()
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX ix_complaint_text_trgm ON complaint USING gin ({PG_TEXT} gin_trgm_ops)"
        )


def _sqlite_search() -> None:
    new = SQLITE_TEXT.format(row="new")
    op.execute(
        "CREATE VIRTUAL TABLE complaint_fts USING fts5(reference, text, tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER complaint_fts_insert AFTER INSERT ON complaint BEGIN "
        f"INSERT INTO complaint_fts(rowid, reference, text) VALUES (new.id, new.reference, {new}); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER complaint_fts_update AFTER UPDATE OF record ON complaint BEGIN "
        "DELETE FROM complaint_fts WHERE rowid = old.id; "
        f"INSERT INTO complaint_fts(rowid, reference, text) VALUES (new.id, new.reference, {new}); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER complaint_fts_delete AFTER DELETE ON complaint BEGIN "
        "DELETE FROM complaint_fts WHERE rowid = old.id; END"
    )
    op.execute(
        "INSERT INTO complaint_fts(rowid, reference, text) "
        f"SELECT id, reference, {SQLITE_TEXT.format(row='complaint')} FROM complaint"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS complaint_fts_{name}")
        op.execute("DROP TABLE IF EXISTS complaint_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_complaint_text_trgm")
    op.drop_index("ix_complaint_received", table_name="complaint")
    for table in ("rule_suggestion", "retrain_run", "user_token", "admin_session", "admin_user"):
        op.drop_table(table)
