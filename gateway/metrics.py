"""Prometheus metrics (SPEC §8): per channel received / processed / failed and latency."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from storage.db import SqliteTransactions

REGISTRY = CollectorRegistry(auto_describe=True)

RECEIVED = Counter("gateway_received_total", "Inputs archived", ["channel"], registry=REGISTRY)
DUPLICATES = Counter(
    "gateway_duplicates_total", "Inputs recognised as re-deliveries", ["channel"], registry=REGISTRY
)
PROCESSED = Counter(
    "gateway_processed_total",
    "Inputs turned into complaint records",
    ["channel"],
    registry=REGISTRY,
)
FAILED = Counter(
    "gateway_failed_total", "Inputs whose processing failed", ["channel"], registry=REGISTRY
)
REJECTED = Counter(
    "gateway_rejected_total", "Requests refused with a 4xx", ["reason"], registry=REGISTRY
)
LATENCY = Histogram(
    "gateway_pipeline_latency_seconds",
    "From receipt to stored, classified record",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
ROUTED = Counter(
    "gateway_routed_total", "Outbox rows written", ["department", "purpose"], registry=REGISTRY
)
DELIVERIES = Counter(
    "gateway_delivery_attempts_total",
    "Delivery attempts by outcome",
    ["destination", "outcome"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge("gateway_queue_depth", "Jobs waiting to run", registry=REGISTRY)
OUTBOX_STATE = Gauge(
    "gateway_outbox_rows", "Outbox rows by delivery state", ["state"], registry=REGISTRY
)
RAW_STATE = Gauge(
    "gateway_raw_messages", "Archived inputs by pipeline state", ["state"], registry=REGISTRY
)
OVERDUE = Counter(
    "gateway_overdue_total",
    "SLA clocks that went overdue",
    ["department", "clock"],
    registry=REGISTRY,
)
OVERDUE_OPEN = Gauge(
    "gateway_overdue_open",
    "Overdue SLA clocks not yet met, by department (from the database)",
    ["department", "clock"],
    registry=REGISTRY,
)
SQLITE_TRANSACTIONS = Gauge(
    "gateway_sqlite_transactions",
    "Transactions begun on the embedded SQLite database by this process (only grows)",
    registry=REGISTRY,
)
SQLITE_TRANSACTIONS.set_function(lambda: SqliteTransactions.begun)
