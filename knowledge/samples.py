"""Sample values in office.yaml: the bundled settings are a template, not a real commune.

A sample phone number or fee that reaches a citizen looks real. Each key still listed under
`samples:` is reported by `validate` (an error with `--strict`) and announced loudly when the bot
starts on a real channel.
"""

from __future__ import annotations

from knowledge.loader import KnowledgeBase, Problem
from knowledge.schema import Office


def sample_keys(office: Office) -> list[str]:
    """The office.yaml keys that still hold sample values, in file order."""
    return list(dict.fromkeys(office.samples))


def sample_message(keys: list[str]) -> str:
    """What staff read in their group at start-up (Vietnamese, names every key)."""
    return (
        "⚠️ CẢNH BÁO: office.yaml vẫn còn dữ liệu MẪU, người dân đang thấy thông tin không thật: "
        + ", ".join(keys)
        + ". Cán bộ sửa các mục này cho đúng với xã/phường rồi xóa tên mục khỏi danh sách "
        "'samples' trong office.yaml."
    )


def sample_problem(kb: KnowledgeBase) -> Problem | None:
    """One warning naming every sample key, for `validate` (an error with `--strict`)."""
    keys = sample_keys(kb.office)
    if not keys:
        return None
    path = kb.root / "office.yaml"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    line = next((i for i, text in enumerate(lines, 1) if text.startswith("samples:")), 1)
    message = (
        f"{len(keys)} mục vẫn là dữ liệu mẫu (người dân sẽ thấy như thật): {', '.join(keys)}; "
        "sửa cho đúng với xã/phường rồi xóa tên mục khỏi 'samples'"
    )
    return Problem(path, line, message, severity="warning")
