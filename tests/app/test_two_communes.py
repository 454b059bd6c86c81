"""Two communes in one process, built by the production bootstrap: nothing leaks between them.

Each commune has its own Telegram bot and staff group (two fake Bot APIs on loopback); the
first also has a Zalo OA. Messages, handoffs, staff commands, reports, guides and tokens stay
with the commune they belong to.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx

from bot.app import serving
from bot.bootstrap import CommuneApp, Parts, bootstrap_all
from bot.communes import Commune, load_communes
from bot.config import Settings
from bot.report.summary import recent_report
from bot.storage import open_database
from flows.models import ConversationKey
from flows.ports import VN_TZ, ManualClock
from tests.app.test_province_library import commune_overrides
from tests.app.test_run import SUNDAY, free_port, wait_healthy
from tests.telegram.fakeapi import FakeBotApi
from tests.zalo.conftest import APP_ID, APP_SECRET, CITIZEN, OA_SECRET
from tests.zalo.fakezalo import FakeZalo, make_event, signed_request

TOKEN_A = "111111:AAAAtokenAAAAtokenAAAAtoken0"
TOKEN_B = "222222:BBBBtokenBBBBtokenBBBBtoken0"
STAFF_A = -1001111111111
STAFF_B = -1002222222222
STAFF_USER_A = 7001
STAFF_USER_B = 7002
PERSON = 42  # the same Telegram user id writes to both communes' bots


def communes_file(tmp_path: Path) -> Path:
    commune_overrides(tmp_path / "an-khanh")
    path = tmp_path / "communes.yaml"
    path.write_text(
        f"""
communes:
  - id: an-khanh
    name: Phường An Khánh
    knowledge: an-khanh
    telegram:
      token_env: AN_KHANH_TELEGRAM_TOKEN
      staff_chat_id: {STAFF_A}
      staff_names: {{{STAFF_USER_A}: Chị Lan}}
    zalo:
      app_id: "{APP_ID}"
      app_secret_env: AN_KHANH_ZALO_APP_SECRET
      oa_secret_key_env: AN_KHANH_ZALO_OA_SECRET_KEY
      refresh_token_env: AN_KHANH_ZALO_REFRESH_TOKEN
  - id: binh-minh
    name: Xã Bình Minh
    telegram:
      token_env: BINH_MINH_TELEGRAM_TOKEN
      staff_chat_id: {STAFF_B}
""",
        encoding="utf-8",
    )
    return path


ENV = {
    "AN_KHANH_TELEGRAM_TOKEN": TOKEN_A,
    "AN_KHANH_ZALO_APP_SECRET": APP_SECRET,
    "AN_KHANH_ZALO_OA_SECRET_KEY": OA_SECRET,
    "AN_KHANH_ZALO_REFRESH_TOKEN": "RT-1",
    "BINH_MINH_TELEGRAM_TOKEN": TOKEN_B,
}


def on_loopback(commune: Commune, telegram: FakeBotApi, zalo: FakeZalo) -> Commune:
    """Point the commune's real clients at the fakes (the only test-side change)."""
    settings = commune.settings.model_copy(
        update={
            "telegram_base_url": telegram.base_url,
            "telegram_poll_timeout": 1,
            "zalo_api_base_url": zalo.api_base_url,
            "zalo_oauth_base_url": zalo.oauth_base_url,
        }
    )
    return dataclasses.replace(commune, settings=settings)


async def test_two_communes_in_one_process_share_nothing(tmp_path: Path, bot_db: str) -> None:
    """On SQLite and on PostgreSQL (the `bot_db` fixture)."""
    port = free_port()
    base = Settings(
        _env_file=None,  # type: ignore[call-arg]
        communes_file=communes_file(tmp_path),
        bot_db=bot_db,
        http_host="127.0.0.1",
        http_port=port,
    )
    clock = ManualClock(SUNDAY)  # office closed: no weekly list in either staff group
    async with (
        FakeBotApi(token=TOKEN_A) as tg_a,
        FakeBotApi(token=TOKEN_B) as tg_b,
        FakeZalo(app_id=APP_ID, app_secret=APP_SECRET) as zalo,
    ):
        tg_a.staff_members[STAFF_A] = {STAFF_USER_A}
        tg_b.staff_members[STAFF_B] = {STAFF_USER_B}
        loaded = load_communes(base, ENV)
        assert [c.id for c in loaded] == ["an-khanh", "binh-minh"]
        communes = [on_loopback(loaded[0], tg_a, zalo), on_loopback(loaded[1], tg_b, zalo)]
        apps = await bootstrap_all(communes, Parts(clock=clock))
        an_khanh, binh_minh = apps
        async with serving(base, apps, tick_seconds=0.05):
            await wait_healthy(port)
            await asyncio.gather(tg_a.wait_for("getUpdates"), tg_b.wait_for("getUpdates"))

            # guides: the same question, each commune's own answer
            tg_a.push_private_text(PERSON, "khai sinh")
            tg_b.push_private_text(PERSON, "khai sinh")
            [a] = await tg_a.wait_for("sendMessage", predicate=citizen_reply)
            [b] = await tg_b.wait_for("sendMessage", predicate=citizen_reply)
            assert "Đăng ký khai sinh tại Phường An Khánh" in str(a.params["text"])
            assert "An Khánh" not in str(b.params["text"])
            assert "Đăng ký khai sinh" in str(b.params["text"])

            # handoff in the second commune: only its own staff group hears of it
            tg_b.push_private_text(PERSON, "cho tôi gặp cán bộ", first_name="Bình")
            [topic] = await tg_b.wait_for("createForumTopic")
            assert int(topic.params["chat_id"]) == STAFF_B
            assert not tg_a.calls_to("createForumTopic")

            # Zalo belongs to the first commune, at its own webhook path
            async with httpx.AsyncClient(timeout=5) as http:
                stamp = str(int(clock.now().timestamp() * 1000))
                event = make_event(
                    "user_send_text", CITIZEN, text="kết hôn", app_id=APP_ID, timestamp=stamp
                )
                body, headers = signed_request(event, OA_SECRET)
                url = f"http://127.0.0.1:{port}"
                implicit = await http.post(f"{url}/zalo/webhook", content=body, headers=headers)
                assert implicit.status_code == 404  # no implicit commune in a province
                ok = await http.post(f"{url}/zalo/an-khanh/webhook", content=body, headers=headers)
                assert ok.status_code == 200
                missing = await http.post(
                    f"{url}/zalo/binh-minh/webhook", content=body, headers=headers
                )
                assert missing.status_code == 404  # this commune has no Zalo OA
            [card] = await zalo.wait_sent(1, CITIZEN)
            assert card["text"].startswith("Đăng ký kết hôn")

            # staff commands answer in the group that asked, from that commune's data
            tg_a.push_group_command(STAFF_A, STAFF_USER_A, "/phananh")
            await tg_a.wait_for(
                "sendMessage",
                predicate=lambda c: (
                    c.ok
                    and int(c.params["chat_id"]) == STAFF_A
                    and "phản ánh" in str(c.params["text"]).lower()
                ),
            )
            await asyncio.sleep(0.2)

        # messages and handoffs: each commune's store holds only its own conversations
        await assert_stores(an_khanh, binh_minh, bot_db)
        # tokens: each fake API saw only its own bot, and never the other commune's group
        assert STAFF_B not in chat_ids(tg_a) and STAFF_A not in chat_ids(tg_b)
        assert PERSON in chat_ids(tg_a) and PERSON in chat_ids(tg_b)
        assert not tg_a.server_errors and not tg_b.server_errors


def citizen_reply(call: object) -> bool:
    params = getattr(call, "params", {})
    return bool(getattr(call, "ok", False)) and int(params.get("chat_id", 0)) == PERSON


def chat_ids(api: FakeBotApi) -> set[int]:
    return {int(c.params["chat_id"]) for c in api.calls if "chat_id" in c.params}


async def assert_stores(a: CommuneApp, b: CommuneApp, bot_db: str) -> None:
    """Both communes share one database; each commune's view holds only its own rows."""
    assert a.storage.path == b.storage.path  # one database (a URL is shown without credentials)
    database = open_database(bot_db)
    await database.open()
    try:
        store_a = database.for_commune(a.commune.id)
        store_b = database.for_commune(b.commune.id)
        telegram = ConversationKey(channel="telegram", user_id=str(PERSON))
        zalo_key = ConversationKey(channel="zalo", user_id=CITIZEN)
        found_a = await store_a.conversations.by_key(telegram)
        found_b = await store_b.conversations.by_key(telegram)
        assert found_a is not None and found_b is not None and found_a.id != found_b.id
        assert found_a.key.commune == "an-khanh" and found_b.key.commune == "binh-minh"
        assert await store_a.conversations.by_key(zalo_key) is not None
        assert await store_b.conversations.by_key(zalo_key) is None
        today = SUNDAY.astimezone(VN_TZ).date()
        report_a = await recent_report(store_a, a.holder.knowledge, today)
        report_b = await recent_report(store_b, b.holder.knowledge, today)
        assert (report_a.citizens, report_a.handoffs) == (2, 0)  # Telegram + Zalo, no handoff
        assert (report_b.citizens, report_b.handoffs) == (1, 1)
    finally:
        await database.close()
