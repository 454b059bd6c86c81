from pathlib import Path

from knowledge.loader import load_knowledge


def guide_file(kdir: Path) -> Path:
    return kdir / "guides" / "khai-sinh.yaml"


def line_number(path: Path, startswith: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(startswith):
            return number
    raise AssertionError(startswith)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rendered(kdir: Path) -> list[str]:
    return [p.render(kdir) for p in load_knowledge(kdir).problems]


def test_fixture_is_valid(kdir):
    result = load_knowledge(kdir)
    assert result.ok, rendered(kdir)


def test_yaml_syntax_error_names_file_and_line(kdir):
    path = guide_file(kdir)
    edit(path, "title: Đăng ký khai sinh", 'title: "Đăng ký khai sinh')
    problems = rendered(kdir)
    assert len(problems) == 1
    assert problems[0].startswith("guides/khai-sinh.yaml:")
    assert "lỗi cú pháp YAML" in problems[0]


def test_missing_field_names_the_field(kdir):
    path = guide_file(kdir)
    edit(path, "who: >-", "nguoi_nop: >-")
    problems = rendered(kdir)
    assert any("mục 'who': thiếu mục bắt buộc" in p for p in problems), problems
    line = line_number(path, "nguoi_nop:")
    assert (
        f"guides/khai-sinh.yaml:{line}: mục 'nguoi_nop': mục này không có trong mẫu"
        in "\n".join(problems)
    )


def test_wrong_type_points_at_the_value_line(kdir):
    path = guide_file(kdir)
    edit(path, "    amount: 0\n", "    amount: miễn phí\n")
    line = line_number(path, "    amount: miễn phí")
    assert rendered(kdir) == [
        f"guides/khai-sinh.yaml:{line}: mục 'fees[0].amount': "
        "phải là số nguyên, không có dấu chấm hay chữ (ví dụ: 8000)"
    ]


def test_bad_date_is_explained(kdir):
    path = guide_file(kdir)
    edit(path, "reviewed_on: 2026-11-27", "reviewed_on: 27/11/2026")
    line = line_number(path, "reviewed_on:")
    assert rendered(kdir) == [
        f"guides/khai-sinh.yaml:{line}: mục 'reviewed_on': "
        "phải là ngày dạng NĂM-THÁNG-NGÀY (ví dụ: 2026-11-27)"
    ]


def test_fee_without_legal_basis_is_rejected(kdir):
    path = guide_file(kdir)
    edit(path, "    legal_basis:\n      - Luật Hộ tịch 2014, Điều 11 khoản 1\n", "")
    problems = rendered(kdir)
    assert any("mục 'fees[0].legal_basis': thiếu mục bắt buộc" in p for p in problems), problems


def test_unknown_related_guide_and_field(kdir):
    path = guide_file(kdir)
    edit(path, "field: ho-tich", "field: ho-tịch-sai")
    with path.open("a", encoding="utf-8") as f:
        f.write("related:\n  - khong-co-that\n")
    problems = "\n".join(rendered(kdir))
    assert "lĩnh vực 'ho-tịch-sai' không có trong fields.yaml" in problems
    assert "không có hướng dẫn nào có id 'khong-co-that'" in problems


def test_unknown_placeholder_is_reported(kdir):
    path = guide_file(kdir)
    edit(path, "Lấy mẫu tại Trung tâm", "Lấy mẫu tại {trung_tam_sai}, Trung tâm")
    problems = rendered(kdir)
    assert len(problems) == 1
    assert "không có thông tin '{trung_tam_sai}'" in problems[0]
    assert "documents[0].notes" in problems[0]


def test_too_few_phrases(kdir):
    path = guide_file(kdir)
    text = path.read_text(encoding="utf-8")
    start = text.index("examples:")
    end = text.index("verify:", start)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    problems = rendered(kdir)
    assert any("cần ít nhất 10 cách hỏi" in p for p in problems), problems


def test_dated_versions_overlap_is_an_error_and_gap_a_warning(kdir):
    path = guide_file(kdir)
    text = path.read_text(encoding="utf-8")
    future = kdir / "guides" / "khai-sinh.2027-03-01.yaml"
    future.write_text(
        text.replace("effective_from: 2025-07-01", "effective_from: 2027-03-01"), encoding="utf-8"
    )
    result = load_knowledge(kdir)
    assert [p.severity for p in result.problems] == ["error"]
    assert "trùng thời gian hiệu lực" in result.problems[0].message

    edit(path, "effective_from: 2025-07-01", "effective_from: 2025-07-01\neffective_to: 2027-01-31")
    result = load_knowledge(kdir)
    assert [p.severity for p in result.problems] == ["warning"]
    assert "khoảng trống từ 2027-02-01 đến 2027-02-28" in result.problems[0].message

    edit(path, "effective_to: 2027-01-31", "effective_to: 2027-02-28")
    assert load_knowledge(kdir).problems == []
    kb = load_knowledge(kdir).knowledge
    assert kb is not None
    import datetime as dt

    assert [g.effective_from for g in kb.active(dt.date(2027, 2, 28))] == [dt.date(2025, 7, 1)]
    assert [g.effective_from for g in kb.active(dt.date(2027, 3, 1))] == [dt.date(2027, 3, 1)]


def test_every_problem_in_every_file_is_reported_at_once(kdir):
    edit(guide_file(kdir), "amount: 0", "amount: -5")
    edit(
        kdir / "office.yaml",
        'start: "07:30", end: "11:30"}, {start',
        'start: "7h30", end: "11:30"}, {start',
    )
    (kdir / "guides" / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    problems = rendered(kdir)
    files = {p.split(":", 1)[0] for p in problems}
    assert files == {"guides/khai-sinh.yaml", "office.yaml", "guides/broken.yaml"}, problems


def test_colon_inside_a_list_item_is_explained(kdir):
    path = guide_file(kdir)
    edit(
        path,
        "    - Chuẩn bị tờ khai và giấy chứng sinh",
        "    - Lưu ý: chuẩn bị tờ khai và giấy chứng sinh",
    )
    line = line_number(path, "    - Lưu ý: chuẩn bị")
    problems = rendered(kdir)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"guides/khai-sinh.yaml:{line}: mục 'steps.in_person[0]': phải là chữ"
    )
    assert "dấu ngoặc kép" in problems[0]


def test_menu_order_naming_a_missing_guide_is_a_warning(kdir):
    fields = kdir / "fields.yaml"
    fields.write_text(
        fields.read_text(encoding="utf-8").replace(
            'icon: "📘"', 'icon: "📘"\n    guides: [khai-sinh, khai-sinh-sai]'
        ),
        encoding="utf-8",
    )
    result = load_knowledge(kdir)
    assert result.ok
    assert [(p.severity, p.message) for p in result.problems] == [
        ("warning", "lĩnh vực 'ho-tich': không có hướng dẫn nào có id 'khai-sinh-sai'")
    ]
