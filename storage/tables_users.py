"""Tables of the admin side: accounts, sessions, API tokens, retraining runs, rule suggestions.

Passwords and tokens are never stored: an argon2 hash for passwords, a SHA-256 for
session and API tokens (they are long random strings, so a fast hash is enough).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables import Base, BigId, Json, TZDateTime

ROLES = ("admin", "supervisor", "channel_owner", "viewer")


class AdminUser(Base):
    """A person who signs in to the admin UI (or owns admin API tokens)."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
    updated_at: Mapped[datetime] = mapped_column(TZDateTime())


class AdminSession(Base):
    """A signed-in browser; the cookie carries the token, the row only its hash."""

    __tablename__ = "admin_session"
    __table_args__ = (Index("ix_admin_session_expires", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_user.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(TZDateTime())
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())


class UserToken(Base):
    """An admin API token; it acts with its owner's role."""

    __tablename__ = "user_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_user.id"))
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())


class RetrainRun(Base):
    """One retraining job: who asked, what it built, whether it went live and why."""

    __tablename__ = "retrain_run"
    __table_args__ = (Index("ix_retrain_run_state", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(16))  # running, promoted, kept, failed
    actor: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(TZDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class RuleSuggestion(Base):
    """A keyword proposed from corrections for a rule group; a supervisor decides on it."""

    __tablename__ = "rule_suggestion"
    __table_args__ = (Index("ix_rule_suggestion_state", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group: Mapped[str] = mapped_column(String(128))  # e.g. departments.logistics
    language: Mapped[str] = mapped_column(String(8))
    phrase: Mapped[str] = mapped_column(String(200))
    weight: Mapped[float] = mapped_column(Float, default=0.5)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    support: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    evidence: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    rules_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
    updated_at: Mapped[datetime] = mapped_column(TZDateTime())
