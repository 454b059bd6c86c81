"""The CLI is a stable contract: other tools and outside checks call it."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-12-01"  # the guides serving that day: no test depends on the real date


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_validate_ok_and_failing(kdir):
    ok = run("validate", str(kdir))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout == ""

    guide = kdir / "guides" / "khai-sinh.yaml"
    guide.write_text(guide.read_text(encoding="utf-8").replace("code: ", "cod: "), encoding="utf-8")
    bad = run("validate", str(kdir))
    assert bad.returncode == 1
    line = guide.read_text(encoding="utf-8").splitlines().index('cod: "1.001193"') + 1
    lines = bad.stdout.splitlines()
    assert lines == [
        f"{guide}:{line}: mục 'cod': mục này không có trong mẫu (có thể gõ sai tên mục)"
    ]


def test_match_json_single(kdir):
    out = run("match", "--dir", str(kdir), "--date", DAY, "--json", "lam", "giay", "khai", "sanh")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert obj["query"] == "lam giay khai sanh"
    assert obj["intent"] == "guide"
    assert obj["matches"][0]["id"] == "khai-sinh"
    assert obj["matches"][0]["title"] == "Đăng ký khai sinh"
    assert 0 < obj["matches"][0]["score"] <= 1


def test_match_stdin_one_object_per_line_in_order(kdir):
    questions = ["dkks o dau", "cho tôi gặp cán bộ", "giá vàng hôm nay", "", "khai sinh"]
    out = run(
        "match", "--dir", str(kdir), "--date", DAY, "--json", "-", stdin="\n".join(questions) + "\n"
    )
    assert out.returncode == 0, out.stderr
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [o["query"] for o in objs] == questions
    assert [o["intent"] for o in objs] == ["guide", "handoff", "none", "none", "guide"]
    for obj in objs:
        assert set(obj) == {"query", "intent", "matches"}
        assert len(obj["matches"]) <= 5
        scores = [m["score"] for m in obj["matches"]]
        assert scores == sorted(scores, reverse=True)


def test_match_top_limits_matches(kdir):
    out = run("match", "--dir", str(kdir), "--date", DAY, "--json", "--top", "1", "khai sinh")
    assert len(json.loads(out.stdout)["matches"]) == 1


def test_export_lists_guides_with_match_phrases(kdir):
    out = run("export", "--dir", str(kdir), "--date", DAY, "--json")
    assert out.returncode == 0, out.stderr
    guides = json.loads(out.stdout)
    assert [g["id"] for g in guides] == ["khai-sinh"]
    guide = guides[0]
    assert guide["code"] == "1.001193"
    assert guide["fees"][0]["amount"] == 0
    assert "Đăng ký khai sinh" in guide["match_phrases"]
    assert set(guide["examples"]) <= set(guide["match_phrases"])
    assert set(guide["aliases"]) <= set(guide["match_phrases"])


def test_bundled_knowledge_validates():
    out = run("validate")
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_cli_reads_knowledge_dir_and_bot_db_like_the_bot(kdir, tmp_path):
    """One settings model: .env (or the environment) points the CLI where it points the bot."""
    import os

    guide = kdir / "guides" / "khai-sinh.yaml"
    guide.write_text(guide.read_text(encoding="utf-8").replace("code: ", "cod: "), encoding="utf-8")
    workdir = tmp_path / "site"
    workdir.mkdir()
    db = tmp_path / "elsewhere.sqlite3"
    (workdir / ".env").write_text(f"KNOWLEDGE_DIR={kdir}\nBOT_DB={db}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("KNOWLEDGE_DIR", "BOT_DB")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "knowledge", *args],
            capture_output=True, text=True, cwd=workdir, env=env, timeout=120,
        )  # fmt: skip

    bad = cli("validate")
    assert bad.returncode == 1 and str(guide) in bad.stdout
    missing = cli("unmatched")
    assert str(db) in missing.stdout + missing.stderr
