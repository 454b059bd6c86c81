"""Every fixed sentence the citizen or staff sees, in one place, so wording is easy to review.

Short, polite, plain Vietnamese for people who may be old or unused to phones.
"""

from __future__ import annotations

from flows.wording import press

# Button labels
B_STEPS = "Các bước"
B_DOCS = "Giấy tờ cần mang"
B_FEES = "Lệ phí"
B_ONLINE = "Nộp trực tuyến"
B_FAQ = "Câu hỏi thường gặp"
B_HUMAN = "Gặp cán bộ"
B_MENU = "Menu"
B_NEXT = "Tiếp"
B_BACK = "Quay lại"
B_DONE = "Xong"
B_MORE = "Xem tiếp"
B_YES_HELPFUL = "👍 Hữu ích"
B_NOT_HELPFUL = "👎 Chưa hữu ích"
B_IN_PERSON = "Nộp tại quầy"
B_CALC = "Tính lệ phí"
B_CARD = "Tóm tắt thủ tục"
B_CANCEL = "Hủy"
B_SKIP = "Bỏ qua"
B_YES = "Đồng ý"
B_NO = "Không"
B_DELETE_YES = "Có, xóa dữ liệu"
B_DELETE_NO = "Không xóa"
B_FEEDBACK = "Phản ánh, kiến nghị"
B_PRIVACY = "Quyền riêng tư"
B_CANCEL_HANDOFF = "Hủy gặp cán bộ"
B_DELETE_ME = "Xóa dữ liệu của tôi"

# How to reach a person or the privacy notice: the channel words it ("bấm «Gặp cán bộ»", "gõ số 9",
# or the command when the message has no such button).
HUMAN_REF = press(B_HUMAN, "/canbo")
PRIVACY_REF = press(B_PRIVACY, "/riengtu")

# The first message of every conversation says this (the AI law from 2026-03-01: people are told
# they deal with an automated system; the personal data law: they know how to see and delete it).
INTRO = (
    f"🤖 Đây là trợ lý tự động; muốn gặp cán bộ (người thật), {HUMAN_REF}. "
    f"Quyền riêng tư: {PRIVACY_REF}; xóa dữ liệu: gõ /xoadulieu."
)

WELCOME = (
    "Xin chào! Tôi hướng dẫn thủ tục hành chính của {commune}: giấy tờ, các bước, lệ phí, "
    "nộp hồ sơ trực tuyến.\n"
    "Bạn gõ câu hỏi (ví dụ: «làm giấy khai sinh») hoặc chọn lĩnh vực bên dưới.\n" + INTRO
)
MENU = "Bạn cần hỏi về lĩnh vực nào? Chọn một mục hoặc gõ câu hỏi."
FIELD_LIST = "Các thủ tục về {field}. Bạn chọn một thủ tục:"

CLARIFY = "Tôi chưa chắc bạn hỏi thủ tục nào. Có phải một trong các thủ tục này không?"
CLARIFY_AGAIN = "Bạn hỏi về thủ tục nào trong các thủ tục dưới đây? Bạn bấm chọn một thủ tục nhé."
NOT_THESE = "Không phải các mục này"
FALLBACK_FIRST = (
    "Xin lỗi, tôi chưa hiểu câu hỏi. Bạn thử gõ ngắn gọn tên thủ tục, "
    "ví dụ: «đăng ký kết hôn», «chứng thực bản sao», «trợ cấp người cao tuổi»."
)
WHICH_EARLIER = (
    "Bạn hỏi tiếp về thủ tục nào ạ? Nếu là thủ tục đã hỏi trước đó, bạn bấm chọn bên dưới; "
    "nếu là thủ tục khác, bạn gõ tên thủ tục."
)
WHICH_PROCEDURE = (
    "Bạn hỏi về thủ tục nào ạ? Bạn gõ giúp tôi tên thủ tục, "
    "ví dụ: «khai sinh mất bao lâu», «lệ phí chứng thực bản sao»."
)
OUTSIDE = (
    "Việc này không thuộc các thủ tục của Ủy ban xã mà trợ lý hướng dẫn. "
    f"Bạn cần hỏi thủ tục của xã thì cứ gõ tên thủ tục, hoặc {HUMAN_REF}."
)
FALLBACK_SECOND = (
    "Tôi vẫn chưa tìm được thủ tục bạn cần. Bạn có thể chọn một lĩnh vực bên dưới, "
    f"hoặc {HUMAN_REF} để được cán bộ trả lời trực tiếp."
)
EMPTY = "Bạn chưa nhập nội dung. Hãy gõ câu hỏi hoặc chọn một mục bên dưới."
NO_WORDS = "Tôi chỉ đọc được chữ. Bạn hãy gõ câu hỏi bằng chữ, hoặc chọn một mục bên dưới."
TOO_LONG = "Tin nhắn khá dài, tôi đã đọc phần đầu."
UNKNOWN_COMMAND = "Tôi không có lệnh này. Các lệnh: /menu, /canbo, /huy, /riengtu, /xoadulieu."
MEDIA = (
    "Tôi chưa đọc được ảnh, âm thanh, tệp hay nhãn dán. Bạn hãy gõ câu hỏi bằng chữ. "
    f"Nếu cần gửi giấy tờ cho cán bộ xem, {HUMAN_REF}."
)
CONTACT_THANKS = (
    "Cảm ơn bạn đã gửi thông tin liên hệ. Cán bộ sẽ dùng thông tin này khi cần liên hệ lại."
)
STALE = "Menu này đã cũ. Đây là menu hiện tại:"
CANCELLED = "Đã hủy. Bạn cần hỏi gì tiếp?"
FAILED = f"Xin lỗi, hệ thống đang gặp trục trặc. Bạn thử lại sau ít phút, hoặc {HUMAN_REF}."
UNPROCESSED = (
    "Xin lỗi, hệ thống chưa xử lý được tin nhắn vừa rồi của bạn. Bạn gửi lại giúp, hoặc "
    f"{HUMAN_REF}."
)
NOTHING_TO_CANCEL = "Không có việc gì đang làm dở. Bạn cần hỏi gì?"
MORE_DONE = "Đã hết nội dung."
CONTINUED = "(tiếp) {item}"

# Answer card and sections
CARD_WHO = "Cơ quan giải quyết: {}"
CARD_APPLICANT = "Người nộp: {who}"
CARD_DOCS = "Cần mang: {}"
CARD_FEE = "Lệ phí: {}"
CARD_TIME = "Thời gian: {}"
CARD_WHERE = "Nộp ở: {}"
CARD_ONLINE = "Trực tuyến: {}"
CARD_ASK = "Bạn muốn xem thêm gì?"
HELPFUL = "Thông tin này có hữu ích không?"
STEP = "Bước {n}/{total}"
STEPS_DONE = "Bạn đã xem hết các bước. Chúc bạn làm thủ tục thuận lợi!"
STEPS_CHOOSE = "Bạn muốn làm theo cách nào?"
DOCS_INTRO = "Giấy tờ cần chuẩn bị cho «{title}»:"
CHECKLIST = f"Chọn những giấy tờ bạn ĐÃ CÓ (chọn lại để bỏ). Xong thì {press(B_DONE)}."
CHECKLIST_MISSING = "Bạn còn thiếu những giấy tờ sau, nhớ mang theo khi đến nộp:"
CHECKLIST_COMPLETE = "Bạn đã có đủ giấy tờ cần thiết. Có thể đến nộp hồ sơ."
FEES_INTRO = "Lệ phí «{title}»:"
ONLINE_NONE = "Thủ tục này hiện phải nộp trực tiếp tại {desk}."
FAQ_INTRO = "Câu hỏi thường gặp về «{title}». Bạn chọn một câu:"
FAQ_NOT_ANSWERED = (
    "Tôi chưa có câu trả lời riêng cho câu này về «{title}». Bạn xem các câu hỏi thường gặp"
    " dưới đây, hoặc bấm «Gặp cán bộ» để hỏi cán bộ:"
)
NO_FAQ = "Chưa có câu hỏi thường gặp cho thủ tục này."
VERIFY_NOTE = "Một số thông tin đang được cán bộ kiểm tra lại; nếu cần chắc chắn, bạn hỏi cán bộ."

# Fee calculator
FEE_PAGES = "Bản chính có bao nhiêu trang? Gõ một số, ví dụ: 3"
FEE_COPIES = "Bạn cần bao nhiêu bản? Gõ một số, ví dụ: 2"
FEE_BAD_NUMBER = "Bạn gõ giúp tôi một số từ 1 đến {limit}, ví dụ: 2"
FEE_RESULT = (
    "{copies} bản × {per_copy} = {total}.\n"
    "Cách tính: {rule}. Tiền phí nộp tại nơi làm thủ tục, có biên lai."
)
FEE_CAPPED = "Mỗi bản đã tính theo mức tối đa."

# Rating
THANKS_HELPFUL = "Cảm ơn bạn! Bạn cần hỏi gì thêm cứ gõ nhé."
ASK_REASON = (
    "Xin lỗi vì thông tin chưa giúp được bạn. Bạn có thể gõ vài chữ cho biết chưa đúng ở đâu, "
    f"hoặc {HUMAN_REF} để hỏi trực tiếp."
)
THANKS_REASON = "Cảm ơn bạn đã góp ý. Chúng tôi sẽ xem lại hướng dẫn này."
THANKS_REASON_STAFF = (
    "Cảm ơn bạn đã góp ý. Ý kiến của bạn được chuyển tới bộ phận tiếp nhận để phục vụ tốt hơn."
)

# Handoff
HANDOFF_QUEUED = "Đã chuyển cho cán bộ. Bạn đang ở vị trí số {position} trong hàng chờ."
HANDOFF_OPEN = "Cán bộ sẽ trả lời bạn sớm, trong giờ làm việc."
HANDOFF_CLOSED_NOW = (
    "Hiện đang ngoài giờ làm việc ({hours}). Cán bộ sẽ trả lời từ {when}. "
    "Bạn cứ gõ nội dung cần hỏi, cán bộ sẽ đọc khi vào làm."
)
HOLIDAY_TODAY = "Hôm nay là ngày nghỉ ({name})."
HANDOFF_ALREADY = "Bạn đang chờ cán bộ (vị trí số {position}). Bạn cứ gõ nội dung cần hỏi."
STILL_WAITING = "Bạn vẫn đang chờ cán bộ; cán bộ sẽ xem tin nhắn của bạn."
HANDOFF_WITH_STAFF = "Bạn đang nói chuyện với cán bộ {staff}."
HANDOFF_CLAIMED = "Cán bộ {staff} đã nhận hỗ trợ bạn."
HANDOFF_RETURNED = "Cán bộ đã trả cuộc trò chuyện về cho trợ lý tự động. Bạn cần hỏi gì cứ gõ nhé."
HANDOFF_CLOSED = "Cán bộ đã kết thúc hỗ trợ. Bạn thấy sự hỗ trợ có tốt không?"
HANDOFF_CANCELLED = "Đã hủy yêu cầu gặp cán bộ. Bạn cần hỏi gì cứ gõ nhé."
STAFF_SIGNATURE = "{text}\n— {staff}, {center}"

# Feedback
FEEDBACK_ASK = (
    "Bạn muốn phản ánh hoặc kiến nghị điều gì về thủ tục hành chính? "
    "Hãy gõ nội dung (ví dụ: hồ sơ chậm, thủ tục khó hiểu, góp ý cải tiến)."
)
FEEDBACK_CONSENT = (
    "Bạn có muốn để lại họ tên và số điện thoại để cán bộ liên hệ trả lời không? "
    "Thông tin này chỉ dùng để trả lời phản ánh của bạn. Không để lại cũng được."
)
FEEDBACK_NAME = "Bạn gõ họ và tên:"
FEEDBACK_PHONE = "Bạn gõ số điện thoại (ví dụ: 0912345678):"
FEEDBACK_BAD_PHONE = (
    f"Số điện thoại chưa đúng. Bạn gõ lại (10 chữ số, ví dụ: 0912345678), hoặc {press(B_SKIP)}."
)
FEEDBACK_DONE = (
    "Đã ghi nhận phản ánh của bạn. Mã phản ánh: {ref}.\n"
    "Bạn giữ mã này để hỏi lại kết quả. Cảm ơn bạn đã góp ý!"
)
FEEDBACK_TOO_SHORT = "Nội dung hơi ngắn. Bạn gõ rõ hơn một chút giúp tôi nhé."

# Privacy
PRIVACY = (
    "Quyền riêng tư: Tôi lưu nội dung trò chuyện để trả lời bạn và để cán bộ hỗ trợ khi bạn cần. "
    "Số điện thoại, số căn cước trong tin nhắn được che bớt khi lưu. "
    "Họ tên, số điện thoại chỉ lưu khi bạn đồng ý. Bạn có thể xóa dữ liệu của mình bất cứ lúc nào "
    "bằng lệnh /xoadulieu."
)
DELETE_CONFIRM = (
    "Bạn có chắc muốn xóa toàn bộ dữ liệu trò chuyện của mình không? "
    "Việc này không hoàn tác được. Yêu cầu gặp cán bộ đang chờ (nếu có) cũng bị hủy."
)
DELETED = "Đã xóa dữ liệu của bạn. Nếu cần hỏi tiếp, bạn cứ gõ như bình thường."
DELETE_KEPT = "Đã giữ nguyên dữ liệu. Bạn cần hỏi gì tiếp?"

# Staff desk (Vietnamese: desk staff are commune officials)
S_HANDOFF = (
    "Yêu cầu gặp cán bộ\n"
    "Người dân: {name} ({channel})\n"
    "Thủ tục đang hỏi: {guide}\n"
    "Chờ từ: {since}\n"
    "Tin nhắn gần đây:\n{recent}"
)
S_CLAIM = "Nhận xử lý"
S_RETURN = "Trả về bot"
S_CLOSE = "Đóng"
S_CLAIMED = "{staff} đã nhận xử lý."
S_ALREADY_CLAIMED = "⚠️ {staff} đang xử lý cuộc trò chuyện này; {other} nhận thay từ bây giờ."
S_RETURNED = "{staff} đã trả cuộc trò chuyện về bot."
S_CLOSED = "{staff} đã đóng cuộc trò chuyện."
S_TRANSFERRED = "{staff} đã chuyển cuộc trò chuyện cho {other}."
S_NOTE = "📝 Ghi chú nội bộ của {staff} (người dân không thấy): {text}"
HANDOFF_TRANSFERRED = "Cán bộ {staff} sẽ tiếp tục hỗ trợ bạn."
S_CITIZEN = "{name}: {text}"
S_BOT_ANSWERED = "🤖 Trợ lý đã trả lời tạm bằng hướng dẫn «{title}»."
S_CITIZEN_MEDIA = "{name} gửi {media}{caption}"
MEDIA_NAMES = {
    "photo": "ảnh",
    "sticker": "nhãn dán",
    "voice": "tin nhắn thoại",
    "audio": "tệp âm thanh",
    "video": "video",
    "file": "tệp",
    "location": "vị trí",
    "link": "đường dẫn",
    "other": "tệp",
}
S_CANCELLED = "{name} đã hủy yêu cầu gặp cán bộ."
S_DELETED = "{name} đã xóa dữ liệu của mình; yêu cầu gặp cán bộ bị hủy."
S_REMIND = "Nhắc: {name} đang chờ cán bộ từ {since} ({minutes} phút)."
S_REMIND_OPENING = "Đầu giờ làm việc: {name} đang chờ cán bộ từ {since}."
S_FEEDBACK = "Phản ánh mới {ref}\nNội dung: {content}\nLiên hệ: {contact}"
S_NOT_OPEN = "Cuộc trò chuyện này không còn chờ cán bộ."
S_UNDELIVERED = "Không gửi được tin nhắn tới {name}: {reason}"
S_UNDELIVERED_WHY = "Không gửi được tin nhắn tới {name}. Lý do: {why}.\nNội dung chưa gửi: {text}"
S_NO_CONVERSATION = "Không tìm thấy cuộc trò chuyện này."
S_CANDIDATE = (
    "Câu hỏi cán bộ vừa trả lời: «{question}»\n"
    "Biên tập viên: nếu hay gặp, chọn thủ tục để thêm câu này làm câu ví dụ cho trợ lý."
)
S_SKIP_CANDIDATE = "Không thêm"
S_RATING_BAD = "{name} chưa hài lòng với hướng dẫn «{guide}»: {reason}"
S_RATING_BAD_STAFF = "{name} chưa hài lòng với sự hỗ trợ của cán bộ: {reason}"

# Understanding v2: answers about who may file, late filing, benefit amounts; pointers; numbers.
BENEFIT_UNKNOWN = (
    "«{title}» — hướng dẫn chưa ghi mức tiền được hưởng. Mức cụ thể tùy từng trường hợp; "
    "bạn vui lòng hỏi cán bộ tại bộ phận một cửa hoặc bấm «Gặp cán bộ»."
)
LATE_UNKNOWN = (
    "«{title}» — hướng dẫn không ghi thời hạn phải làm hay mức phạt khi làm muộn. "
    "Bạn vui lòng hỏi cán bộ tại bộ phận một cửa."
)
POINTER = "«{title}» không do Ủy ban xã giải quyết. Bạn liên hệ: {agency}."
POINTER_COMMUNE = (
    "«{title}» do {agency} giải quyết, nhưng trợ lý chưa có hướng dẫn chi tiết. "
    f"Để được cán bộ hướng dẫn, {HUMAN_REF}."
)
CHOOSE_NUMBER = "Vui lòng chọn số từ 1 đến {count}."
CORRECTED = (
    "Xin lỗi bạn. Bạn gõ tên thủ tục cần hỏi (ví dụ: «đăng ký lại khai tử»), hoặc bấm"
    " «Gặp cán bộ» để hỏi cán bộ."
)
MULTI = "Bạn đang hỏi về {count} thủ tục. Bấm vào từng thủ tục để xem hướng dẫn:"
YOU_ARE_WELCOME = "Dạ, không có gì ạ! Bạn cần hỏi gì thêm cứ gõ nhé."
THANK_YOU_BACK = "Dạ, cảm ơn bạn ạ! Bạn cần hỏi thủ tục nào cứ gõ nhé."
ACKNOWLEDGED = "Dạ vâng ạ. Bạn cần hỏi thêm thủ tục nào cứ gõ nhé."
GOODBYE = "Dạ, chào bạn ạ! Khi cần hỏi thủ tục, bạn cứ nhắn nhé."
