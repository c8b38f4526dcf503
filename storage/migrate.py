"""Apply Alembic migrations programmatically (no alembic.ini needed in the working directory)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at `url` to `revision`; safe to run on every start.

    "heads": each feature adds its tables in its own branch off the initial
    schema, so independent migrations never conflict.
    """
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a new revision against the database at `url` (developers only)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
