"""The guide editor and report dashboard over HTTP: rights, validation on fields, review."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.flows.driver import Driver, texts, to_citizen
from tests.web.editor_app import COMMUNE, copy_knowledge, token
from tests.web.editor_app import signed_in as client

FILE = "ho-tich/trich-luc-ho-tich"
REL = f"guides/{FILE}.yaml"
EDIT = f"/admin/{COMMUNE}/huong-dan/sua/{FILE}"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[Driver, Path]]:
    root = copy_knowledge(tmp_path)
    async with Driver(tmp_path / "bot.sqlite3", knowledge=root) as driver:
        yield driver, root


def fee_index(root: Path) -> int:
    from knowledge.yamlsrc import read_yaml

    fees = read_yaml(root / REL).data["fees"]
    return next(i for i, f in enumerate(fees) if f.get("amount") == 8000)


async def form_of(http: httpx.AsyncClient, url: str = EDIT) -> dict[str, Any]:
    """The edit form's fields as the browser would post them (unchanged)."""
    from html.parser import HTMLParser

    page = await http.get(url)
    assert page.status_code == 200
    fields: dict[str, Any] = {}

    class Reader(HTMLParser):
        current: str | None = None
        inside = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if a.get("form") is None and tag == "form" and a.get("id") == "bieu-mau":
                self.inside = True
            if not self.inside or not a.get("name"):
                return
            name = str(a["name"])
            if tag == "input" and a.get("type") == "checkbox":
                if "checked" in a:
                    fields[name] = "on"
            elif tag == "input" and a.get("type") != "submit":
                fields[name] = a.get("value") or ""
            elif tag == "textarea":
                self.current = name
                fields[name] = ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "textarea":
                self.current = None
            if tag == "form":
                self.inside = False

        def handle_data(self, data: str) -> None:
            if self.current:
                fields[self.current] += data

    Reader().feed(page.text)
    for key, value in fields.items():
        if isinstance(value, str) and value.startswith("\n"):
            fields[key] = value[1:]  # HTML drops a textarea's first newline
    return fields


async def test_every_editor_page_sends_a_stranger_to_login_and_refuses_staff(site: Any) -> None:
    driver, _ = site
    pages = [
        f"/admin/{COMMUNE}/huong-dan",
        EDIT,
        f"/admin/{COMMUNE}/huong-dan/lich-su/{FILE}",
    ]
    async with client(driver, None) as anonymous, client(driver, "hoa") as staff:
        for url in pages:
            answer = await anonymous.get(url)
            assert answer.status_code == 303 and answer.headers["location"].startswith(
                "/admin/login?next="
            )
            assert (await staff.get(url)).status_code == 403
        posted = await anonymous.post(EDIT, data={"csrf": await token(anonymous)})
        assert posted.status_code == 303
        assert (await staff.post(EDIT, data={"csrf": await token(staff)})).status_code == 403


async def test_a_post_without_the_csrf_token_is_refused(site: Any) -> None:
    driver, root = site
    before = (root / REL).read_text(encoding="utf-8")
    async with client(driver, "lan") as http:
        form = await form_of(http)
        form.pop("csrf")
        assert (await http.post(EDIT, data=form)).status_code == 403
    assert (root / REL).read_text(encoding="utf-8") == before


async def test_a_wrong_fee_is_shown_on_its_field_and_nothing_is_saved(site: Any) -> None:
    driver, root = site
    before = (root / REL).read_text(encoding="utf-8")
    index = fee_index(root)
    async with client(driver, "lan") as http:
        form = await form_of(http)
        form[f"fees.{index}.amount"] = "8.000 đồng"
        answer = await http.post(EDIT, data=form)
    assert answer.status_code == 422
    field = answer.text.split(f'id="f-fees-{index}-amount"', 1)[1].split("</div>", 1)[0]
    assert 'aria-invalid="true"' in field and "phải là số nguyên" in field
    assert (root / REL).read_text(encoding="utf-8") == before
    assert not (root / ".editor" / "drafts").exists() or not any(
        (root / ".editor" / "drafts").iterdir()
    )


async def test_a_fee_change_is_published_by_a_second_editor_and_the_bot_answers_with_it(
    site: Any,
) -> None:
    driver, root = site
    index = fee_index(root)
    asked = texts(to_citizen(await driver.say("lệ phí trích lục hộ tịch bao nhiêu")))
    assert "8.000" in asked
    async with client(driver, "lan") as lan, client(driver, "minh") as minh:
        form = await form_of(lan)
        form[f"fees.{index}.amount"] = "9000"
        preview = await lan.post(f"/admin/{COMMUNE}/huong-dan/xem-truoc/{FILE}", data=form)
        assert "9.000" in preview.text
        saved = await lan.post(EDIT, data=form)
        assert saved.status_code == 303
        assert "8000" in (root / REL).read_text(encoding="utf-8")  # a draft is not published
        await lan.post(
            f"/admin/{COMMUNE}/huong-dan/gui-duyet/{FILE}", data={"csrf": await token(lan)}
        )
        refused = await lan.post(
            f"/admin/{COMMUNE}/huong-dan/dang/{FILE}", data={"csrf": await token(lan)}
        )
        assert "biên tập viên khác" in (await lan.get(refused.headers["location"])).text
        assert "amount: 8000" in (root / REL).read_text(encoding="utf-8")
        done = await minh.post(
            f"/admin/{COMMUNE}/huong-dan/dang/{FILE}", data={"csrf": await token(minh)}
        )
        page = await minh.get(done.headers["location"])
        assert "Đã duyệt" in page.text and "minh" in page.text
    assert "amount: 9000" in (root / REL).read_text(encoding="utf-8")
    records = await driver.say("lệ phí trích lục hộ tịch bao nhiêu", user="u2")
    answered = texts(to_citizen(records, user="u2"))
    assert "9.000" in answered and "8.000" not in answered


async def test_an_unanswered_question_is_added_to_a_guide_in_one_click(site: Any) -> None:
    driver, root = site
    question = "xin giấy xác nhận độc thân để cưới ở nước ngoài"
    await driver.say("con mèo nhà tôi bị lạc thì báo ai")
    async with client(driver, "lan") as http:
        page = await http.get(f"/admin/{COMMUNE}/huong-dan")
        assert "mèo" in page.text
        answer = await http.post(
            f"/admin/{COMMUNE}/huong-dan/them-cau",
            data={"csrf": await token(http), "guide": "trich-luc-ho-tich", "question": question},
        )
        assert answer.status_code == 303
    assert question in (root / REL).read_text(encoding="utf-8")


async def test_the_report_downloads_as_markdown_csv_and_png(site: Any) -> None:
    driver, _ = site
    await driver.say("lệ phí trích lục hộ tịch bao nhiêu")
    base = f"/admin/{COMMUNE}/bao-cao"
    query = "?tu=2026-11-01&den=2026-12-01"
    async with client(driver, "hoa") as http:
        page = await http.get(base + query)
        assert page.status_code == 200 and "Tổng số câu hỏi" in page.text
        md = await http.get(f"{base}/bao-cao.md{query}")
        assert md.headers["content-type"].startswith("text/markdown") and "#" in md.text
        csv = await http.get(f"{base}/bao-cao.csv{query}")
        assert "Tổng số câu hỏi" in csv.text
        png = await http.get(f"{base}/bieu-do/tuan.png{query}")
        assert png.content.startswith(b"\x89PNG")
        assert (await http.get(f"{base}?tu=2026-12-05&den=2026-12-01")).status_code == 400
    async with client(driver, None) as anonymous:
        assert (await anonymous.get(f"{base}/bao-cao.csv{query}")).status_code == 303
