"""The web editor in a province: a commune's editors edit the guides of its own override layer
(validated with the province layer, reviewed and published like any edit), make the commune's
own copy of a provincial guide and edit that copy, and never change a province file; a
province admin edits the province layer. The list says where each guide comes from."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from starlette.applications import Starlette

from bot.http import build_http_app
from bot.storage import MemoryStorage
from bot.storage.accounts import MemoryAccountStore
from bot.web.app import WebConsole, console_routes
from bot.web.auth import AuthService, LoginLimiter
from bot.web.editor import EditorDeps, StoreEditorData, editor_routes
from knowledge.editing import read_edit_log
from tests.editing.test_province_edits import COMMUNE, Province
from tests.web.console import FAST, PASSWORD, login
from tests.web.editor_app import token
from tests.web.test_editor_pages import form_of

BASE = f"/admin/{COMMUNE}/huong-dan"
OWN_EDIT = f"{BASE}/rieng/sua/khai-sinh"  # a guide the commune replaced: its own file
SHARED = "ho-tich/ket-hon"  # a provincial guide the commune serves as it is
SHARED_TITLE = "Đăng ký kết hôn"


@pytest.fixture
def province(tmp_path: Path) -> Province:
    return Province(tmp_path)


async def console(province: Province, storage: MemoryStorage | None = None) -> Starlette:
    """The console as bot/app.py mounts it: real sessions, accounts, login form and CSRF; two
    editors of the commune (a change needs a second person) and a province admin."""
    clock = province.clock
    auth = AuthService(MemoryAccountStore(), clock, LoginLimiter(clock), hasher=FAST)
    for username, name in (("lan", "Chị Lan"), ("minh", "Anh Minh")):
        await auth.create_account(username, PASSWORD, name, roles={COMMUNE: {"editor"}})
    await auth.create_account("tinh", PASSWORD, "Anh Tỉnh", province_admin=True)
    holders = {COMMUNE: province.holder}
    deps = EditorDeps(
        holders=holders.get,
        clock=clock,
        data=StoreEditorData(lambda c: storage or MemoryStorage()),
        communes=holders.items,
    )
    web = WebConsole(auth, secure_cookies=False)
    return build_http_app(console_routes(web, editor_routes(deps)), middleware=[web.middleware()])


@contextlib.asynccontextmanager
async def signed_in(app: Starlette, user: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test"
    ) as http:
        answer = await login(http, user)
        assert answer.status_code == 303, answer.text
        yield http


async def review_and_publish(
    author: httpx.AsyncClient, reviewer: httpx.AsyncClient, at: str
) -> str:
    """Send the draft at `at` (e.g. `.../rieng/sua/khai-sinh`) for review, publish it as the
    other editor; the page the reviewer lands on."""
    sent = await author.post(at.replace("/sua/", "/gui-duyet/"), data={"csrf": await token(author)})
    assert sent.status_code == 303
    done = await reviewer.post(at.replace("/sua/", "/dang/"), data={"csrf": await token(reviewer)})
    assert done.status_code == 303
    return (await reviewer.get(done.headers["location"])).text


def source_paths(province: Province, guide_id: str) -> list[Path]:
    """The files the commune serves the guide from (one per dated version)."""
    return sorted(s.path for s in province.holder.knowledge.sources if s.guide.id == guide_id)


async def test_a_communes_editors_edit_and_publish_a_guide_of_its_own_layer(
    province: Province,
) -> None:
    before = province.province_files()
    own_file = province.own / "guides" / "khai-sinh.yaml"
    app = await console(province)
    async with signed_in(app, "lan") as lan, signed_in(app, "minh") as minh:
        listing = await lan.get(BASE)
        assert f'href="{OWN_EDIT}"' in listing.text  # its own file, in its own layer
        form = await form_of(lan, OWN_EDIT)
        assert form["title"] == "Đăng ký khai sinh tại Phường An Khánh"
        form["title"] = "Đăng ký khai sinh (bản của phường An Khánh)"
        saved = await lan.post(OWN_EDIT, data=form)
        assert saved.status_code == 303, saved.text
        assert "Đã lưu bản nháp" in (await lan.get(saved.headers["location"])).text
        assert "(bản của phường" not in own_file.read_text(encoding="utf-8")  # a draft only
        page = await review_and_publish(lan, minh, OWN_EDIT)
        assert "Đã duyệt" in page and "minh" in page and "Riêng của xã" in page
        history = await minh.get(f"{BASE}/rieng/lich-su/khai-sinh")
        assert "(bản của phường An Khánh)" in history.text
    assert "title: Đăng ký khai sinh (bản của phường An Khánh)" in own_file.read_text("utf-8")
    assert province.province_files() == before  # the province layer is untouched
    guide = province.holder.current().guide("khai-sinh")  # the bot serves it at once
    assert guide is not None and guide.title == "Đăng ký khai sinh (bản của phường An Khánh)"
    assert [e["action"] for e in read_edit_log(province.own)] == ["publish"]
    assert not (province.root / ".editor").exists()


async def test_a_wrong_value_in_the_own_layer_names_the_file_the_line_and_the_layer(
    province: Province,
) -> None:
    own_file = province.own / "guides" / "khai-sinh.yaml"
    before = own_file.read_text(encoding="utf-8")
    app = await console(province)
    async with signed_in(app, "lan") as lan:
        form = await form_of(lan, OWN_EDIT)
        fee = next(k for k in form if k.startswith("fees.") and k.endswith(".amount"))
        form[fee] = "năm nghìn"
        refused = await lan.post(OWN_EDIT, data=form)
        assert refused.status_code == 422 and "số nguyên" in refused.text
        preview = await lan.post(f"{BASE}/rieng/xem-truoc/khai-sinh", data=form)
        assert "guides/khai-sinh.yaml:" in preview.text and f"[{COMMUNE}]" in preview.text
    assert own_file.read_text(encoding="utf-8") == before
    assert not (province.own / ".editor" / "drafts").exists() or not any(
        (province.own / ".editor" / "drafts").iterdir()
    )


async def test_a_provincial_guide_is_copied_into_the_commune_and_the_copy_is_edited(
    province: Province,
) -> None:
    before = province.province_files()
    shared_file = province.root / "guides" / f"{SHARED}.yaml"
    app = await console(province)
    async with signed_in(app, "lan") as lan, signed_in(app, "minh") as minh:
        listing = await lan.get(BASE)
        row = listing.text.split(f'href="{BASE}/sua/{SHARED}"', 1)[1].split("</tr>", 1)[0]
        assert "Tỉnh" in row
        page = await lan.get(f"{BASE}/sua/{SHARED}")
        assert page.status_code == 200
        assert "Tạo bản riêng cho xã" in page.text and 'id="bieu-mau"' not in page.text
        made = await lan.post(f"{BASE}/tao-ban-rieng/{SHARED}", data={"csrf": await token(lan)})
        assert made.status_code == 303
        target = httpx.URL(made.headers["location"])
        assert target.path == f"{BASE}/rieng/sua/{SHARED}"
        copy = province.own / "guides" / f"{SHARED}.yaml"
        assert copy.read_bytes() == shared_file.read_bytes()
        # the commune now serves its copy, every dated version of the guide
        later = province.own / "guides" / f"{SHARED}.2027-03-01.yaml"
        assert source_paths(province, "ket-hon") == [later, copy]
        assert later.read_bytes() == (shared_file.parent / later.name).read_bytes()
        listing = await lan.get(BASE)
        row = listing.text.split(f'href="{BASE}/rieng/sua/{SHARED}"', 1)[1].split("</tr>", 1)[0]
        assert "Riêng của xã" in row
        assert f'href="{BASE}/sua/{SHARED}"' not in listing.text

        at = f"{BASE}/rieng/sua/{SHARED}"
        form = await form_of(lan, at)
        form["title"] = f"{SHARED_TITLE} tại phường An Khánh"
        assert (await lan.post(at, data=form)).status_code == 303
        await review_and_publish(lan, minh, at)
        history = await lan.get(f"{BASE}/rieng/lich-su/{SHARED}")
        assert "Tạo bản riêng của xã" in history.text and "tại phường An Khánh" in history.text
    assert province.province_files() == before  # byte-identical
    guide = province.holder.current().guide("ket-hon")
    assert guide is not None and guide.title == f"{SHARED_TITLE} tại phường An Khánh"
    assert [e["action"] for e in read_edit_log(province.own)] == ["copy", "publish"]


async def test_a_province_admin_edits_the_province_layer(province: Province) -> None:
    shared_file = province.root / "guides" / f"{SHARED}.yaml"
    app = await console(province)
    async with signed_in(app, "tinh") as tinh:
        page = await tinh.get(f"{BASE}/sua/{SHARED}")
        assert 'id="bieu-mau"' in page.text and "Tạo bản riêng cho xã" not in page.text
        form = await form_of(tinh, f"{BASE}/sua/{SHARED}")
        form["title"] = f"{SHARED_TITLE} (toàn tỉnh)"
        saved = await tinh.post(f"{BASE}/sua/{SHARED}", data=form)
        assert saved.status_code == 303
    drafts = list((province.root / ".editor" / "drafts").iterdir())
    assert len(drafts) == 1 and "toàn tỉnh" in drafts[0].read_text(encoding="utf-8")
    assert "toàn tỉnh" not in shared_file.read_text(encoding="utf-8")  # a draft until reviewed


async def test_a_commune_editor_cannot_write_the_province_layer_even_by_hand(
    province: Province,
) -> None:
    before = province.province_files()
    app = await console(province)
    async with signed_in(app, "lan") as lan:
        form = await form_of(lan, OWN_EDIT)  # a valid form, posted to a province file
        refused = await lan.post(f"{BASE}/sua/{SHARED}", data=form)
        assert refused.status_code == 403 and "hướng dẫn chung của tỉnh" in refused.text
        made = await lan.post(f"{BASE}/tao-ban-rieng/{SHARED}", data={"csrf": await token(lan)})
        again = await lan.post(f"{BASE}/tao-ban-rieng/{SHARED}", data={"csrf": await token(lan)})
        assert made.status_code == again.status_code == 303  # a second copy is not made
        assert "đã có bản riêng" in unquote(again.headers["location"])
        missing = await lan.post(f"{BASE}/tao-ban-rieng/../office", data={"csrf": await token(lan)})
        assert missing.status_code in (403, 404)
    assert province.province_files() == before
    assert [e["action"] for e in read_edit_log(province.own)] == ["copy"]


async def test_a_province_edit_that_would_break_a_communes_own_guide_is_refused(
    province: Province,
) -> None:
    """The commune's own guide relates to a provincial guide; the province admin renames that
    guide's id. The province alone is still valid, the commune's layer would not be: the save
    is refused, naming the commune and its file, and nothing is written."""
    own_guide = province.own / "guides" / "khai-sinh.yaml"
    text = own_guide.read_text(encoding="utf-8")
    assert "related:\n  - khai-sinh-lien-thong\n" in text
    own_guide.write_text(
        text.replace("related:\n", "related:\n  - tach-thua-dat\n", 1), encoding="utf-8"
    )
    assert province.holder.load()[0]
    at = f"{BASE}/sua/dat-dai/tach-thua-dat"
    before = province.province_files()
    app = await console(province)
    async with signed_in(app, "tinh") as tinh:
        form = await form_of(tinh, at)
        assert form["id"] == "tach-thua-dat"
        form["id"] = "tach-thua"
        refused = await tinh.post(at, data=form)
        assert refused.status_code == 422
        assert "Chưa lưu" in refused.text
        assert (
            "guides/khai-sinh.yaml:" in refused.text
            and f"[{COMMUNE}]" in refused.text
            and "không có hướng dẫn nào có id &#39;tach-thua-dat&#39;" in refused.text
        ), refused.text
        # a change that leaves the commune's layer valid is saved as before
        form = await form_of(tinh, at)
        form["title"] = form["title"] + " (toàn tỉnh)"
        assert (await tinh.post(at, data=form)).status_code == 303
    assert province.province_files() == before  # a draft at most, never the file
