"""Per-session (and per-address, for new sessions) rate limits: token buckets on the injected
clock, so tests move time by hand and nothing depends on machine speed."""

from __future__ import annotations

from dataclasses import dataclass

from flows.ports import Clock

MAX_TRACKED = 20_000  # buckets kept in memory; full (idle) ones are dropped beyond this


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    def __init__(self, clock: Clock, burst: int, per_second: float) -> None:
        self._clock = clock
        self._burst = float(burst)
        self._rate = per_second
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str) -> bool:
        now = self._clock.now().timestamp()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _prune(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.at) * self._rate >= self._burst:
                del self._buckets[key]
        if len(self._buckets) >= MAX_TRACKED:  # all busy: forget the oldest half
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].at)[: MAX_TRACKED // 2]:
                del self._buckets[key]
