"""The one encoding of instants as integers: UTC microseconds since the epoch.

Stored next to ISO-8601 text wherever SQL must compare or order times, because ISO strings with
different UTC offsets do not sort by instant.
"""

from __future__ import annotations

import datetime as dt

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_us(moment: dt.datetime) -> int:
    """`moment` (aware) as UTC microseconds since the epoch."""
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def from_us(value: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=value)
