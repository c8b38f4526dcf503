"""Which destinations a classified complaint goes to (SPEC §5).

valid → its department's destinations (or the default list); major → also
the escalation destinations; needs_review → the review destinations;
invalid → nowhere (the record is kept and answered, not routed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from storage.records import Classification


@dataclass(frozen=True)
class RoutingTable:
    departments: Mapping[str, Sequence[str]] = field(default_factory=dict)
    default: Sequence[str] = ()
    escalation: Sequence[str] = ()
    review: Sequence[str] = ()


@dataclass(frozen=True)
class Target:
    destination: str
    purpose: str  # "route", "escalation" or "review"


def plan_routes(decision: Classification, table: RoutingTable) -> list[Target]:
    """Destinations for `decision`, each once, in a stable order."""
    targets: list[Target] = []
    if decision.needs_review:
        targets += [Target(name, "review") for name in table.review]
    if decision.validity == "valid":
        names = table.departments.get(decision.department or "", table.default)
        targets += [Target(name, "route") for name in names]
        if decision.severity == "major":
            targets += [Target(name, "escalation") for name in table.escalation]
    seen: set[str] = set()
    unique = []
    for target in targets:
        if target.destination not in seen:
            seen.add(target.destination)
            unique.append(target)
    return unique


def filter_fields(record: Mapping[str, object], allowed: Sequence[str] | None) -> dict[str, object]:
    """The record as a destination may see it (SPEC §9: personal data only where needed)."""
    if allowed is None:
        return dict(record)
    keep = set(allowed) | {"reference"}
    return {key: value for key, value in record.items() if key in keep}
