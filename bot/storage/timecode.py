"""How stored times are written: ISO-8601 text, and UTC microseconds since the epoch.

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


def aware(moment: dt.datetime, what: str = "time") -> dt.datetime:
    """Refuse naive datetimes: stored times must compare correctly across offsets."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {moment.isoformat()}")
    return moment


def iso(moment: dt.datetime) -> str:
    return aware(moment).isoformat()


def iso_or_none(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def us(moment: dt.datetime) -> int:
    return to_us(aware(moment))


class Stamps:
    """`iso` and `us` of the moments of one turn, each computed once: a turn's transcript
    lines, events and state all carry the same few times."""

    def __init__(self) -> None:
        self._seen: dict[tuple[dt.datetime, dt.tzinfo | None], tuple[str, int]] = {}

    def both(self, moment: dt.datetime) -> tuple[str, int]:
        # the zone is in the key: equal instants in two zones have different ISO texts
        key = (moment, moment.tzinfo)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = (iso(moment), us(moment))
        return found

    def iso(self, moment: dt.datetime) -> str:
        return self.both(moment)[0]
