"""The registry of destination kinds (DESIGN.md "Extension points").

A destination kind turns configured settings into a sender: an object whose
`send` takes one prepared delivery and returns an `Outcome`. Its constructor
validates the settings, so a misconfigured destination is refused when it is
saved (`check_destination`), not when the first complaint is sent.

What a sender needs from the running service (secrets, the SMTP relay, the
archive, Redis) arrives as `DestinationTools`, so this package never imports
the gateway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

from pydantic import ValidationError

from routing.outcome import Outcome


@dataclass(frozen=True)
class Delivery:
    """One outbox row as a sender sees it."""

    destination: str
    purpose: str  # "route", "escalation", "review", "withdraw", "overdue", "repeat", "batch"
    idempotency_key: str
    payload: dict[str, Any]
    attempt: int
    headers: dict[str, str] = field(default_factory=dict)


class DeliveryError(Exception):
    """Raised by a tool (e.g. the mail relay) when a send failed; `retry` says if it may pass."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class DestinationError(ValueError):
    """A destination's settings cannot work: bad URL, unknown kind, missing secret, …"""


@dataclass(frozen=True)
class DestinationTools:
    """Services a sender may use, supplied by whoever composes the application."""

    resolve_secret: Callable[[str], str]
    send_mail: Callable[[EmailMessage], Awaitable[None]] | None = None
    load_blob: Callable[[str], Awaitable[bytes | None]] | None = None  # "blob:<sha>" → bytes
    redis_url: str | None = None


class Sender(Protocol):
    async def send(self, delivery: Delivery) -> Outcome: ...

    async def close(self) -> None: ...


SenderFactory = Callable[[str, dict[str, Any], DestinationTools], Sender]
"""(destination name, settings, tools) → sender; raises DestinationError on bad settings."""

_FACTORIES: dict[str, SenderFactory] = {}


def register_kind(kind: str, factory: SenderFactory) -> None:
    _FACTORIES[kind] = factory


def kinds() -> list[str]:
    _load_builtin_kinds()
    return sorted(_FACTORIES)


def build_sender(
    name: str,
    kind: str,
    settings: dict[str, Any],
    tools: DestinationTools | Callable[[str], str],
) -> Sender:
    """A sender for destination `name`; `tools` may be just a secret resolver."""
    _load_builtin_kinds()
    if not isinstance(tools, DestinationTools):
        tools = DestinationTools(resolve_secret=tools)
    try:
        factory = _FACTORIES[kind]
    except KeyError:
        raise DestinationError(
            f"unknown destination kind {kind!r} for {name!r} (known: {', '.join(kinds())})"
        ) from None
    try:
        return factory(name, settings, tools)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise DestinationError(f"destination {name!r} ({kind}): {problems}") from None
    except DestinationError:
        raise
    except ValueError as exc:  # e.g. a secret reference that resolves to nothing
        raise DestinationError(f"destination {name!r} ({kind}): {exc}") from None


async def check_destination(
    name: str, kind: str, settings: dict[str, Any], tools: DestinationTools
) -> None:
    """Raise DestinationError when the destination could not work; used before saving it."""
    sender = build_sender(name, kind, settings, tools)
    await sender.close()


def _load_builtin_kinds() -> None:
    """Import the shipped kinds (each registers itself); cheap after the first call."""
    from routing import email, queue, webhook  # noqa: F401
