"""Keep the garbage collector's full passes short once the service has loaded.

The classifier and the settings leave hundreds of thousands of long-lived objects on the
heap; every full collection walks them all and stops the event loop for 0.2-0.5 s, which
is the whole p99 budget of a webhook. Objects alive at start-up are moved to the
permanent generation so later collections only walk what requests create.
"""

import gc


def freeze_startup_heap() -> None:
    """Collect once, then exempt everything still alive from future collections."""
    gc.collect()
    gc.freeze()
