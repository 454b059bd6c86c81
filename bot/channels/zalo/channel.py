"""Assembles the Zalo channel from settings: HTTP client, tokens, outbox, webhook receiver."""

from __future__ import annotations

import datetime as dt

from bot.channels.zalo.client import client_from_settings, seed_from_settings
from bot.channels.zalo.outbox import ZaloOutbox
from bot.channels.zalo.webhook import ZaloReceiver
from bot.config import Settings
from flows.engine import Engine
from flows.models import DEFAULT_COMMUNE
from flows.ports import Clock, Storage


class ZaloChannel:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        clock: Clock,
        backoff: tuple[float, ...] = (0.5, 1.0, 2.0),
        commune: str = DEFAULT_COMMUNE,
    ) -> None:
        assert settings.zalo_app_id and settings.zalo_app_secret and settings.zalo_oa_secret_key
        assert settings.zalo_refresh_token is not None
        self._settings = settings
        self._clock = clock
        self.http, self.client = client_from_settings(settings, storage, clock, commune, backoff)
        self.outbox = ZaloOutbox(self.client, storage, clock)
        self.receiver = ZaloReceiver(
            storage,
            self.outbox,
            clock,
            settings.zalo_oa_secret_key.get_secret_value(),
            settings.zalo_app_secret.get_secret_value(),
            settings.zalo_signature_variants,
            dt.timedelta(seconds=settings.zalo_max_skew_seconds),
            commune=commune,
        )

    def bind(self, engine: Engine) -> None:
        self.receiver.bind(engine)

    async def start(self) -> None:
        await seed_from_settings(self.client, self._settings)
        self.receiver.start()

    async def stop(self) -> None:
        await self.receiver.stop()
        await self.client.close()
        await self.http.aclose()

    def health(self) -> str | None:
        return self.receiver.health()
