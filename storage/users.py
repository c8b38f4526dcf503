"""Admin accounts: argon2 password hashes, lock-out after failed logins, sessions, API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.tables_users import ROLES, AdminSession, AdminUser, UserToken

TOKEN_PREFIX = "cgu_"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UserError(ValueError):
    """A bad username, role or password, or an unknown account."""


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in person or the owner of an API token."""

    user_id: int
    username: str
    role: str
    display_name: str = ""


@dataclass(frozen=True)
class LoginOutcome:
    principal: Principal | None
    problem: str | None = None  # "bad_credentials", "locked", "disabled"
    locked_until: datetime | None = None


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")
    return password


async def find_user(session: AsyncSession, username: str) -> AdminUser | None:
    return (
        await session.execute(select(AdminUser).where(AdminUser.username == username))
    ).scalar_one_or_none()


async def add_user(
    session: AsyncSession, username: str, role: str, password: str, display_name: str = ""
) -> AdminUser:
    if not USERNAME.match(username):
        raise UserError("a username is 2-64 lower-case letters, digits, '.', '_' or '-'")
    check_role(role)
    check_password(password)
    if await find_user(session, username) is not None:
        raise UserError(f"user {username!r} exists already")
    now = utcnow()
    user = AdminUser(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=_hasher.hash(password),
        enabled=True,
        failed_logins=0,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def list_users(session: AsyncSession) -> list[AdminUser]:
    return list((await session.execute(select(AdminUser).order_by(AdminUser.username))).scalars())


async def set_user_enabled(session: AsyncSession, username: str, enabled: bool) -> None:
    """Disabling also ends the user's sessions and switches off their tokens."""
    user = await find_user(session, username)
    if user is None:
        raise UserError(f"no user {username!r}")
    user.enabled, user.updated_at = enabled, utcnow()
    if not enabled:
        await session.execute(delete(AdminSession).where(AdminSession.user_id == user.id))
        await session.execute(
            update(UserToken).where(UserToken.user_id == user.id).values(enabled=False)
        )


async def verify_login(
    session: AsyncSession, username: str, password: str, *, max_failures: int, lock: timedelta
) -> LoginOutcome:
    """Check a password; `max_failures` wrong ones in a row lock the account for `lock`."""
    user = await find_user(session, username)
    now = utcnow()
    if user is None:
        _verify(_DUMMY_HASH, password)
        return LoginOutcome(None, "bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        return LoginOutcome(None, "locked", user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until, user.failed_logins = now + lock, 0
            return LoginOutcome(None, "locked", user.locked_until)
        return LoginOutcome(None, "bad_credentials")
    if not user.enabled:
        return LoginOutcome(None, "disabled")
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return LoginOutcome(_principal(user))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _principal(user: AdminUser) -> Principal:
    return Principal(user.id, user.username, user.role, user.display_name)


async def open_session(
    session: AsyncSession, principal: Principal, lifetime: timedelta
) -> tuple[str, str]:
    """A new session: returns (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AdminSession(
            token_hash=sha256(token),
            user_id=principal.user_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    await session.execute(delete(AdminSession).where(AdminSession.expires_at < now))
    return token, csrf


async def session_principal(
    session: AsyncSession, token: str, idle: timedelta
) -> tuple[Principal, str] | None:
    """The principal and CSRF token of a live session; an idle or expired one ends here."""
    row = await session.get(AdminSession, sha256(token))
    now = utcnow()
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at + idle <= now:
        await session.delete(row)
        return None
    user = await session.get(AdminUser, row.user_id)
    if user is None or not user.enabled:
        return None
    if (now - row.last_seen_at).total_seconds() > 60:  # bounded writes on busy pages
        row.last_seen_at = now
    return _principal(user), row.csrf_token


async def close_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(AdminSession).where(AdminSession.token_hash == sha256(token)))


async def create_token(session: AsyncSession, username: str, name: str) -> str:
    """A new admin API token for `username` (shown once); it acts with the user's role."""
    user = await find_user(session, username)
    if user is None or not user.enabled:
        raise UserError(f"no enabled user {username!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        UserToken(
            user_id=user.id, name=name, token_hash=sha256(token), enabled=True, created_at=utcnow()
        )
    )
    await session.flush()
    return token


async def token_principal(session: AsyncSession, token: str) -> Principal | None:
    row = (
        await session.execute(
            select(AdminUser)
            .join(UserToken, UserToken.user_id == AdminUser.id)
            .where(UserToken.token_hash == sha256(token), UserToken.enabled, AdminUser.enabled)
        )
    ).scalar_one_or_none()
    return _principal(row) if row is not None else None
