"""Dialect-aware INSERT … ON CONFLICT, the one primitive that makes intake idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, table: Table) -> Any:
    """The INSERT construct of the session's dialect (both know `on_conflict_*`)."""
    return _module(session).insert(table)


def _module(session: AsyncSession) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


class PerDialect:
    """A statement built once per dialect: building SQLAlchemy constructs per call costs
    more than running them on SQLite, so hot paths keep them prebuilt."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._build = build
        self._built: dict[str, Any] = {}

    def __call__(self, session: AsyncSession) -> Any:
        name = session.get_bind().dialect.name
        statement = self._built.get(name)
        if statement is None:
            statement = self._built[name] = self._build(_module(session))
        return statement
