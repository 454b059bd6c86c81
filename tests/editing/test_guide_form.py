"""The web editor's form <-> YAML round trip: comments, unknown keys and layout survive."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from knowledge.editing_form import (
    apply_form,
    attach_errors,
    dump_doc,
    errors_by_field,
    form_nodes,
    load_doc,
)
from knowledge.editing_store import GuideStore, check_candidate
from knowledge.loader import DEFAULT_DIR
from knowledge.yamlsrc import parse_yaml

KHAI_SINH = "guides/ho-tich/khai-sinh.yaml"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def form_of(text: str) -> dict[str, str]:
    """What the browser posts for an unchanged form."""
    out: dict[str, str] = {}

    def visit(nodes: list) -> None:  # type: ignore[type-arg]
        for node in nodes:
            kind = node.spec.kind
            if kind == "items":
                out[f"{node.name}.__n"] = str(len(node.items))
                for item in node.items:
                    visit(item)
            elif kind == "group":
                visit(node.children)
            elif kind == "bool":
                if node.checked:
                    out[node.name] = "on"
            else:
                out[node.name] = node.value

    visit(form_nodes(load_doc(text)))
    return out


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def edited(text: str, **changes: str) -> str:
    form = form_of(text)
    form.update({k.replace("__", "."): v for k, v in changes.items()})
    doc = load_doc(text)
    apply_form(doc, form)
    return dump_doc(doc, text)


@pytest.mark.parametrize(
    "rel", sorted(str(p.relative_to(DEFAULT_DIR)) for p in (DEFAULT_DIR / "guides").rglob("*.yaml"))
)
def test_an_unchanged_form_leaves_every_guide_file_byte_for_byte(rel: str) -> None:
    text = (DEFAULT_DIR / rel).read_text(encoding="utf-8")
    assert edited(text) == text


def test_a_changed_fee_keeps_comments_unknown_keys_and_other_lines(knowledge: Path) -> None:
    path = knowledge / KHAI_SINH
    text = "# đầu tệp: ghi chú của biên tập viên\n" + path.read_text(encoding="utf-8")
    text = text.replace("\ntitle:", "\nghi_chu_rieng: giữ nguyên  # mục lạ\ntitle:", 1)
    fees = parse_yaml(text).data["fees"]
    index = next(i for i, f in enumerate(fees) if "amount" in f)
    out = edited(text, **{f"fees__{index}__amount": "12345"})
    assert parse_yaml(out).data["fees"][index]["amount"] == 12345
    assert "# đầu tệp: ghi chú của biên tập viên" in out
    assert "ghi_chu_rieng: giữ nguyên  # mục lạ" in out
    changed = [(a, b) for a, b in zip(text.splitlines(), out.splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and "12345" in changed[0][1]


def test_a_fee_typed_with_words_is_reported_on_its_field_and_nothing_is_written(
    knowledge: Path,
) -> None:
    text = (knowledge / KHAI_SINH).read_text(encoding="utf-8")
    fees = parse_yaml(text).data["fees"]
    index = next(i for i, f in enumerate(fees) if "amount" in f)
    out = edited(text, **{f"fees__{index}__amount": "8.000 đồng"})
    checked = check_candidate(knowledge, KHAI_SINH, out)
    assert not checked.ok
    errors = errors_by_field(out, [(p.line, p.message) for p in checked.problems])
    assert any("số nguyên" in m for m in errors[f"fees.{index}.amount"])
    nodes = form_nodes(load_doc(out))
    assert attach_errors(nodes, errors) == []
    assert (knowledge / KHAI_SINH).read_text(encoding="utf-8") == text


def test_a_removed_title_is_reported_on_the_title(knowledge: Path) -> None:
    text = (knowledge / KHAI_SINH).read_text(encoding="utf-8")
    out = edited(text, title="")
    checked = check_candidate(knowledge, KHAI_SINH, out)
    errors = errors_by_field(out, [(p.line, p.message) for p in checked.problems])
    assert not checked.ok
    assert any("title" in m for messages in errors.values() for m in messages)


def test_publishing_needs_a_second_editor(knowledge: Path) -> None:
    store = GuideStore(knowledge)
    text = store.published(KHAI_SINH)
    new = text.replace("reviewed_on:", "# sửa qua web\nreviewed_on:", 1)
    store.save_draft(KHAI_SINH, new, "lan", NOW)
    assert store.submit(KHAI_SINH, "lan", NOW).ok
    refused = store.publish(KHAI_SINH, "lan", NOW)
    assert not refused.ok and "biên tập viên khác" in refused.message
    assert store.published(KHAI_SINH) == text
    assert store.publish(KHAI_SINH, "minh", NOW + dt.timedelta(minutes=5)).ok
    assert store.published(KHAI_SINH) == new
    approval = store.approval(KHAI_SINH)
    assert approval is not None and approval.approved_by == "minh" and approval.editors == ["lan"]
    assert store.draft(KHAI_SINH) is None


def test_history_restores_the_previous_text_through_review(knowledge: Path) -> None:
    store = GuideStore(knowledge)
    text = store.published(KHAI_SINH)
    store.save_draft(KHAI_SINH, text + "# thêm\n", "lan", NOW)
    store.submit(KHAI_SINH, "lan", NOW)
    store.publish(KHAI_SINH, "minh", NOW)
    assert store.restore(KHAI_SINH, 0, "minh", NOW).ok
    store.submit(KHAI_SINH, "minh", NOW)
    assert store.publish(KHAI_SINH, "lan", NOW).ok
    assert store.published(KHAI_SINH) == text
    assert [e.approved_by for e in store.history(KHAI_SINH)] == ["lan", "minh"]


def test_a_file_edited_by_hand_after_the_draft_is_not_overwritten(knowledge: Path) -> None:
    store = GuideStore(knowledge)
    text = store.published(KHAI_SINH)
    store.save_draft(KHAI_SINH, text + "# web\n", "lan", NOW)
    store.submit(KHAI_SINH, "lan", NOW)
    (knowledge / KHAI_SINH).write_text(text + "# tay\n", encoding="utf-8")
    assert not store.publish(KHAI_SINH, "minh", NOW).ok
    assert store.published(KHAI_SINH).endswith("# tay\n")
