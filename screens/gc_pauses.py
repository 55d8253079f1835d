"""Keeping the garbage collector's pauses off the event loop short.

A full collection scans every object the process tracks. Everything a session loads and keeps
(botocore's service models, the in-app sandbox's whole AWS emulation) makes hundreds of
thousands of them, and such a collection holds the event loop 100-300 ms, at whatever moment
the allocations happen to trigger it. Once the oldest generation has grown large, its objects
are moved out of the collector's sight (`gc.freeze`): later collections scan only what is newer.

The cost: a reference cycle that was already garbage when frozen is never freed. Freezing only
after the oldest generation has grown by tens of thousands of objects (a step's work done) keeps
that to a few times per session.
"""

from __future__ import annotations

import gc

GROWN = 50_000
"""Objects in the oldest generation past which they are frozen (about a 30 ms scan)."""


def freeze_if_grown() -> bool:
    """Freeze the oldest generation when it holds more than `GROWN` objects (True when it
    did). Counting it costs a walk of that generation only, which freezing keeps small."""
    if len(gc.get_objects(generation=2)) <= GROWN:
        return False
    gc.freeze()
    return True
