"""Two processes on one database share the OA's tokens: the refresh token is single-use, so a
process whose pair went stale must take the pair the other stored, and two processes noticing
the expiry at once must refresh once (else one of them burns the other's new token and its
Zalo replies fail until a restart)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.channels.zalo.client import TokenStore, ZaloClient
from bot.storage import open_database
from flows.models import DEFAULT_COMMUNE
from flows.ports import ManualClock, Storage
from tests.zalo.conftest import APP_ID, APP_SECRET, CITIZEN, OPEN_TIME
from tests.zalo.fakezalo import FakeZalo


@pytest.fixture
async def shared(tmp_path: Path) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two processes' views of one database file (two connections)."""
    first, second = open_database(str(tmp_path / "bot.db")), open_database(str(tmp_path / "bot.db"))
    await first.open()
    await second.open()
    yield first.for_commune(DEFAULT_COMMUNE), second.for_commune(DEFAULT_COMMUNE)
    await second.close()
    await first.close()


async def two_clients(
    zalo: FakeZalo, http: httpx.AsyncClient, stores: tuple[Storage, Storage]
) -> tuple[ZaloClient, ZaloClient]:
    clock = ManualClock(OPEN_TIME)
    clients = tuple(
        ZaloClient(
            http,
            zalo.api_base_url,
            zalo.oauth_base_url,
            APP_ID,
            APP_SECRET,
            TokenStore(store),
            clock,
            backoff=(0.01,),
        )
        for store in stores
    )
    for client in clients:
        await client.seed("AT-1", "RT-1")  # both processes start from the same pair
    return clients[0], clients[1]


async def test_a_process_with_a_stale_pair_takes_the_one_the_other_stored(
    shared: tuple[Storage, Storage],
) -> None:
    async with FakeZalo(app_id=APP_ID, app_secret=APP_SECRET) as zalo, httpx.AsyncClient() as http:
        a, b = await two_clients(zalo, http, shared)
        zalo.expire_access_token()
        assert (await a.send(CITIZEN, {"text": "một"})).ok  # refreshes: RT-1 is spent
        assert (await b.send(CITIZEN, {"text": "hai"})).ok  # AT-1 refused: takes AT-2
        assert zalo.refreshes == 1
        assert [m["text"] for m in zalo.sent(CITIZEN)] == ["một", "hai"]


async def test_two_processes_noticing_the_expiry_at_once_refresh_once(
    shared: tuple[Storage, Storage],
) -> None:
    async with FakeZalo(app_id=APP_ID, app_secret=APP_SECRET) as zalo, httpx.AsyncClient() as http:
        a, b = await two_clients(zalo, http, shared)
        zalo.refresh_delay = 0.3  # the two refreshes would overlap
        zalo.expire_access_token()
        results = await asyncio.gather(
            a.send(CITIZEN, {"text": "một"}), b.send(CITIZEN, {"text": "hai"})
        )
        assert all(r.ok for r in results)
        assert zalo.refreshes == 1
        stored = await TokenStore(shared[1]).load()
        assert stored is not None and stored.refresh == zalo.refresh_token
