"""The staff inbox of one commune: the queue, a conversation, and the desk actions.

Live updates: the page opens a server-sent-event stream that says "change" whenever the queue
or an open conversation changes (a handoff created by the bot, a claim from Telegram, a citizen's
message); the page then reloads its parts with htmx. Every action is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from bot.web.auth import AuthService, StaffUser, current_user, require
from bot.web.inbox_backend import InboxBackend
from bot.web.uploads import MAX_BYTES, check

MAX_REPLY = 3000
MAX_NOTE = 2000
HEARTBEAT_SECONDS = 15.0
FLASH = {
    "claimed": "Bạn đã nhận xử lý cuộc trò chuyện này.",
    "took": "Bạn đã nhận thay {who}. Người dân được báo tên bạn.",
    "sent": "Đã gửi trả lời cho người dân.",
    "returned": "Đã trả cuộc trò chuyện cho trợ lý tự động.",
    "closed": "Đã kết thúc hỗ trợ.",
    "noted": "Đã lưu ghi chú nội bộ (người dân không thấy).",
    "transferred": "Đã chuyển cho {who}.",
    "empty": "Nội dung trống, chưa gửi gì.",
    "gone": "Cuộc trò chuyện này không còn chờ cán bộ.",
    "nobody": "Không tìm thấy đồng nghiệp đó.",
    "held": "{who} vừa nhận cuộc trò chuyện này. Muốn nhận thay, bấm «Nhận thay {who}».",
    "filesent": "Đã gửi tệp cho người dân.",
    "nofile": "Chưa chọn tệp nào, chưa gửi gì.",
    "zalo": "Zalo: chưa gửi được tệp qua trợ lý, hãy gửi đường dẫn hoặc nội dung.",
    "channel": "Kênh này chưa nhận được tệp, hãy gửi đường dẫn hoặc nội dung.",
}


def minutes(delta: dt.timedelta) -> str:
    total = int(delta.total_seconds() // 60)
    if total < 60:
        return f"{total} phút"
    return f"{total // 60} giờ {total % 60} phút"


def inbox_routes(
    inbox: InboxBackend, auth: AuthService, pages: Jinja2Templates, poll_seconds: float = 2.0
) -> list[BaseRoute]:
    """Routes relative to /admin: /{commune}/hop-thu and below."""

    def me(request: Request) -> StaffUser:
        user = current_user(request)
        assert user is not None  # guarded by require
        return user

    def back(request: Request, flash: str, **extra: str) -> Response:
        commune, cid = request.path_params["commune"], request.path_params["cid"]
        query = urlencode({"tb": flash, **extra})
        return RedirectResponse(f"/admin/{commune}/hop-thu/{cid}?{query}", status_code=303)

    async def colleagues(commune: str) -> list[StaffUser]:
        return [
            StaffUser.of(a)
            for a in await auth.store.accounts()
            if a.active and StaffUser.of(a).can(commune, "staff")
        ]

    @require("staff")
    async def queue_page(request: Request) -> Response:
        commune = request.path_params["commune"]
        entries = await inbox.queue(commune)
        return pages.TemplateResponse(
            request,
            "inbox.html",
            {"commune": commune, "entries": entries, "minutes": minutes},
        )

    @require("staff")
    async def queue_part(request: Request) -> Response:
        commune = request.path_params["commune"]
        entries = await inbox.queue(commune)
        return pages.TemplateResponse(
            request,
            "_queue.html",
            {"commune": commune, "entries": entries, "minutes": minutes},
        )

    @require("staff")
    async def events(request: Request) -> Response:
        commune = request.path_params["commune"]

        async def stream() -> AsyncIterator[str]:
            last: str | None = None
            idle = 0.0
            yield "retry: 3000\n\n"
            while True:
                version = await inbox.version(commune)
                if version != last:
                    if last is not None:
                        yield "event: change\ndata: queue\n\n"
                    last, idle = version, 0.0
                elif idle >= HEARTBEAT_SECONDS:
                    yield ": still here\n\n"
                    idle = 0.0
                await inbox.wait(poll_seconds)
                idle += poll_seconds

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def view_context(request: Request) -> dict[str, object] | None:
        commune, cid = request.path_params["commune"], request.path_params["cid"]
        view = await inbox.conversation(commune, cid)
        if view is None:
            return None
        user = me(request)
        holder = view.handoff.claimed_by if view.handoff else None
        flash = FLASH.get(request.query_params.get("tb", ""), "")
        if flash:
            flash = flash.format(who=request.query_params.get("who", "")[:100])
        file_error = str(request.state.file_error) if hasattr(request.state, "file_error") else ""
        return {
            "commune": commune,
            "view": view,
            "mine": holder == user.display_name,
            "holder": holder,
            "flash": flash,
            "file_error": file_error,
            "files_refused": FLASH["zalo"] if view.channel == "zalo" else "",
            "colleagues": [c for c in await colleagues(commune) if c.username != user.username],
            "now": None,
        }

    @require("staff")
    async def conversation_page(request: Request) -> Response:
        context = await view_context(request)
        if context is None:
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        return pages.TemplateResponse(request, "conversation.html", context)

    @require("staff")
    async def transcript_part(request: Request) -> Response:
        context = await view_context(request)
        if context is None:
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        return pages.TemplateResponse(request, "_transcript.html", context)

    async def audit(request: Request, action: str, detail: str = "") -> None:
        await auth.audit(
            me(request).username,
            action,
            request.path_params["commune"],
            f"conversation:{request.path_params['cid']}",
            detail,
        )

    async def exists(request: Request) -> bool:
        commune, cid = request.path_params["commune"], request.path_params["cid"]
        return await inbox.conversation(commune, cid) is not None

    @require("staff")
    async def claim(request: Request) -> Response:
        if not await exists(request):
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        cid = request.path_params["cid"]
        form = await request.form()
        # only a page that showed the holder's name (the «Nhận thay …» button) takes over
        shown = str(form.get("take_over") or "")[:100]
        result = await inbox.claim(me(request).display_name, cid, take_over=False)
        if not result.ok and result.held_by is not None and result.held_by == shown:
            result = await inbox.claim(me(request).display_name, cid, take_over=True)
        if not result.ok:
            if result.held_by is not None:
                return back(request, "held", who=result.held_by)
            return back(request, "gone")
        took = result.held_by
        await audit(request, "claim", f"thay {took}" if took else "")
        return back(request, "took", who=took) if took else back(request, "claimed")

    @require("staff")
    async def reply(request: Request) -> Response:
        if not await exists(request):
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        form = await request.form()
        text = str(form.get("text") or "").strip()[:MAX_REPLY]
        if not text:
            return back(request, "empty")
        if not await inbox.reply(me(request).display_name, request.path_params["cid"], text):
            return back(request, "gone")
        await audit(request, "reply")  # never the text: it may hold personal data
        return back(request, "sent")

    @require("staff")
    async def send_file(request: Request) -> Response:
        """A file for the citizen; a refused one is explained on the page (422), never sent."""
        if not await exists(request):
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("file")
            if isinstance(upload, str) or upload is None or not upload.filename:
                return back(request, "nofile")
            data = await upload.read(MAX_BYTES + 1)
            checked = check(upload.filename, data)
        if checked.error:
            return await refused(request, checked.error)
        cid = request.path_params["cid"]
        result = await inbox.send_file(
            me(request).display_name, cid, checked.name, checked.mime, data
        )
        if result != "sent":
            return back(request, result)
        await audit(request, "send_file")  # never the file name: it may hold personal data
        return back(request, "filesent")

    async def refused(request: Request, error: str) -> Response:
        request.state.file_error = error
        context = await view_context(request)
        if context is None:
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        return pages.TemplateResponse(request, "conversation.html", context, status_code=422)

    @require("staff")
    async def hand_back(request: Request) -> Response:
        if not await exists(request):
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        if not await inbox.hand_back(me(request).display_name, request.path_params["cid"]):
            return back(request, "gone")
        await audit(request, "hand_back")
        return back(request, "returned")

    @require("staff")
    async def close(request: Request) -> Response:
        if not await exists(request):
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        if not await inbox.close(me(request).display_name, request.path_params["cid"]):
            return back(request, "gone")
        await audit(request, "close")
        return back(request, "closed")

    @require("staff")
    async def note(request: Request) -> Response:
        if not await exists(request):
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        form = await request.form()
        text = str(form.get("text") or "").strip()[:MAX_NOTE]
        if not text:
            return back(request, "empty")
        await inbox.note(me(request).display_name, request.path_params["cid"], text)
        await audit(request, "note")
        return back(request, "noted")

    @require("staff")
    async def transfer(request: Request) -> Response:
        if not await exists(request):
            return PlainTextResponse("Không tìm thấy cuộc trò chuyện.", status_code=404)
        form = await request.form()
        wanted = str(form.get("to") or "")
        commune = request.path_params["commune"]
        target = next((c for c in await colleagues(commune) if c.username == wanted), None)
        if target is None:
            return back(request, "nobody")
        cid = request.path_params["cid"]
        if not await inbox.transfer(me(request).display_name, cid, target.display_name):
            return back(request, "gone")
        await audit(request, "transfer", f"cho {target.username}")
        return back(request, "transferred", who=target.display_name)

    base = "/{commune}/hop-thu"
    one = base + "/{cid:int}"
    return [
        Route(base, queue_page, methods=["GET"]),
        Route(base + "/hang-cho", queue_part, methods=["GET"]),
        Route(base + "/su-kien", events, methods=["GET"]),
        Route(one, conversation_page, methods=["GET"]),
        Route(one + "/noi-dung", transcript_part, methods=["GET"]),
        Route(one + "/nhan", claim, methods=["POST"]),
        Route(one + "/tra-loi", reply, methods=["POST"]),
        Route(one + "/gui-tep", send_file, methods=["POST"]),
        Route(one + "/tra-bot", hand_back, methods=["POST"]),
        Route(one + "/ket-thuc", close, methods=["POST"]),
        Route(one + "/ghi-chu", note, methods=["POST"]),
        Route(one + "/chuyen", transfer, methods=["POST"]),
    ]
