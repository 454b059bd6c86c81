"""Which files staff may send: by extension and by the file's first bytes."""

from bot.web.uploads import MAX_BYTES, OLE2, ZIP, check, clean_name


def test_allowed_kinds_pass_with_their_signatures() -> None:
    assert check("a.PDF", b"%PDF-1.7 ...").mime == "application/pdf"
    assert check("anh.jpeg", b"\xff\xd8\xff\xe1...").mime == "image/jpeg"
    assert check("anh.png", b"\x89PNG\r\n\x1a\n...").mime == "image/png"
    assert check("don.docx", ZIP + b"...").mime.endswith("wordprocessingml.document")
    assert check("bang.xls", OLE2 + b"...").mime == "application/vnd.ms-excel"


def test_anything_else_is_refused_with_a_reason() -> None:
    assert "chỉ nhận tệp PDF" in check("virus.exe", b"MZ").error
    assert "chỉ nhận tệp PDF" in check("khong-duoi", b"%PDF-").error
    assert "không đúng với đuôi «.docx»" in check("don.docx", b"%PDF-").error
    assert "10 MB" in check("lon.pdf", b"%PDF-" + b"0" * MAX_BYTES).error
    assert check("trong.pdf", b"").error


def test_names_lose_paths_and_control_characters() -> None:
    assert clean_name("C:\\Users\\lan\\tờ khai.pdf") == "tờ khai.pdf"
    assert clean_name("../../etc/\x00x.pdf") == "_x.pdf"
    long = clean_name("a" * 300 + ".pdf")
    assert len(long) == 100 and long.endswith(".pdf")
    assert clean_name("...") == "tep"
