"""Regenerate the 2027-03-01 successor files from the current versions (run after editing them).

Usage: .venv/bin/python scripts/successors_2027.py [--write] [--force]
Without options it only lists the files whose content would change. `--write` rewrites a file
only if it is still exactly what this script wrote last time (its header carries a checksum of
its body): a successor edited by hand is never overwritten, it is listed instead (copy the
change into this script, or `--force` to overwrite it).
Summaries and desk lines of the successors live here; fees, times, deadlines and FAQs are copied
from the current version with citations of the repealed texts replaced and marked verify.
"""

import datetime as dt
import hashlib
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1] / "knowledge" / "guides"
NEW_LAW = "Luật Hộ tịch 2026 (Luật số 03/2026/QH16)"
START = dt.date(2027, 3, 1)
OLD_LAW = re.compile(r"Luật Hộ tịch 2014|60/2014/QH13", re.I)
ND120 = re.compile(r"120/2025/NĐ-CP|Nghị định 120/2025", re.I)
CONFIRM = "Từ 01/03/2027 quy định có thể đã thay đổi theo Luật Hộ tịch 2026, vui lòng hỏi cán bộ để chắc chắn."
FAQ_NOTE = "(Nội dung theo quy định trước 01/03/2027; vui lòng hỏi cán bộ để chắc chắn.)"

HO_TICH_INHERIT = [
    "code",
    "title",
    "field",
    "agency",
    "who",
    "documents",
    "steps",
    "benefits",
    "related",
    "aliases",
    "examples",
]
CT_INHERIT = [
    "code",
    "title",
    "field",
    "agency",
    "summary",
    "who",
    "documents",
    "documents_basis",
    "steps",
    "fees",
    "benefits",
    "processing_time",
    "deadline",
    "where",
    "related",
    "aliases",
    "examples",
]
NGHEO_INHERIT = [*CT_INHERIT, "legal_basis", "verify"]

CHANGE_FAQ = {
    "q": "Từ ngày 01/03/2027 thủ tục này có gì thay đổi?",
    "a": (
        "Từ 01/03/2027 Luật Hộ tịch 2026 thay thế Luật Hộ tịch 2014. Việc đăng ký hộ tịch không "
        "còn phụ thuộc nơi cư trú: có thể nộp tại UBND xã/phường thuận tiện hoặc nộp trực tuyến. "
        "Chính phủ và Bộ Tư pháp ban hành văn bản hướng dẫn mới, nên giấy tờ, lệ phí và thời hạn "
        "có thể thay đổi. Trước khi đi, vui lòng gọi {dien_thoai} hoặc hỏi cán bộ tại {trung_tam}."
    ),
    "legal_basis": [NEW_LAW],
    "verify": (
        "Nguyên tắc đăng ký không phụ thuộc nơi cư trú và ngày hiệu lực lấy theo nguồn thứ cấp "
        "dẫn Công báo; ghi số điều khi đọc được toàn văn Luật Hộ tịch 2026."
    ),
}

HO_TICH = {
    "khai-sinh": (
        "Đăng ký khai sinh cho trẻ mới sinh. Từ 01/03/2027 (Luật Hộ tịch 2026) việc đăng ký không còn "
        "phụ thuộc nơi cư trú của cha mẹ: có thể nộp tại UBND xã/phường thuận tiện hoặc trực tuyến. "
        "Đăng ký khai sinh đúng hạn vẫn được miễn lệ phí theo quy định trước đây; thời hạn và giấy tờ "
        "theo văn bản hướng dẫn mới, vui lòng hỏi cán bộ trước khi đi.",
        "Trung tâm Phục vụ hành chính công xã/phường (từ 01/03/2027 không phụ thuộc nơi cư trú của cha, mẹ)",
    ),
    "khai-tu": (
        "Khi có người mất, người thân đăng ký khai tử. Từ 01/03/2027 (Luật Hộ tịch 2026) việc đăng ký "
        "không còn phụ thuộc nơi cư trú cuối cùng của người mất: có thể nộp tại UBND xã/phường thuận "
        "tiện hoặc trực tuyến. Mang Giấy báo tử (hoặc giấy tờ thay thế). Thời hạn và lệ phí theo văn "
        "bản hướng dẫn mới, vui lòng hỏi cán bộ trước khi đi.",
        "Trung tâm Phục vụ hành chính công xã/phường (từ 01/03/2027 không phụ thuộc nơi cư trú cuối cùng của người mất)",
    ),
    "ket-hon": (
        "Hai bạn nam, nữ đủ tuổi và tự nguyện đăng ký kết hôn. Từ 01/03/2027 (Luật Hộ tịch 2026) việc "
        "đăng ký không còn phụ thuộc nơi cư trú của hai bên: có thể nộp tại UBND xã/phường thuận tiện. "
        "Cả hai cùng có mặt để ký. Lệ phí, thời hạn và giấy tờ theo văn bản hướng dẫn mới, vui lòng hỏi "
        "cán bộ trước khi đi.",
        "Trung tâm Phục vụ hành chính công xã/phường (từ 01/03/2027 không phụ thuộc nơi cư trú của bên nam, bên nữ)",
    ),
    "dang-ky-lai-khai-sinh": (
        "Dành cho người đã được khai sinh trước ngày 01/01/2016 nhưng cả bản chính Giấy khai sinh và Sổ "
        "hộ tịch đều đã bị mất. Từ 01/03/2027 (Luật Hộ tịch 2026) việc đăng ký không còn phụ thuộc nơi "
        "cư trú. Mang tờ khai và các giấy tờ cũ có thông tin khai sinh (học bạ, bằng cấp, giấy tờ tùy "
        "thân...). Thủ tục và thời hạn theo văn bản hướng dẫn mới, vui lòng hỏi cán bộ trước khi đi.",
        "Trung tâm Phục vụ hành chính công xã/phường (từ 01/03/2027 không phụ thuộc nơi cư trú; hỏi cán bộ về nơi đã đăng ký trước đây)",
    ),
    "giam-ho": (
        "Khi trẻ chưa thành niên không còn cha mẹ (hoặc cha mẹ không thể chăm sóc), hoặc người mất năng "
        "lực hành vi dân sự cần có người chăm lo, người giám hộ đăng ký việc giám hộ. Từ 01/03/2027 "
        "(Luật Hộ tịch 2026) việc đăng ký không còn phụ thuộc nơi cư trú. Lệ phí và thời hạn theo văn "
        "bản hướng dẫn mới, vui lòng hỏi cán bộ trước khi đi.",
        "Trung tâm Phục vụ hành chính công xã/phường (từ 01/03/2027 không phụ thuộc nơi cư trú của người giám hộ, người được giám hộ)",
    ),
    "khai-sinh-lien-thong": (
        "Nộp một bộ hồ sơ trực tuyến để làm cùng lúc ba việc cho con dưới 6 tuổi: Giấy khai sinh, đăng "
        "ký thường trú và thẻ bảo hiểm y tế. Từ 01/03/2027 Luật Hộ tịch 2026 có hiệu lực: việc khai "
        "sinh không còn phụ thuộc nơi cư trú, và cách làm liên thông có thể thay đổi theo văn bản mới. "
        "Vui lòng hỏi cán bộ nếu chưa chắc.",
        "Nộp trực tuyến là chính. Cần hỗ trợ thì đến Trung tâm Phục vụ hành chính công xã/phường (từ 01/03/2027 việc khai sinh không phụ thuộc nơi cư trú).",
    ),
    "nhan-cha-me-con": (
        "Dùng khi cha hoặc mẹ muốn nhận con, hoặc người con muốn nhận cha, mẹ. Nộp tờ khai và giấy tờ "
        "chứng minh quan hệ cha con, mẹ con. Từ 01/03/2027 (Luật Hộ tịch 2026) việc đăng ký không còn "
        "phụ thuộc nơi cư trú. Các bên phải cùng có mặt. Thời hạn và lệ phí theo văn bản hướng dẫn mới, "
        "vui lòng hỏi cán bộ trước khi đi.",
        "Trung tâm Phục vụ hành chính công xã/phường (từ 01/03/2027 không phụ thuộc nơi cư trú của các bên)",
    ),
    "thay-doi-cai-chinh-ho-tich": (
        "Dùng khi cần đổi họ, chữ đệm, tên; sửa thông tin bị ghi sai (cải chính); ghi thêm thông tin còn "
        "thiếu (bổ sung); hoặc xác định lại dân tộc. Từ 01/03/2027 (Luật Hộ tịch 2026) việc đăng ký "
        "không còn phụ thuộc nơi cư trú hay nơi đã đăng ký trước đây. Thời hạn và lệ phí theo văn bản "
        "hướng dẫn mới, vui lòng hỏi cán bộ trước khi đi.",
        "Trung tâm Phục vụ hành chính công xã/phường (từ 01/03/2027 không phụ thuộc nơi cư trú hay nơi đã đăng ký trước đây)",
    ),
    "trich-luc-ho-tich": (
        "Xin bản sao Giấy khai sinh, bản sao trích lục kết hôn, khai tử... từ Sổ hộ tịch hoặc Cơ sở dữ "
        "liệu hộ tịch, kể cả khi đã mất bản chính. Từ 01/03/2027 Luật Hộ tịch 2026 có hiệu lực; phí và "
        "nơi cấp theo văn bản hướng dẫn mới, vui lòng hỏi cán bộ trước khi đi.",
        "Trung tâm Phục vụ hành chính công xã/phường; việc hộ tịch đã có trong Cơ sở dữ liệu hộ tịch điện tử thì xin ở xã/phường nào cũng được (từ 01/03/2027 hỏi cán bộ về việc chỉ lưu trong Sổ hộ tịch giấy)",
    ),
    "xac-nhan-tinh-trang-hon-nhan": (
        "Cấp giấy xác nhận một người đang độc thân, đã ly hôn hoặc đang có vợ/chồng, để dùng vào việc cụ "
        "thể. Từ 01/03/2027 (Luật Hộ tịch 2026) việc cấp không còn phụ thuộc nơi cư trú. Giá trị của "
        "giấy, lệ phí và thời hạn theo văn bản hướng dẫn mới, vui lòng hỏi cán bộ trước khi đi.",
        "Trung tâm Phục vụ hành chính công xã/phường (từ 01/03/2027 không phụ thuộc nơi thường trú, tạm trú)",
    ),
}
CHUNG_THUC = ["chung-thuc-ban-sao", "chung-thuc-chu-ky", "chung-thuc-hop-dong"]


def swap(basis, ended_to_new=True):
    """Replace citations of ended texts; return (new list, the replaced citations)."""
    out, old = [], []
    for item in basis:
        if OLD_LAW.search(item):
            old.append(item)
            if NEW_LAW not in out:
                out.append(NEW_LAW)
        elif ND120.search(item):
            old.append(item)
        else:
            out.append(item)
    return out, old


def note(old, extra=None):
    text = (
        "Nội dung theo quy định trước 01/03/2027, căn cứ: " + "; ".join(old) + ". Chưa đối "
        "chiếu với Luật Hộ tịch 2026 và văn bản hướng dẫn."
    )
    return f"{extra} {text}" if extra else text


def fix_item(item, text_key=None, append=None):
    item = dict(item)
    basis, old = swap(item.get("legal_basis", []))
    if not old:
        return item
    item["legal_basis"] = basis
    item["verify"] = note(old, item.get("verify"))
    if text_key and append:
        item[text_key] = f"{item[text_key].rstrip()} {append}"
    return item


def fix_faq(faqs, law="Luật Hộ tịch 2026 và văn bản hướng dẫn mới"):
    out = []
    for faq in faqs:
        if ND120.search(" ".join(faq.get("legal_basis", []))):
            # the commune's power rested on NĐ 120/2025, which ends: say so instead of "yes"
            faq = {
                **faq,
                "a": "Trước 01/03/2027: " + faq["a"].rstrip() + f" Từ 01/03/2027 nơi "
                f"giải quyết theo {law}; vui lòng hỏi cán bộ trước khi đi.",
            }
            fixed = fix_item(faq)
        else:
            fixed = fix_item(faq, "a", FAQ_NOTE)
        if fixed.get("legal_basis") == [] and "legal_basis" in fixed:
            del fixed["legal_basis"]
        out.append(fixed)
    return out


def own_verify(data, extra):
    kept = [v for v in data.get("verify", []) if "cần soạn phiên bản mới" not in v]
    kept = [v for v in kept if not ("120/2025" in v and "hết hiệu lực" in v)]
    return extra + kept


def ho_tich(gid, path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    summary, desk = HO_TICH[gid]
    out = {"id": gid, "inherits": HO_TICH_INHERIT, "summary": summary}
    basis, _ = swap(data["documents_basis"])
    out["documents_basis"] = basis
    fees = []
    for fee in data["fees"]:
        fixed = fix_item(fee)
        if ND120.search(" ".join(fee["legal_basis"])):
            fixed["conditions"] = (
                fee.get("conditions", "").replace(
                    " Từ 01/7/2025 UBND xã/phường giải quyết việc này.", ""
                )
                + " Từ 01/03/2027 nơi giải quyết theo Luật Hộ tịch 2026; vui lòng hỏi cán bộ."
            ).strip()
        fees.append(fixed)
    out["fees"] = fees
    out["processing_time"] = fix_item(data["processing_time"], "text", CONFIRM)
    if data.get("deadline"):
        out["deadline"] = fix_item(data["deadline"], "text", CONFIRM)
    where = dict(data["where"])
    where["desk"] = desk
    out["where"] = where
    lb, _ = swap(data["legal_basis"])
    out["legal_basis"] = lb
    out["effective_from"] = START
    out["reviewed_on"] = dt.date(2026, 12, 1)
    title = data["title"][0].lower() + data["title"][1:]
    out["faq"] = [
        {**CHANGE_FAQ, "q": f"Từ 01/03/2027, {title} có gì thay đổi?"},
        *fix_faq(data.get("faq", [])),
    ]
    out["verify"] = own_verify(
        data,
        [
            "Phiên bản cho Luật Hộ tịch 2026, soạn trước khi có nghị định, thông tư hướng dẫn luật mới: "
            "đối chiếu giấy tờ, lệ phí, thời hạn, nơi nộp khi văn bản hướng dẫn được ban hành.",
            "Giấy tờ và các bước giữ như phiên bản trước 01/03/2027 (kế thừa); kiểm tra lại theo văn bản "
            "hướng dẫn Luật Hộ tịch 2026.",
            "Nghị định 123/2015/NĐ-CP và Thông tư 04/2020/TT-BTP hướng dẫn Luật Hộ tịch 2014: kiểm tra văn "
            "bản thay thế khi luật mới có hiệu lực.",
        ],
    )
    return data, out


def chung_thuc(gid, path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = {"id": gid, "inherits": CT_INHERIT}
    lb, _ = swap(data["legal_basis"])
    out["legal_basis"] = lb
    out["effective_from"] = START
    out["reviewed_on"] = dt.date(2026, 12, 1)
    out["faq"] = [
        {
            "q": f"Từ 01/03/2027, xã/phường còn làm {data['title'][0].lower() + data['title'][1:]} không?",
            "a": (
                "Xã/phường vẫn chứng thực theo Nghị định 23/2015/NĐ-CP. Riêng những việc xã/phường nhận "
                "thêm từ 01/07/2025 theo Nghị định 120/2025/NĐ-CP (trước đây do Phòng Tư pháp huyện làm) "
                "thì từ 01/03/2027 làm theo văn bản mới; vui lòng hỏi cán bộ tại {trung_tam} trước khi đi."
            ),
            "legal_basis": ["Nghị định 23/2015/NĐ-CP, Điều 5"],
            "verify": (
                "Nghị định 120/2025/NĐ-CP hết hiệu lực từ 01/03/2027 (nguồn thứ cấp); chưa tìm được "
                "văn bản thay thế về thẩm quyền chứng thực của cấp xã."
            ),
        },
        *fix_faq(data.get("faq", []), "văn bản thay thế Nghị định 120/2025/NĐ-CP"),
    ]
    out["verify"] = own_verify(
        data,
        [
            "Phiên bản từ 01/03/2027, khi Nghị định 120/2025/NĐ-CP hết hiệu lực: kiểm tra văn bản thay "
            "thế về thẩm quyền chứng thực của cấp xã; các mục khác kế thừa phiên bản trước.",
        ],
    )
    return data, out


def ho_ngheo(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = {
        "id": "ho-ngheo",
        "inherits": NGHEO_INHERIT,
        "effective_from": START,
        "reviewed_on": dt.date(2026, 12, 1),
        "faq": fix_faq(data["faq"]),
    }
    return data, out


class Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value):
    if len(value) > 90:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=">")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


Dumper.add_representer(str, _str)


WRITE = "--write" in sys.argv or "--force" in sys.argv
FORCE = "--force" in sys.argv
CHECKSUM = re.compile(r"^# tạo tự động, mã kiểm: ([0-9a-f]{16})$", re.M)


def checksum(body):
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def untouched(old):
    """Whether a successor file is still exactly what this script wrote (no hand edits)."""
    found = CHECKSUM.search(old)
    if found is None:
        return False
    body = old[old.index("\n", found.end()) + 1 :]
    return checksum(body) == found.group(1)


def write(path, gid, out, title):
    header = (
        f"# Phiên bản từ 01/03/2027 của hướng dẫn '{gid}' ({title}).\n"
        "# Các mục trong 'inherits' lấy từ phiên bản trước (tệp cùng id, không có ngày trong tên);\n"
        "# sửa cách hỏi, giấy tờ, các bước ở tệp đó. Điều chưa chắc chắn ghi vào 'verify'.\n"
    )
    text = yaml.dump(out, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100)
    text = text.replace(
        "inherits:\n" + "".join(f"- {k}\n" for k in out["inherits"]),
        "inherits: [" + ", ".join(out["inherits"]) + "]\n",
    )
    target = path.with_name(f"{gid}.{START}.yaml")
    old = target.read_text(encoding="utf-8") if target.exists() else None
    new = header + f"# tạo tự động, mã kiểm: {checksum(text)}\n" + text
    if old is not None and CHECKSUM.sub("", old).replace("\n\n", "\n", 1) == header + text:
        if WRITE and old != new:  # the same content, written before checksums existed
            target.write_text(new, encoding="utf-8")
        return
    if not WRITE:
        print(f"would change: {target}")
    elif old is None or untouched(old) or FORCE:
        target.write_text(new, encoding="utf-8")
        print(f"written: {target}")
    else:
        print(
            f"edited by hand, not rewritten (copy the change into this script, or --force): {target}"
        )


for gid in HO_TICH:
    p = ROOT / "ho-tich" / f"{gid}.yaml"
    data, out = ho_tich(gid, p)
    write(p, gid, out, data["title"])
for gid in CHUNG_THUC:
    p = ROOT / "chung-thuc" / f"{gid}.yaml"
    data, out = chung_thuc(gid, p)
    write(p, gid, out, data["title"])
p = ROOT / "bao-tro-xa-hoi" / "ho-ngheo.yaml"
data, out = ho_ngheo(p)
write(p, "ho-ngheo", out, data["title"])
