"""The registry of channel kinds, looked up by name (`api`, `email.imap`, …)."""

from __future__ import annotations

from channels.base import ChannelType

_KINDS: dict[str, ChannelType] = {}


class UnknownChannelKind(LookupError):
    pass


def register(kind: ChannelType) -> ChannelType:
    _KINDS[kind.kind] = kind
    return kind


def get_kind(name: str) -> ChannelType:
    _load_builtin_kinds()
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise UnknownChannelKind(f"unknown channel kind {name!r} (known: {known})") from None


def all_kinds() -> list[ChannelType]:
    _load_builtin_kinds()
    return [_KINDS[name] for name in sorted(_KINDS)]


_builtin_loaded = False


def _load_builtin_kinds() -> None:
    """Import the built-in kinds once; each module registers itself.

    A flag, not "is the registry empty": importing one kind's module directly
    (e.g. `channels.api` for its request model) registers it before this runs.
    """
    global _builtin_loaded
    if _builtin_loaded:
        return
    _builtin_loaded = True
    from channels import (
        api,  # noqa: F401
        letter,  # noqa: F401
        webform,  # noqa: F401
    )
    from channels.email import kinds as email_kinds  # noqa: F401
    from channels.hotline import kind as hotline_kind  # noqa: F401
    from channels.social import meta as social_meta  # noqa: F401
    from channels.social import telegram as social_telegram  # noqa: F401
    from channels.social import wechat as social_wechat  # noqa: F401
    from channels.social import whatsapp as social_whatsapp  # noqa: F401
