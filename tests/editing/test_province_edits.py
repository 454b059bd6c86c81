"""Editing in a province: a commune's editor changes its own override layer, never the guides
every commune shares (from the Telegram desk's /themcau and from the web editor)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.editor import editor_commands
from bot.http import build_http_app
from bot.storage import MemoryStorage
from bot.storage.accounts import MemoryAccountStore
from bot.web.app import WebConsole, console_routes
from bot.web.auth import AuthService, LoginLimiter
from bot.web.editor import EditorDeps, StoreEditorData, editor_routes
from flows.ports import VN_TZ, ManualClock
from knowledge.holder import LibraryHolder
from tests.app.test_province_library import commune_overrides
from tests.web.console import FAST, PASSWORD, login
from tests.web.editor_app import copy_knowledge, token

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
COMMUNE = "an-khanh"


class Province:
    def __init__(self, tmp: Path) -> None:
        self.root = copy_knowledge(tmp)
        self.own = commune_overrides(tmp / COMMUNE)
        self.clock = ManualClock(NOW)
        self.holder = LibraryHolder(
            self.root, lambda: NOW.date(), overrides=self.own, commune=COMMUNE
        )
        self.holder.load()
        self.commands = editor_commands(self.holder, MemoryStorage(), self.clock)

    def province_files(self) -> dict[Path, str]:
        return {p: p.read_text(encoding="utf-8") for p in (self.root / "guides").rglob("*.yaml")}

    async def themcau(self, *args: str) -> str:
        return await self.commands["themcau"]("Chị Lan", list(args))


@pytest.fixture
def province(tmp_path: Path) -> Province:
    return Province(tmp_path)


async def test_a_phrase_for_a_guide_the_commune_replaced_goes_into_its_own_file(
    province: Province,
) -> None:
    before = province.province_files()
    answer = await province.themcau("khai-sinh", "làm giấy khai sinh ở phường An Khánh")
    assert answer.startswith("Đã thêm câu"), answer
    own = (province.own / "guides" / "khai-sinh.yaml").read_text(encoding="utf-8")
    assert "làm giấy khai sinh ở phường An Khánh" in own
    assert province.province_files() == before
    assert province.holder.current().guide("khai-sinh") is not None


async def test_a_phrase_for_a_guide_only_the_commune_has_goes_into_its_own_file(
    province: Province,
) -> None:
    answer = await province.themcau("ho-ngheo-rieng", "xin giấy chứng nhận hộ nghèo ở An Khánh")
    assert answer.startswith("Đã thêm câu"), answer
    texts = [p.read_text(encoding="utf-8") for p in (province.own / "guides").glob("ho-ngheo*")]
    assert any("xin giấy chứng nhận hộ nghèo ở An Khánh" in t for t in texts)


async def test_a_phrase_for_a_provincial_guide_goes_into_the_communes_own_copy(
    province: Province,
) -> None:
    """As «Tạo bản riêng cho xã» does: every version of the guide is copied into the
    commune's layer and the phrase goes into the copy that serves today; no province file
    changes, and the editor is told the copy no longer follows the province's."""
    before = province.province_files()
    answer = await province.themcau("ket-hon", "đăng ký kết hôn ở An Khánh")
    assert "đã tạo bản riêng" in answer and "không tự cập nhật theo bản của tỉnh" in answer
    assert "Đã thêm câu «đăng ký kết hôn ở An Khánh»" in answer
    assert province.province_files() == before
    copies = sorted(p.name for p in (province.own / "guides" / "ho-tich").glob("ket-hon*"))
    assert copies == ["ket-hon.2027-03-01.yaml", "ket-hon.yaml"]
    today = (province.own / "guides" / "ho-tich" / "ket-hon.yaml").read_text(encoding="utf-8")
    assert "đăng ký kết hôn ở An Khánh" in today
    guide = province.holder.current().guide("ket-hon")
    assert guide is not None and "đăng ký kết hôn ở An Khánh" in guide.phrases
    again = await province.themcau("ket-hon", "kết hôn tại phường An Khánh")
    assert again.startswith("Đã thêm câu"), again  # the copy is the commune's now: extended


async def test_without_an_own_folder_the_refusal_says_why(tmp_path: Path) -> None:
    root = copy_knowledge(tmp_path)
    holder = LibraryHolder(root, lambda: NOW.date(), commune=COMMUNE)  # no overrides folder
    holder.load()
    before = {p: p.read_text(encoding="utf-8") for p in (root / "guides").rglob("*.yaml")}
    commands = editor_commands(holder, MemoryStorage(), ManualClock(NOW))
    answer = await commands["themcau"]("Chị Lan", ["ket-hon", "đăng ký kết hôn ở An Khánh"])
    assert "hướng dẫn chung của tỉnh" in answer and "chưa có thư mục hướng dẫn riêng" in answer
    assert {p: p.read_text(encoding="utf-8") for p in (root / "guides").rglob("*.yaml")} == before


async def test_a_single_commune_keeps_adding_to_its_own_library(tmp_path: Path) -> None:
    root = copy_knowledge(tmp_path)
    holder = LibraryHolder(root, lambda: NOW.date())  # no province: the library is its own
    holder.load()
    commands = editor_commands(holder, MemoryStorage(), ManualClock(NOW))
    answer = await commands["themcau"]("Chị Lan", ["ket-hon", "đăng ký kết hôn ở xã mình"])
    assert answer.startswith("Đã thêm câu"), answer
    text = (root / "guides" / "ho-tich" / "ket-hon.yaml").read_text(encoding="utf-8")
    assert "đăng ký kết hôn ở xã mình" in text


async def _console(province: Province) -> Starlette:
    """The console as bot/app.py mounts it: real sessions, accounts, login form and CSRF."""
    clock = province.clock
    auth = AuthService(MemoryAccountStore(), clock, LoginLimiter(clock), hasher=FAST)
    await auth.create_account("xa", PASSWORD, "Chị Lan", roles={COMMUNE: {"editor", "staff"}})
    await auth.create_account("tinh", PASSWORD, "Anh Tỉnh", province_admin=True)
    holders = {COMMUNE: province.holder}
    data = StoreEditorData(lambda commune: MemoryStorage())
    deps = EditorDeps(holders=holders.get, clock=clock, data=data)
    console = WebConsole(auth, secure_cookies=False)
    return build_http_app(
        console_routes(console, editor_routes(deps)), middleware=[console.middleware()]
    )


@contextlib.asynccontextmanager
async def _signed_in(app: Starlette, user: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client signed in as `user` through the login form, with its session's CSRF token."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test"
    ) as http:
        answer = await login(http, user)
        assert answer.status_code == 303, answer.text
        yield http, await token(http)


async def test_the_web_editor_refuses_a_communes_editor_the_shared_files(
    province: Province,
) -> None:
    before = province.province_files()
    base = f"/admin/{COMMUNE}/huong-dan"
    app = await _console(province)
    async with _signed_in(app, "xa") as (web, csrf):
        listing = await web.get(base)
        assert listing.status_code == 200  # the commune's own files in the library: no crash
        for action in ("sua", "gui-duyet", "dang", "bo-nhap", "khoi-phuc"):
            refused = await web.post(f"{base}/{action}/ho-tich/ket-hon", data={"csrf": csrf})
            assert refused.status_code == 403, action
            assert "hướng dẫn chung của tỉnh" in refused.text
        added = await web.post(
            f"{base}/them-cau",
            data={"csrf": csrf, "guide": "khai-tu", "question": "khai tử ở An Khánh"},
        )
        assert added.status_code == 303
        told = (await web.get(added.headers["location"])).text
        assert "đã tạo bản riêng" in told and "khai tử ở An Khánh" in told
        assert "khai tử ở An Khánh" in (
            province.own / "guides" / "ho-tich" / "khai-tu.yaml"
        ).read_text(encoding="utf-8")
        own = await web.post(
            f"{base}/them-cau",
            data={"csrf": csrf, "guide": "khai-sinh", "question": "khai sinh ở An Khánh"},
        )
        assert own.status_code == 303
        assert province.province_files() == before
        assert "khai sinh ở An Khánh" in (province.own / "guides" / "khai-sinh.yaml").read_text(
            encoding="utf-8"
        )
    # a province admin may change the shared guide
    async with _signed_in(app, "tinh") as (web, csrf):
        allowed = await web.post(
            f"{base}/them-cau",
            data={"csrf": csrf, "guide": "ket-hon", "question": "kết hôn toàn tỉnh"},
        )
        assert allowed.status_code == 303
        shared = (province.root / "guides" / "ho-tich" / "ket-hon.yaml").read_text("utf-8")
        assert "kết hôn toàn tỉnh" in shared
        page = await web.post(f"{base}/sua/ho-tich/ket-hon", data={"csrf": csrf})
        assert page.status_code != 403
