"""State is written at every step: a restart resumes where the citizen was."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLOCK = "2026-12-01T09:00:00+07:00"  # a working Tuesday: no test depends on the real time


def simulate(db: Path, *items: dict) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--db", str(db), "--clock", CLOCK],
        input="".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_walkthrough_resumes_after_restart(tmp_path):
    db = tmp_path / "bot.sqlite3"
    first = simulate(
        db,
        {"user": "u1", "text": "đăng ký khai sinh"},
        {"user": "u1", "press": "Các bước"},
        {"user": "u1", "press": "Nộp tại quầy"},
        {"user": "u1", "press": "Tiếp"},
    )
    assert first[-2]["text"].startswith("Bước 2/")
    # A new process on the same database: typing the button label (or its number) still works.
    second = simulate(db, {"user": "u1", "text": "Tiếp"}, {"user": "u1", "text": "2"})
    assert second[0]["text"].startswith("Bước 3/")
    assert second[2]["text"].startswith("Bước 2/")  # "2" = Quay lại on the step 3 message


def test_handoff_survives_restart(tmp_path):
    db = tmp_path / "bot.sqlite3"
    simulate(db, {"clock": "2026-12-01T09:00:00+07:00"}, {"user": "u1", "text": "gặp cán bộ"})
    out = simulate(
        db,
        {"clock": "2026-12-01T09:05:00+07:00"},
        {"user": "u1", "text": "tôi cần hỏi về sổ đỏ"},
        {"staff": "s1", "user": "u1", "text": "Chào anh"},
    )
    staff = [r for r in out if r.get("to") == "staff"]
    citizen = [r for r in out if r.get("to") == "citizen"]
    assert "sổ đỏ" in staff[0]["text"]
    assert citizen[0]["text"].startswith("Chào anh")


def test_a_fact_told_before_a_restart_still_chooses_the_procedure(tmp_path):
    """ "Lấy chồng Đài Loan" told before the restart: the marriage asked about after it is the
    foreign-element registration."""
    db = tmp_path / "bot.sqlite3"
    simulate(
        db,
        {
            "user": "u1",
            "text": "Em sắp lấy chồng Đài Loan, bên đó yêu cầu giấy xác nhận tình trạng hôn nhân",
        },
    )
    out = simulate(db, {"user": "u1", "text": "bao lâu thì có giấy kết hôn"})
    assert out[0]["guide"] == "ket-hon-yeu-to-nuoc-ngoai"
