"""Communes serving the same guide layers share one built library (a build takes seconds and
tens of MB: a province of 100 communes must not build it 100 times); a commune with its own
overrides still answers with its own guides."""

from __future__ import annotations

from pathlib import Path

from bot.bootstrap import Parts, bootstrap_all
from bot.communes import load_communes
from bot.config import Settings
from bot.storage.memory import MemoryDatabase
from flows.models import ConversationKey, Inbound
from flows.ports import ManualClock
from tests.app.test_province_library import commune_overrides
from tests.app.test_run import SUNDAY


def communes_file(tmp_path: Path) -> Path:
    commune_overrides(tmp_path / "an-khanh")
    path = tmp_path / "communes.yaml"
    path.write_text(
        "communes:\n"
        "  - id: an-khanh\n"
        "    name: Phường An Khánh\n"
        "    knowledge: an-khanh\n"
        "  - id: binh-minh\n"
        "    name: Xã Bình Minh\n"
        "  - id: cat-lai\n"
        "    name: Phường Cát Lái\n",
        encoding="utf-8",
    )
    return path


async def test_communes_without_overrides_share_one_build(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, communes_file=communes_file(tmp_path))
    communes = load_communes(settings, {})
    apps = await bootstrap_all(
        communes, Parts(clock=ManualClock(SUNDAY), database=MemoryDatabase())
    )
    try:
        an_khanh, binh_minh, cat_lai = apps
        assert binh_minh.holder is cat_lai.holder
        assert binh_minh.holder.current() is cat_lai.holder.current()  # one matcher, in memory once
        assert an_khanh.holder is not binh_minh.holder

        async def ask(app_index: int, commune: str) -> str:
            key = ConversationKey(channel="console", user_id="42", commune=commune)
            replies = await apps[app_index].engine.handle(Inbound(key=key, text="khai sinh"))
            return "\n".join(f"{r.title or ''}\n{r.text}" for r in replies)

        assert "Đăng ký khai sinh tại Phường An Khánh" in await ask(0, "an-khanh")
        for index, commune in ((1, "binh-minh"), (2, "cat-lai")):
            answer = await ask(index, commune)
            assert "Đăng ký khai sinh" in answer and "An Khánh" not in answer
    finally:
        for app in apps:
            await app.stop()
