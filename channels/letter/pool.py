"""The OCR worker processes: CPU-heavy reading stays off the service's event loop.

One pool per service process, started on first use with the `spawn` method (no copy
of the parent's event loop or threads), each worker loading its OCR engine once. Size:
`LETTER_OCR_PROCESSES` (default: half the cores, at least one — RapidOCR needs
~700 MB per worker). A worker killed mid-page (out of memory) breaks the pool; it is
rebuilt and the file tried once more.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def pool_size() -> int:
    configured = os.environ.get("LETTER_OCR_PROCESSES")
    if configured:
        return max(1, int(configured))
    return max(1, (os.cpu_count() or 1) // 2)


def _init_worker() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - cv2 comes with rapidocr
        pass


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=pool_size(),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
            )
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def run_in_pool(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in an OCR worker process; blocks the calling thread until done."""
    for attempt in (1, 2):
        pool = _get_pool()
        try:
            return pool.submit(function, *args).result()
        except BrokenProcessPool:
            _discard(pool)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def shutdown() -> None:
    """Stop the workers (tests and clean exits); the next use starts a new pool."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
