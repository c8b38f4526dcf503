"""What each role may do, in one table: the UI, the admin API and the CLI all ask here."""

from __future__ import annotations

from enum import StrEnum


class Perm(StrEnum):
    RECORDS_READ = "records.read"
    PERSONAL_DATA = "records.personal"  # names, phones, addresses, the raw original
    CORRECT = "records.correct"
    REVIEW = "review"
    CHANNELS_READ = "channels.read"
    CHANNELS_WRITE = "channels.write"
    ROUTING_READ = "routing.read"
    ROUTING_WRITE = "routing.write"
    REPLAY = "deadletters.replay"
    MODELS_READ = "models.read"
    MODELS_WRITE = "models.write"  # retrain, promote, roll back
    RULES_WRITE = "rules.write"
    DASHBOARD = "dashboard"


_ALL = frozenset(Perm)
GRANTS: dict[str, frozenset[Perm]] = {
    "admin": _ALL,
    "supervisor": frozenset(
        {
            Perm.RECORDS_READ,
            Perm.PERSONAL_DATA,
            Perm.CORRECT,
            Perm.REVIEW,
            Perm.CHANNELS_READ,
            Perm.ROUTING_READ,
            Perm.MODELS_READ,
            Perm.MODELS_WRITE,
            Perm.RULES_WRITE,
            Perm.DASHBOARD,
        }
    ),
    "channel_owner": frozenset(
        {
            Perm.RECORDS_READ,
            Perm.CHANNELS_READ,
            Perm.CHANNELS_WRITE,
            Perm.ROUTING_READ,
            Perm.REPLAY,
            Perm.DASHBOARD,
        }
    ),
    "viewer": frozenset({Perm.RECORDS_READ, Perm.MODELS_READ, Perm.DASHBOARD}),
}


def allowed(role: str | None, perm: Perm) -> bool:
    return role is not None and perm in GRANTS.get(role, frozenset())


def admin_api_permission(method: str, path: str) -> Perm:
    """The permission a request to `/api/v1/admin/…` needs."""
    rest = path.removeprefix("/api/v1/admin/")
    reading = method in ("GET", "HEAD")
    if rest.startswith("complaints/"):
        return Perm.RECORDS_READ if reading else Perm.CORRECT
    if rest.startswith("deliveries"):
        return Perm.ROUTING_READ if reading else Perm.REPLAY
    if rest.startswith(("models", "retrain")):
        return Perm.MODELS_READ if reading else Perm.MODELS_WRITE
    if rest.startswith("routes/test"):
        return Perm.ROUTING_READ
    if rest.startswith(("routing", "routes", "destinations")):
        return Perm.ROUTING_READ if reading else Perm.ROUTING_WRITE
    return Perm.ROUTING_WRITE if not reading else Perm.RECORDS_READ
