"""Prebuilt multi-row inserts shared by the bulk paths (transcript import, chat intake
and chat closing): blobs by content hash and raw rows by provider id, both idempotent."""

from __future__ import annotations

from storage.tables import Blob, RawMessage, table_of
from storage.upsert import PerDialect

RAW = table_of(RawMessage)

INSERT_BLOBS = PerDialect(
    lambda dialect: dialect.insert(table_of(Blob)).on_conflict_do_nothing(index_elements=["sha256"])
)


def _insert_raws_returning(*columns: str) -> PerDialect:
    return PerDialect(
        lambda dialect: (
            dialect.insert(RAW)
            .on_conflict_do_nothing(index_elements=["channel_account_id", "provider_id"])
            .returning(*(RAW.c[name] for name in columns))
        )
    )


# Raw rows newly inserted, as (id, provider_id); a re-delivery returns nothing.
INSERT_RAWS = _insert_raws_returning("id", "provider_id")
# The same, with the account, for batches spanning several accounts.
INSERT_RAWS_WITH_ACCOUNT = _insert_raws_returning("id", "channel_account_id", "provider_id")
