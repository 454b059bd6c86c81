"""Zalo OpenAPI client: sending messages, keeping tokens fresh, reading every error.

- Errors come with HTTP 200 and `error != 0`: the body is always checked.
- Government OAs have been seen to get -235 on v3; we fall back to v2 once and remember it.
- Refresh tokens are single-use and rotate: the new pair is stored before it is used, and only
  one refresh runs at a time (a second concurrent refresh would burn the new token), also across
  processes sharing the database: a lease guards the refresh, and a process whose pair is stale
  takes the one another process stored instead of spending an old refresh token.
- Sends run on a send thread with a client of their own (bot.delivery.SendThread): a part Zalo
  accepted is noted in the send journal by a response hook as soon as the answer is in, not
  when the busy main event loop gets to it (the window in which a kill -9 re-sends it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from bot.config import Settings
from bot.crashpoints import send_timing
from bot.delivery import SendThread, request_accepted
from flows.ports import Clock, Storage

log = logging.getLogger(__name__)
V3 = "/v3.0/oa/message/cs"
V2 = "/v2.0/oa/message"
REFRESH = "/v4/oa/access_token"
USER_DETAIL = "/v3.0/oa/user/detail"
TOKEN_ERRORS = (-216, -220)
TRANSIENT_ERRORS = (-32,)
UNSUPPORTED = -235
REFRESH_AHEAD = dt.timedelta(hours=1)
REFRESH_LEASE = dt.timedelta(seconds=30)  # longer than a refresh request (10 s client timeout)
REFRESH_WAIT = 0.1  # seconds between looks while another process refreshes


NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# how long a send may take before we give up on its answer: far above Zalo's usual latency,
# since a send given up on may still be delivered and its retry would be a second copy
SEND_TIMEOUT = 60.0


async def note_accepted(response: httpx.Response) -> None:
    """httpx response hook of the send client: a message Zalo accepted (HTTP 200, error 0) is
    a delivered part of the current outbox entry, noted now."""
    if response.status_code != 200 or not response.request.url.path.endswith((V3, V2)):
        return
    entered = time.monotonic()
    await response.aread()
    if int(_json(response).get("error", 0) or 0) == 0:
        request_accepted()
        fake_at = response.headers.get("x-fake-at")  # only the soak's fake sends it
        if fake_at is not None:
            send_timing(float(fake_at), entered, time.monotonic())


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: int = 0
    message: str = ""
    maybe_sent: bool = False  # timed out after the request went out: Zalo may still deliver it

    @property
    def transient(self) -> bool:
        return self.error in TRANSIENT_ERRORS or (self.error == 0 and not self.ok)


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str
    expires_at: dt.datetime


class TokenStore:
    """The current token pair, kept in the database so a restart never reuses a spent one."""

    KEY = "zalo.tokens"

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def load(self) -> Tokens | None:
        raw = await self._storage.kv.get(self.KEY)
        if raw is None:
            return None
        data = json.loads(raw)
        return Tokens(
            data["access"], data["refresh"], dt.datetime.fromisoformat(data["expires_at"])
        )

    async def save(self, tokens: Tokens, now: dt.datetime) -> None:
        value = json.dumps(
            {
                "access": tokens.access,
                "refresh": tokens.refresh,
                "expires_at": tokens.expires_at.isoformat(),
            }
        )
        await self._storage.kv.set(self.KEY, value, now)

    async def claim_refresh(self, name: str, holder: str, now: dt.datetime) -> bool:
        """Only one process at a time may spend the refresh token."""
        return await self._storage.leases.acquire(name, holder, now, REFRESH_LEASE)

    async def release_refresh(self, name: str, holder: str) -> None:
        await self._storage.leases.release(name, holder)


class ZaloClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        api_base: str,
        oauth_base: str,
        app_id: str,
        app_secret: str,
        store: TokenStore,
        clock: Clock,
        backoff: tuple[float, ...] = (0.5, 1.0, 2.0),
        sends: SendThread | None = None,
    ) -> None:
        """`sends`: the thread message sends run on (with a client of their own)."""
        self._http = http
        self._sends = sends
        self._send_http = (
            httpx.AsyncClient(timeout=http.timeout, event_hooks={"response": [note_accepted]})
            if sends is not None
            else None
        )
        self._api = api_base.rstrip("/")
        self._oauth = oauth_base.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._store = store
        self._clock = clock
        self._backoff = backoff
        self._path = V3
        self._refresh_lock = asyncio.Lock()
        self._tokens: Tokens | None = None
        self._lease = f"zalo-token-refresh:{app_id}"
        self._holder = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @property
    def path(self) -> str:
        return self._path

    async def seed(self, access: str | None, refresh: str) -> None:
        """First start: take the tokens from the environment; later starts keep the stored ones
        (the environment's refresh token has been spent by then)."""
        stored = await self._store.load()
        if stored is not None:
            self._tokens = stored
            return
        now = self._clock.now()
        # Without an access token, mark it expired so the first send refreshes.
        expires = now + dt.timedelta(hours=24) if access else now - dt.timedelta(seconds=1)
        self._tokens = Tokens(access or "", refresh, expires)
        await self._store.save(self._tokens, now)

    async def _access_token(self) -> str:
        if self._tokens is None:
            self._tokens = await self._store.load()
        if self._tokens is None:
            raise RuntimeError("no Zalo tokens: set ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN")
        if self._tokens.expires_at - self._clock.now() < REFRESH_AHEAD:
            await self.refresh(self._tokens.access)
        assert self._tokens is not None
        return self._tokens.access

    async def refresh(self, stale_access: str) -> None:
        """Refresh once even if many sends noticed the expiry at the same time, in this process
        or in another one on the same database (then its stored pair is taken)."""
        async with self._refresh_lock:
            assert self._tokens is not None
            if self._tokens.access != stale_access:
                return  # someone else refreshed while we waited
            loop = asyncio.get_running_loop()
            give_up = loop.time() + REFRESH_LEASE.total_seconds()
            while not await self._store.claim_refresh(self._lease, self._holder, self._clock.now()):
                if await self._adopt_stored(stale_access):
                    return
                if loop.time() > give_up:
                    raise RuntimeError("Zalo token refresh: another process holds the lease")
                await asyncio.sleep(REFRESH_WAIT)  # another process is refreshing right now
            try:
                if not await self._adopt_stored(stale_access):
                    await self._refresh_now()
            finally:
                await self._store.release_refresh(self._lease, self._holder)

    async def _adopt_stored(self, stale_access: str) -> bool:
        """Take the pair another process stored after refreshing (ours is spent then)."""
        stored = await self._store.load()
        if stored is None or stored.access == stale_access:
            return False
        self._tokens = stored
        return True

    async def _refresh_now(self) -> None:
        assert self._tokens is not None
        response = await self._http.post(
            self._oauth + REFRESH,
            data={
                "refresh_token": self._tokens.refresh,
                "app_id": self._app_id,
                "grant_type": "refresh_token",
            },
            headers={"secret_key": self._app_secret},
        )
        body = _json(response)
        if "access_token" not in body or "refresh_token" not in body:
            log.error("Zalo token refresh failed: %s", body)
            raise RuntimeError(f"Zalo token refresh failed: {body}")
        now = self._clock.now()
        seconds = int(str(body.get("expires_in", "90000")) or 90000)
        tokens = Tokens(
            str(body["access_token"]),
            str(body["refresh_token"]),
            now + dt.timedelta(seconds=seconds),
        )
        await self._store.save(tokens, now)  # stored before use: the old refresh token is spent
        self._tokens = tokens
        log.info("Zalo access token refreshed; valid until %s", tokens.expires_at.isoformat())

    async def send(self, user_id: str, message: dict[str, Any]) -> SendResult:
        body = {"recipient": {"user_id": user_id}, "message": message}
        refreshed = False
        attempt = 0
        while True:
            token = await self._access_token()
            try:
                response = await self._post(body, token)
            except NOT_SENT as exc:  # never reached Zalo: safe to try again at once
                result = SendResult(False, 0, f"network: {type(exc).__name__}")
            except httpx.HTTPError as exc:
                # a read timeout or a dropped connection: Zalo has no idempotency key, so a
                # quick retry may be a second copy; the outbox tries again after a wait
                late = isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout)
                return SendResult(False, 0, f"network: {type(exc).__name__}", maybe_sent=late)
            else:
                if response.status_code >= 500:
                    result = SendResult(False, 0, f"HTTP {response.status_code}")
                else:
                    data = _json(response)
                    code = int(data.get("error", 0) or 0)
                    if code == 0 and response.status_code == 200:
                        return SendResult(True)
                    result = SendResult(False, code, str(data.get("message", "")))
            if result.error == UNSUPPORTED and self._path == V3:
                log.warning(
                    "Zalo v3 message API not supported for this OA (-235); using v2 from now on"
                )
                self._path = V2
                continue
            if result.error in TOKEN_ERRORS and not refreshed:
                refreshed = True
                await self.refresh(token)
                continue
            if result.transient and attempt < len(self._backoff):
                await asyncio.sleep(self._backoff[attempt])
                attempt += 1
                continue
            return result

    async def _post(self, body: dict[str, Any], token: str) -> httpx.Response:
        url, headers = self._api + self._path, {"access_token": token}
        timeout = httpx.Timeout(SEND_TIMEOUT, connect=5.0)
        if self._sends is None or self._send_http is None:
            return await self._http.post(url, json=body, headers=headers, timeout=timeout)
        post = self._send_http.post(url, json=body, headers=headers, timeout=timeout)
        return await self._sends.run(post)

    async def close(self) -> None:
        """End the send thread, closing its client there."""
        if self._sends is not None and self._send_http is not None:
            await self._sends.stop(self._send_http.aclose)

    async def display_name(self, user_id: str) -> str | None:
        """The citizen's Zalo name, so staff see who they talk to; None if it cannot be read."""
        try:
            token = await self._access_token()
            response = await self._http.get(
                self._api + USER_DETAIL,
                params={"data": json.dumps({"user_id": user_id})},
                headers={"access_token": token},
            )
        except (httpx.HTTPError, RuntimeError) as exc:
            log.info("Zalo profile of %s not available: %s", user_id, exc)
            return None
        data = _json(response)
        profile = data.get("data")
        if data.get("error", 0) != 0 or not isinstance(profile, dict):
            return None
        name = profile.get("display_name")
        return str(name)[:100] if name else None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"error": -1, "message": f"not JSON (HTTP {response.status_code})"}
    return data if isinstance(data, dict) else {"error": -1, "message": "unexpected body"}


def client_from_settings(
    settings: Settings,
    storage: Storage,
    clock: Clock,
    commune: str,
    backoff: tuple[float, ...] = (0.5, 1.0, 2.0),
) -> tuple[httpx.AsyncClient, ZaloClient]:
    """The Zalo client a commune's settings describe, with its HTTP client (closed by the
    caller): the same for the channel and for the sender process."""
    assert settings.zalo_app_id and settings.zalo_app_secret
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
    client = ZaloClient(
        http,
        settings.zalo_api_base_url,
        settings.zalo_oauth_base_url,
        settings.zalo_app_id,
        settings.zalo_app_secret.get_secret_value(),
        TokenStore(storage),
        clock,
        backoff,
        sends=SendThread(f"zalo-send-{commune}"),
    )
    return http, client


async def seed_from_settings(client: ZaloClient, settings: Settings) -> None:
    """Seed the client with the tokens configured (kept ones in storage win; see `seed`)."""
    access, refresh = settings.zalo_access_token, settings.zalo_refresh_token
    assert refresh is not None
    await client.seed(access.get_secret_value() if access else None, refresh.get_secret_value())
