"""Commands for knowledge editors (commune officials): reload, stale guides, unmatched questions.

Answers are plain Vietnamese; file:line errors point at what to fix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from flows.ports import Clock, FeedbackStatus, Storage
from knowledge.editing import add_example
from knowledge.holder import LibraryHolder
from knowledge.maintenance import UNMATCHED_EVENTS, group_questions, stale_guides
from knowledge.normalize import fold

EditorCommand = Callable[[str, list[str]], Awaitable[str]]
MAX_LINES = 20
ERASED = "(nội dung đã xóa theo yêu cầu của người dân)"


def editor_commands(
    holder: LibraryHolder, storage: Storage, clock: Clock
) -> dict[str, EditorCommand]:
    async def reload(who: str, args: list[str]) -> str:
        loaded, problems = holder.load()
        shown = [p.render(holder.root) for p in problems[:MAX_LINES]]
        if not loaded:
            return "Chưa nạp được vì có lỗi; bot vẫn dùng bản cũ.\n" + "\n".join(shown)
        count = len(holder.current().guides)
        text = f"Đã nạp lại {count} thủ tục."
        return text + ("\nCảnh báo:\n" + "\n".join(shown) if shown else "")

    async def stale(who: str, args: list[str]) -> str:
        days = int(args[0]) if args and args[0].isdigit() else None
        items = stale_guides(holder.knowledge, clock.now().date(), days)
        if not items:
            return "Không có hướng dẫn nào quá hạn rà soát."
        lines = [f"• {i.title} ({i.id}): {i.reason}" for i in items[:MAX_LINES]]
        return "Hướng dẫn cần rà soát:\n" + "\n".join(lines)

    async def unmatched(who: str, args: list[str]) -> str:
        days = int(args[0]) if args and args[0].isdigit() else 30
        since = clock.now() - dt.timedelta(days=days)
        questions = [
            str(event.data.get("query") or event.data.get("reason") or "")
            for _, event in await storage.events.between(since=since)
            if event.kind in UNMATCHED_EVENTS
        ]
        groups = group_questions(q for q in questions if q)
        if not groups:
            return f"Không có câu hỏi nào chưa trả lời được trong {days} ngày qua."
        lines = [f"{g.count} × {g.representative}" for g in groups[:MAX_LINES]]
        return f"Câu hỏi bot chưa trả lời được ({days} ngày qua):\n" + "\n".join(lines)

    async def add_example_command(who: str, args: list[str]) -> str:
        if len(args) < 2:
            return "Cách dùng: /themcau <id thủ tục> <câu hỏi>, ví dụ: /themcau khai-sinh lam giay khai sinh o dau"
        try:
            # in a province, into the commune's own layer only (never the shared guides)
            result = add_example(
                holder.root,
                args[0],
                " ".join(args[1:]),
                who,
                clock.now(),
                overrides=holder.overrides,
                commune=holder.commune,
                shared=holder.commune is not None,
            )
        except PermissionError as exc:
            # guides bind-mounted from the host belong to the host's user (see README, Docker)
            return (
                f"Bot không có quyền ghi vào thư mục hướng dẫn ({exc.filename}). "
                "Người quản trị cần cho tài khoản chạy bot quyền ghi thư mục này."
            )
        if result.ok:
            holder.load()
        return result.message

    return {
        "reload": reload,
        "stale": stale,
        "unmatched": unmatched,
        "themcau": add_example_command,
    }


STATUS_WORDS: dict[str, FeedbackStatus] = {
    "xuly": "in_progress",
    "dangxuly": "in_progress",
    "traloi": "answered",
    "datraloi": "answered",
    "xong": "answered",
}
STATUS_NAMES = {"new": "mới", "in_progress": "đang xử lý", "answered": "đã trả lời"}


def staff_commands(storage: Storage) -> dict[str, EditorCommand]:
    """Commands desk staff use in the staff group."""

    async def feedback(who: str, args: list[str]) -> str:
        if not args:
            items = [f for f in await storage.feedback.items() if f.status != "answered"]
            if not items:
                return "Không có phản ánh nào đang chờ."
            lines = [
                f"{f.ref} ({STATUS_NAMES[f.status]}): {f.content[:80] or ERASED}"
                for f in items[-MAX_LINES:]
            ]
            return "Phản ánh chưa trả lời:\n" + "\n".join(lines)
        status = STATUS_WORDS.get(fold(" ".join(args[1:])).replace(" ", ""))
        if status is None:
            return "Cách dùng: /phananh <mã> xuly | traloi (ví dụ: /phananh PA-2026-000001 traloi)"
        item = await storage.feedback.set_status(args[0], status)
        if item is None:
            return f"Không có phản ánh mã {args[0]}."
        return f"{item.ref}: {STATUS_NAMES[item.status]} ({who})."

    return {"phananh": feedback}
