"""Editors keep guides current: live reload, dated versions, stale lists, learning from misses."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.editor import editor_commands
from flows.ports import VN_TZ, ManualClock
from knowledge.editing import read_edit_log
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR
from tests.flows.driver import Driver, to_citizen

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(
        DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__", "edit-log.jsonl")
    )
    return target


def guide_path(kdir: Path, name: str = "ho-tich/khai-sinh.yaml") -> Path:
    return kdir / "guides" / name


async def test_edited_guide_changes_the_answer_without_restart(kdir, tmp_path):
    async with Driver(tmp_path / "db.sqlite3", knowledge=kdir) as bot:
        out = to_citizen(await bot.say("khai sinh"))
        assert out[0]["text"].startswith("Đăng ký khai sinh")
        path = guide_path(kdir)
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("title: Đăng ký khai sinh", "title: Đăng ký khai sinh cho trẻ em"),
            encoding="utf-8",
        )
        reloaded = bot.holder.reload_if_changed()
        assert reloaded is not None and reloaded[0] is True
        assert [p for p in reloaded[1] if p.severity == "error"] == []  # warnings may be listed
        out = to_citizen(await bot.say("khai sinh"))
        assert out[0]["text"].startswith("Đăng ký khai sinh cho trẻ em")
        assert bot.holder.reload_if_changed() is None  # nothing changed since


async def test_invalid_edit_keeps_the_old_answer_and_reports_file_and_line(kdir, tmp_path):
    async with Driver(tmp_path / "db.sqlite3", knowledge=kdir) as bot:
        assert to_citizen(await bot.say("khai sinh"))  # serving
        path = guide_path(kdir)
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("    amount: 0\n", "    amount: không mất tiền\n", 1), encoding="utf-8"
        )
        loaded, problems = bot.holder.reload_if_changed() or (None, [])
        assert loaded is False
        line = next(
            i
            for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if "không mất tiền" in text
        )
        assert problems[0].render(kdir) == (
            f"guides/ho-tich/khai-sinh.yaml:{line}: mục 'fees[0].amount': "
            "phải là số nguyên, không có dấu chấm hay chữ (ví dụ: 8000)"
        )
        out = to_citizen(await bot.say("khai sinh"))
        assert out[0]["text"].startswith("Đăng ký khai sinh")
        assert "Lệ phí: Miễn phí" in out[0]["text"]


async def test_reload_command_reports_errors_to_the_editor(kdir):
    clock = ManualClock(T0)
    holder = LibraryHolder(kdir, lambda: clock.now().date())
    holder.current()
    commands = editor_commands(holder, None, clock)  # type: ignore[arg-type]
    path = guide_path(kdir)
    path.write_text(
        path.read_text(encoding="utf-8").replace("reviewed_on: 2026-11-27", "reviewed_on: hôm qua"),
        encoding="utf-8",
    )
    answer = await commands["reload"]("Biên tập", [])
    assert answer.startswith("Chưa nạp được vì có lỗi; bot vẫn dùng bản cũ.")
    assert "guides/ho-tich/khai-sinh.yaml:" in answer and "reviewed_on" in answer
    assert holder.current().guide("khai-sinh") is not None


async def test_future_version_starts_serving_on_its_date(kdir, tmp_path):
    """The bundled successor for Luật Hộ tịch 2026 takes over on 2027-03-01 by itself."""
    successor = guide_path(kdir, "ho-tich/khai-sinh.2027-03-01.yaml")
    assert successor.exists()
    async with Driver(
        tmp_path / "db.sqlite3", start=dt.datetime(2027, 2, 28, 9, 0, tzinfo=VN_TZ), knowledge=kdir
    ) as bot:
        out = to_citizen(await bot.say("khai sinh"))
        assert out[0]["text"].startswith("Đăng ký khai sinh\n")
        assert "Từ 01/03/2027" not in out[0]["text"]
        await bot.clock_to(dt.datetime(2027, 3, 1, 8, 0, tzinfo=VN_TZ))
        out = to_citizen(await bot.say("khai sinh"))
        assert out[0]["text"].startswith("Đăng ký khai sinh\n")
        assert "Từ 01/03/2027 (Luật Hộ tịch 2026)" in out[0]["text"]


def run_cli(*args: str, env_db: Path | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ)
    if env_db is not None:
        env["BOT_DB"] = str(env_db)
    return subprocess.run(
        [sys.executable, "-m", "knowledge", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_stale_lists_guides_not_reviewed_in_time(kdir):
    path = guide_path(kdir)
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "reviewed_on: 2026-11-27", "reviewed_on: 2025-01-15"
        ),
        encoding="utf-8",
    )
    out = run_cli("stale", "--dir", str(kdir), "--days", "180", "--date", "2026-12-01")
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert [r[0] for r in rows] == ["khai-sinh"]
    assert rows[0][1] == "2025-01-15" and "chưa rà soát 685 ngày" in rows[0][2]


async def test_unmatched_groups_similar_questions(tmp_path):
    db = tmp_path / "db.sqlite3"
    async with Driver(db) as bot:
        for text in (
            "cho hỏi về tiêm phòng dại cho chó",
            "tiem phong dai cho cho",
            "tiêm phòng dại cho chó ở đâu",
            "sửa máy bơm nước ở đâu",
        ):
            await bot.say(text, user="u" + str(len(text)))
    out = run_cli("unmatched", "--db", str(db), "--since", "2026-11-01")
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert rows[0][0] == "3" and "phòng dại" in rows[0][1]
    assert rows[1][0] == "1" and "máy bơm" in rows[1][1]


async def test_themcau_adds_a_phrase_that_then_matches(kdir):
    clock = ManualClock(T0)
    holder = LibraryHolder(kdir, lambda: clock.now().date())
    before = holder.current().match("giấy lọt lòng cho bé")
    assert before.intent != "guide" or before.matches[0].id != "khai-sinh"
    commands = editor_commands(holder, None, clock)  # type: ignore[arg-type]
    answer = await commands["themcau"]("Chị Hoa", ["khai-sinh", "giấy", "lọt", "lòng", "cho", "bé"])
    assert answer.startswith("Đã thêm câu «giấy lọt lòng cho bé»")
    after = holder.current().match("giấy lọt lòng cho bé")
    assert after.intent == "guide" and after.matches[0].id == "khai-sinh"
    assert '  - "giấy lọt lòng cho bé"' in guide_path(kdir).read_text(encoding="utf-8")
    log = read_edit_log(kdir)
    assert log[-1]["who"] == "Chị Hoa" and log[-1]["guide"] == "khai-sinh"
    assert (
        await commands["themcau"]("Chị Hoa", ["khai-sinh", "giấy", "lọt", "lòng", "cho", "bé"])
    ).endswith("đã có trong khai-sinh.yaml.")
    assert (await commands["themcau"]("Chị Hoa", ["khong-co", "câu", "hỏi"])).startswith(
        "Không có thủ tục"
    )


def test_add_example_cli(kdir):
    out = run_cli(
        "add-example",
        "ket-hon",
        "cưới",
        "xong",
        "đi",
        "đăng",
        "ký",
        "ở",
        "đâu",
        "--dir",
        str(kdir),
        "--who",
        "Anh Nam",
    )
    assert out.returncode == 0, out.stderr
    assert "Đã thêm câu" in out.stdout
    entry = read_edit_log(kdir)[-1]
    assert entry["action"] == "add_example" and entry["who"] == "Anh Nam"
    assert json.loads(json.dumps(entry))["example"] == "cưới xong đi đăng ký ở đâu"
    assert run_cli("validate", str(kdir)).returncode == 0


async def test_stale_list_is_posted_to_staff_once_a_week(kdir, tmp_path):
    from bot.channels.local import LocalDesk
    from bot.housekeeping import WeeklyStaleReport
    from bot.storage import SqliteStorage

    path = guide_path(kdir)
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "reviewed_on: 2026-11-27", "reviewed_on: 2025-01-15"
        ),
        encoding="utf-8",
    )
    posted: list[str] = []
    desk = LocalDesk(lambda to, key, reply: posted.append(reply.text))
    clock = ManualClock(dt.datetime(2026, 12, 6, 21, 0, tzinfo=VN_TZ))  # Sunday night: closed
    storage = SqliteStorage(tmp_path / "db.sqlite3")
    await storage.open()
    weekly = WeeklyStaleReport(
        LibraryHolder(kdir, lambda: clock.now().date()), storage, desk, clock
    )
    assert await weekly.run() is False
    clock.set(dt.datetime(2026, 12, 7, 7, 45, tzinfo=VN_TZ))  # Monday, desk open
    assert await weekly.run() is True
    assert "Đăng ký khai sinh (khai-sinh): chưa rà soát" in posted[0]
    clock.set(dt.datetime(2026, 12, 9, 9, 0, tzinfo=VN_TZ))
    assert await weekly.run() is False  # once a week
    clock.set(dt.datetime(2026, 12, 14, 8, 0, tzinfo=VN_TZ))
    assert await weekly.run() is True
    await storage.close()
