"""A province library with per-commune overrides: what each commune's citizens are told."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR, PROVINCE_LAYER, load_knowledge

DAY = dt.date(2026, 12, 1)
KHAI_SINH = DEFAULT_DIR / "guides" / "ho-tich" / "khai-sinh.yaml"
KHAI_SINH_2027 = DEFAULT_DIR / "guides" / "ho-tich" / "khai-sinh.2027-03-01.yaml"
HO_NGHEO = sorted((DEFAULT_DIR / "guides").rglob("ho-ngheo*.yaml"))


def commune_overrides(root: Path, name: str = "Phường An Khánh") -> Path:
    """A commune folder: its own office facts and one fee, a replaced and an added guide."""
    (root / "guides").mkdir(parents=True)
    (root / "office.yaml").write_text(
        f"commune: {name}\n"
        "provincial_fees:\n"
        "  ho_tich_nhan_cha_me_con:\n"
        "    amount: 7000\n"
        "    unit: lần\n"
        "    legal_basis: [Nghị quyết của HĐND tỉnh về lệ phí hộ tịch]\n",
        encoding="utf-8",
    )
    text = KHAI_SINH.read_text(encoding="utf-8")
    (root / "guides" / "khai-sinh.yaml").write_text(
        text.replace("title: Đăng ký khai sinh\n", f"title: Đăng ký khai sinh tại {name}\n"),
        encoding="utf-8",
    )
    shutil.copy(KHAI_SINH_2027, root / "guides" / KHAI_SINH_2027.name)
    for path in HO_NGHEO:
        text = path.read_text(encoding="utf-8").replace("id: ho-ngheo\n", "id: ho-ngheo-rieng\n")
        (root / "guides" / path.name.replace("ho-ngheo", "ho-ngheo-rieng")).write_text(
            text, encoding="utf-8"
        )
    return root


def test_a_commune_replaces_and_adds_guides_and_overrides_office_facts(tmp_path: Path) -> None:
    own = commune_overrides(tmp_path / "an-khanh")
    province = load_knowledge(DEFAULT_DIR)
    merged = load_knowledge(DEFAULT_DIR, own, "an-khanh")
    assert merged.ok, [p.render() for p in merged.errors]
    assert province.knowledge is not None and merged.knowledge is not None
    kb = merged.knowledge
    assert kb.office.commune == "Phường An Khánh"
    assert kb.office.province == province.knowledge.office.province  # not overridden: inherited
    assert kb.office.provincial_fees["ho_tich_nhan_cha_me_con"].amount == 7000
    assert kb.office.provincial_fees.keys() == province.knowledge.office.provincial_fees.keys()
    # the commune named itself: 'commune' is no longer a sample, the rest still are
    assert "commune" not in kb.office.samples and "province" in kb.office.samples
    assert "provincial_fees.ho_tich_nhan_cha_me_con" not in kb.office.samples
    titles = {g.id: g.title for g in kb.active(DAY)}
    assert titles["khai-sinh"] == "Đăng ký khai sinh tại Phường An Khánh"
    assert "ho-ngheo-rieng" in titles and "ho-ngheo" in titles
    # every dated version of a replaced guide comes from the commune
    khai_sinh = [s.path for s in kb.sources if s.guide.id == "khai-sinh"]
    assert len(khai_sinh) == 2 and all(p.is_relative_to(own) for p in khai_sinh)
    # the province itself is untouched
    plain = {g.id: g.title for g in province.knowledge.active(DAY)}
    assert plain["khai-sinh"] == "Đăng ký khai sinh" and "ho-ngheo-rieng" not in plain


def test_errors_carry_file_line_and_name_the_layer(tmp_path: Path) -> None:
    own = commune_overrides(tmp_path / "an-khanh")
    broken = own / "guides" / "khai-sinh.yaml"
    lines = broken.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("field:"))
    lines[at] = "field: khong-co-linh-vuc"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_knowledge(DEFAULT_DIR, own, "an-khanh")
    rendered = [p.render() for p in result.errors]
    assert f"{broken}:{at + 1}: [an-khanh] mục 'field'" in "\n".join(rendered), rendered
    (own / "office.yaml").write_text("commune: Phường An Khánh\nstale_after_days: 0\n")
    rendered = [p.render() for p in load_knowledge(DEFAULT_DIR, own, "an-khanh").errors]
    assert any(
        r.startswith(f"{own / 'office.yaml'}:2: [an-khanh] mục 'stale_after_days'")
        for r in rendered
    ), rendered
    # a problem in a province file is tagged with the province layer
    assert {p.layer for p in result.problems if not p.path.is_relative_to(own)} <= {PROVINCE_LAYER}
    # without overrides nothing changes in how problems read
    assert all(p.layer is None for p in load_knowledge(DEFAULT_DIR).problems)


def test_the_holder_serves_the_merged_library_and_reloads_commune_edits(tmp_path: Path) -> None:
    own = commune_overrides(tmp_path / "an-khanh")
    holder = LibraryHolder(DEFAULT_DIR, lambda: DAY, overrides=own, commune="an-khanh")
    assert holder.current().guide("ho-ngheo-rieng") is not None
    assert holder.knowledge.office.commune == "Phường An Khánh"
    (own / "office.yaml").write_text("commune: Phường An Khánh Mới\n", encoding="utf-8")
    outcome = holder.reload_if_changed()
    assert outcome is not None and outcome[0]
    assert holder.knowledge.office.commune == "Phường An Khánh Mới"


EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "communes.yaml"


def test_validate_checks_every_communes_merged_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from knowledge.cli import main

    assert main(["validate", "--communes", str(EXAMPLE)]) == 0
    err = capsys.readouterr().err
    assert "OK phuong-an-khanh:" in err and "OK xa-binh-minh:" in err

    own = commune_overrides(tmp_path / "an-khanh")
    (own / "office.yaml").write_text("commune: Phường An Khánh\nemail: [1, 2]\n")
    communes = tmp_path / "communes.yaml"
    communes.write_text(
        f"province_knowledge: {DEFAULT_DIR}\n"
        "communes:\n  - {id: an-khanh, name: An Khánh, knowledge: an-khanh}\n"
        "  - {id: binh-minh, name: Bình Minh}\n",
        encoding="utf-8",
    )
    assert main(["validate", "--communes", str(communes)]) == 1
    out, err = capsys.readouterr()
    assert f"{own / 'office.yaml'}:2: [an-khanh] mục 'email'" in out
    assert "OK binh-minh:" in err and "OK an-khanh" not in err


def test_the_example_communes_file_is_valid_and_holds_no_secret() -> None:
    from bot.communes import load_communes
    from bot.config import Settings

    names = re.findall(r"_env: ([A-Z_]+)", EXAMPLE.read_text(encoding="utf-8"))
    env = {name: "x" for name in names} | {
        n: f"12345{i}:EXAMPLEexampleEXAMPLEexample"
        for i, n in enumerate(names)
        if n.endswith("TELEGRAM_TOKEN")
    }
    settings = Settings(_env_file=None, communes_file=EXAMPLE)  # type: ignore[call-arg]
    communes = load_communes(settings, env)
    assert [c.id for c in communes] == ["phuong-an-khanh", "xa-binh-minh"]
    assert communes[0].overrides is not None and communes[1].settings.zalo_app_id is None
