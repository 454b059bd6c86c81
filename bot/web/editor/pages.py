"""The guide editor pages under `/admin/<commune>/huong-dan`.

A guide file is edited as a form; a save is validated exactly as `knowledge validate` does (the
whole folder, with the edited file in place) and refused, with the messages on the fields and
nothing written, when it does not pass. A valid save becomes a draft; the author sends it for
review; another editor publishes it into the YAML file and the serving library reloads at once
(other processes reload on their next file poll).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from bot.web.editor.data import EditorData
from bot.web.editor.guard import require, user_of
from bot.web.editor.preview import preview
from flows.ports import VN_TZ, Clock
from knowledge.editing import add_example, provincial_refusal
from knowledge.editing_form import (
    add_item,
    apply_form,
    attach_errors,
    dump_doc,
    errors_by_field,
    form_nodes,
    load_doc,
)
from knowledge.editing_store import Checked, GuideStore, check_candidate
from knowledge.holder import LibraryHolder
from knowledge.loader import KnowledgeBase
from knowledge.maintenance import group_questions, stale_guides

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
UNANSWERED_DAYS = 30


@dataclass(frozen=True)
class EditorDeps:
    """`holders`: the live library of a commune (None: no such commune)."""

    holders: Callable[[str], LibraryHolder | None]
    clock: Clock
    data: EditorData
    records_dir: Path | None = None  # national records, for the drift report when present


def templates() -> Jinja2Templates:
    env = Jinja2Templates(directory=str(TEMPLATES))
    env.env.filters["tg_html"] = telegram_html
    env.env.filters["when"] = shown_time
    return env


def telegram_html(text: str) -> Markup:
    """Telegram's message as it looks: its only markup is <b>; everything else stays text."""
    escaped = str(escape(text))
    return Markup(escaped.replace("&lt;b&gt;", "<b>").replace("&lt;/b&gt;", "</b>"))


def shown_time(iso: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return moment.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m/%Y")


def _form(data: Any) -> dict[str, str]:
    return {key: str(value) for key, value in data.items() if isinstance(value, str)}


Endpoint = Callable[[Request], Awaitable[Response]]


def editor_routes(deps: EditorDeps) -> list[BaseRoute]:
    """Routes relative to the console's `/admin` mount."""
    pages = templates()

    def holder_of(request: Request) -> LibraryHolder | None:
        return deps.holders(str(request.path_params["commune"]))

    def rel_of(request: Request) -> str:
        return f"guides/{request.path_params['file']}.yaml"

    def base(request: Request) -> str:
        return f"/admin/{request.path_params['commune']}/huong-dan"

    def back(request: Request, message: str) -> Response:
        target = f"{base(request)}/sua/{request.path_params['file']}?tb={quote(message)}"
        return RedirectResponse(target, status_code=303)

    def who(request: Request) -> str:
        user = user_of(request)
        return user.username if user else ""

    async def guide_list(request: Request) -> Response:
        holder = holder_of(request)
        if holder is None:
            return PlainTextResponse("Không có xã này.", status_code=404)
        kb = holder.knowledge
        store = GuideStore(holder.root)
        now = deps.clock.now()
        drafts = {d.path: d for d in store.drafts()}
        rows = []
        for source in sorted(kb.sources, key=lambda s: (s.guide.field, s.guide.title)):
            if not source.path.is_relative_to(holder.root):
                continue  # a commune's own file (overrides): edited in its folder for now
            rel = str(source.path.relative_to(holder.root))
            rows.append(
                {
                    "rel": rel,
                    "slug": rel.removeprefix("guides/").removesuffix(".yaml"),
                    "guide": source.guide,
                    "field": kb.field_title(source.guide.field),
                    "draft": drafts.get(rel),
                    "approval": store.approval(rel),
                }
            )
        since = now - dt.timedelta(days=UNANSWERED_DAYS)
        questions = await deps.data.unanswered(str(request.path_params["commune"]), since)
        groups = group_questions(q for q in questions if q)
        drift = None
        if deps.records_dir is not None and deps.records_dir.is_dir():
            from knowledge.dvc import drift_report

            drift = drift_report(kb.active(now.date()), deps.records_dir)
        return pages.TemplateResponse(
            request,
            "editor/list.html",
            {
                "base": base(request),
                "rows": rows,
                "stale": stale_guides(kb, now.date()),
                "groups": groups[:30],
                "days": UNANSWERED_DAYS,
                "guides": kb.active(now.date()),
                "drift": drift,
                "message": request.query_params.get("tb", ""),
            },
        )

    async def add_question(request: Request) -> Response:
        holder = holder_of(request)
        if holder is None:
            return PlainTextResponse("Không có xã này.", status_code=404)
        form = _form(await request.form())
        user = user_of(request)
        result = add_example(
            holder.root,
            form.get("guide", ""),
            form.get("question", ""),
            who(request),
            deps.clock.now(),
            overrides=holder.overrides,
            commune=holder.commune,
            shared=holder.commune is not None and not (user and user.province_admin),
        )
        if result.ok:
            holder.load()
        return RedirectResponse(f"{base(request)}?tb={quote(result.message)}", status_code=303)

    def _render_edit(
        request: Request,
        holder: LibraryHolder,
        rel: str,
        text: str,
        checked: Checked | None,
        message: str = "",
        status: int = 200,
    ) -> Response:
        store = GuideStore(holder.root)
        try:
            doc = load_doc(text)
        except Exception:
            return PlainTextResponse(
                "Tệp có lỗi cú pháp YAML; hãy sửa tệp bằng tay hoặc chạy knowledge validate.",
                status_code=409,
            )
        nodes = form_nodes(doc)
        general: list[str] = []
        warnings: list[str] = []
        if checked is not None:
            errors = errors_by_field(
                text, [(p.line, p.message) for p in checked.problems if p.severity == "error"]
            )
            general = attach_errors(nodes, errors)
            general += [p.render(holder.root) for p in checked.other]
            warnings = [p.message for p in checked.problems if p.severity == "warning"]
        previews = _previews(holder, checked, rel) if checked is None or checked.ok else None
        return pages.TemplateResponse(
            request,
            "editor/edit.html",
            {
                "base": base(request),
                "slug": request.path_params["file"],
                "rel": rel,
                "nodes": nodes,
                "draft": store.draft(rel),
                "approval": store.approval(rel),
                "general": general,
                "warnings": warnings,
                "previews": previews,
                "message": message or request.query_params.get("tb", ""),
                "me": who(request),
                "status_error": status >= 400,
            },
            status_code=status,
        )

    def _previews(holder: LibraryHolder, checked: Checked | None, rel: str) -> Any:
        kb: KnowledgeBase | None = checked.knowledge if checked is not None else holder.knowledge
        if kb is None:
            return None
        source = next((s for s in kb.sources if s.path == holder.root / rel), None)
        if source is None:
            return None
        return preview(kb, source.guide, deps.clock.now(), holder.current().matcher)

    def _current_text(holder: LibraryHolder, rel: str) -> str:
        store = GuideStore(holder.root)
        draft = store.draft(rel)
        return draft.text if draft else store.published(rel)

    def _resolve(request: Request) -> tuple[LibraryHolder, str] | Response:
        holder = holder_of(request)
        if holder is None:
            return PlainTextResponse("Không có xã này.", status_code=404)
        rel = rel_of(request)
        try:
            GuideStore(holder.root).guide_file(rel)
        except ValueError:
            return PlainTextResponse("Không có tệp này.", status_code=404)
        if not (holder.root / rel).is_file():
            return PlainTextResponse("Không có tệp này.", status_code=404)
        return holder, rel

    async def edit_page(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        holder, rel = found
        text = _current_text(holder, rel)
        draft = GuideStore(holder.root).draft(rel)
        checked = check_candidate(holder.root, rel, text) if draft else None
        return _render_edit(request, holder, rel, text, checked)

    def _edited(holder: LibraryHolder, rel: str, form: Mapping[str, str]) -> tuple[str, Any]:
        original = _current_text(holder, rel)
        doc = load_doc(original)
        apply_form(doc, form)
        return dump_doc(doc, original), doc

    async def edit_save(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        holder, rel = found
        form = _form(await request.form())
        text, doc = _edited(holder, rel, form)
        if form.get("add"):
            add_item(doc, form["add"])
            return _render_edit(
                request,
                holder,
                rel,
                dump_doc(doc, text),
                None,
                "Đã thêm một mục trống; điền rồi lưu.",
            )
        checked = check_candidate(holder.root, rel, text)
        if not checked.ok:
            return _render_edit(
                request,
                holder,
                rel,
                text,
                checked,
                "Chưa lưu: có lỗi, xem các ô được đánh dấu.",
                status=422,
            )
        store = GuideStore(holder.root)
        if text == store.published(rel) and store.draft(rel) is None:
            return back(request, "Không có thay đổi.")
        store.save_draft(rel, text, who(request), deps.clock.now())
        return back(request, "Đã lưu bản nháp.")

    async def preview_part(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        holder, rel = found
        form = _form(await request.form())
        text, _ = _edited(holder, rel, form)
        checked = check_candidate(holder.root, rel, text)
        errors = [p.render(holder.root) for p in checked.errors]
        previews = _previews(holder, checked, rel) if checked.ok else None
        return pages.TemplateResponse(
            request, "editor/_preview.html", {"previews": previews, "errors": errors}
        )

    async def submit(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        holder, rel = found
        outcome = GuideStore(holder.root).submit(rel, who(request), deps.clock.now())
        return back(request, outcome.message)

    async def publish(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        holder, rel = found
        store = GuideStore(holder.root)
        draft = store.draft(rel)
        if draft is not None:
            checked = check_candidate(holder.root, rel, draft.text)
            if not checked.ok:
                return _render_edit(
                    request,
                    holder,
                    rel,
                    draft.text,
                    checked,
                    "Chưa đăng: bản nháp không còn hợp lệ.",
                    status=422,
                )
        outcome = store.publish(rel, who(request), deps.clock.now())
        if outcome.ok:
            loaded, _ = holder.load()
            if not loaded:
                return back(
                    request, "Đã đăng, nhưng thư viện chưa nạp lại được; bot vẫn dùng bản cũ."
                )
        return back(request, outcome.message)

    async def discard(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        holder, rel = found
        GuideStore(holder.root).discard(rel)
        return back(request, "Đã bỏ bản nháp.")

    async def history(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        holder, rel = found
        entries = GuideStore(holder.root).history(rel)
        shown = [
            {
                "entry": entry,
                "diff": list(
                    difflib.unified_diff(
                        entry.before.splitlines(),
                        entry.after.splitlines(),
                        "trước",
                        "sau",
                        lineterm="",
                        n=2,
                    )
                )[2:],
            }
            for entry in entries
        ]
        return pages.TemplateResponse(
            request,
            "editor/history.html",
            {
                "base": base(request),
                "slug": request.path_params["file"],
                "rel": rel,
                "entries": shown,
                "message": request.query_params.get("tb", ""),
            },
        )

    async def restore(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        holder, rel = found
        form = _form(await request.form())
        index = int(form["index"]) if form.get("index", "").isdigit() else -1
        outcome = GuideStore(holder.root).restore(rel, index, who(request), deps.clock.now())
        return back(request, outcome.message)

    def shared_files(endpoint: Endpoint) -> Endpoint:
        """The files these pages change are the province library's (`holder.root`): in a
        province every commune serves them, so only a province admin may change them."""

        async def guarded(request: Request) -> Response:
            holder, user = holder_of(request), user_of(request)
            province = holder is not None and holder.commune is not None
            if holder is not None and province and not (user and user.province_admin):
                path = holder.root / rel_of(request)
                found = [s.guide.title for s in holder.knowledge.sources if s.path == path]
                title = found[0] if found else str(request.path_params.get("file", ""))
                return PlainTextResponse(provincial_refusal(title), status_code=403)
            return await endpoint(request)

        return guarded

    editor = require("editor")

    def writer(endpoint: Endpoint) -> Endpoint:
        return editor(shared_files(endpoint))

    prefix = "/{commune}/huong-dan"
    return [
        Route(prefix, editor(guide_list), methods=["GET"], name="editor-list"),
        Route(f"{prefix}/them-cau", editor(add_question), methods=["POST"]),
        Route(f"{prefix}/sua/{{file:path}}", editor(edit_page), methods=["GET"]),
        Route(f"{prefix}/sua/{{file:path}}", writer(edit_save), methods=["POST"]),
        Route(f"{prefix}/xem-truoc/{{file:path}}", editor(preview_part), methods=["POST"]),
        Route(f"{prefix}/gui-duyet/{{file:path}}", writer(submit), methods=["POST"]),
        Route(f"{prefix}/dang/{{file:path}}", writer(publish), methods=["POST"]),
        Route(f"{prefix}/bo-nhap/{{file:path}}", writer(discard), methods=["POST"]),
        Route(f"{prefix}/lich-su/{{file:path}}", editor(history), methods=["GET"]),
        Route(f"{prefix}/khoi-phuc/{{file:path}}", writer(restore), methods=["POST"]),
    ]
