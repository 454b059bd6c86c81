"""The guide editor pages under `/admin/<commune>/huong-dan`.

A guide file is edited as a form; a save is validated exactly as `knowledge validate` does (the
whole folder, with the edited file in place) and refused, with the messages on the fields and
nothing written, when it does not pass. A valid save becomes a draft; the author sends it for
review; another editor publishes it into the YAML file and the serving library reloads at once
(other processes reload on their next file poll).

In a province a guide comes from one of two layers: the province library every commune shares
(pages under `huong-dan/`, writable by a province admin only) or the commune's own override
folder (pages under `huong-dan/rieng/`, writable by the commune's editors; a save there is
validated together with the province layer). A commune's editor who wants to change a
provincial guide makes the commune's own copy first (`tao-ban-rieng`); the province file is only
read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
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
from knowledge.editing_store import Checked, GuideStore, check_candidate, own_copy
from knowledge.holder import LibraryHolder
from knowledge.loader import KnowledgeBase
from knowledge.maintenance import group_questions, stale_guides

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
UNANSWERED_DAYS = 30
OWN = "editor.own_layer"  # request scope key: the page edits the commune's override layer
PROVINCE_LABEL = "Tỉnh"
OWN_LABEL = "Riêng của xã"


@dataclass(frozen=True)
class Layer:
    """The folder a page edits: the holder's library (`root`) or the commune's overrides."""

    holder: LibraryHolder
    own: bool
    communes: Sequence[tuple[str, Path]] = ()
    """The communes' override folders layered over this province layer (own=False)."""

    @property
    def root(self) -> Path:
        if self.own:
            assert self.holder.overrides is not None
            return self.holder.overrides
        return self.holder.root

    @property
    def store(self) -> GuideStore:
        return GuideStore(self.root)

    def check(self, rel: str, text: str) -> Checked:
        if self.own:
            return check_candidate(
                self.holder.root, rel, text, self.holder.overrides, self.holder.commune
            )
        return check_candidate(self.holder.root, rel, text, communes=self.communes)


@dataclass(frozen=True)
class EditorDeps:
    """`holders`: the live library of a commune (None: no such commune)."""

    holders: Callable[[str], LibraryHolder | None]
    clock: Clock
    data: EditorData
    records_dir: Path | None = None  # national records, for the drift report when present
    communes: Callable[[], Iterable[tuple[str, LibraryHolder]]] = lambda: ()
    """Every commune served and its library: a province edit is validated with each layer."""


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

    def layers_over(root: Path) -> list[tuple[str, Path]]:
        """(commune id, overrides folder) of every commune layered over the province `root`."""
        province = root.resolve()
        return [
            (commune, held.overrides)
            for commune, held in deps.communes()
            if held.overrides is not None and held.root.resolve() == province
        ]

    def rel_of(request: Request) -> str:
        return f"guides/{request.path_params['file']}.yaml"

    def home(request: Request) -> str:
        return f"/admin/{request.path_params['commune']}/huong-dan"

    def base(request: Request) -> str:
        """Where the page's layer lives: the list's folder, or `rieng` for the commune's own."""
        return home(request) + ("/rieng" if request.scope.get(OWN) else "")

    def is_admin(request: Request) -> bool:
        user = user_of(request)
        return bool(user and user.province_admin)

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
        now = deps.clock.now()
        layers = [Layer(holder, False)]
        if holder.overrides is not None:
            layers.append(Layer(holder, True))
        drafts = {(la.own, d.path): d for la in layers for d in la.store.drafts()}
        rows = []
        for source in sorted(kb.sources, key=lambda s: (s.guide.field, s.guide.title)):
            layer = next((la for la in layers[::-1] if source.path.is_relative_to(la.root)), None)
            if layer is None:
                continue
            rel = str(source.path.relative_to(layer.root))
            slug = rel.removeprefix("guides/").removesuffix(".yaml")
            rows.append(
                {
                    "rel": rel,
                    "slug": slug,
                    "href": f"{home(request)}{'/rieng' if layer.own else ''}/sua/{slug}",
                    "layer": OWN_LABEL if layer.own else PROVINCE_LABEL,
                    "own": layer.own,
                    "guide": source.guide,
                    "field": kb.field_title(source.guide.field),
                    "draft": drafts.get((layer.own, rel)),
                    "approval": layer.store.approval(rel),
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
                "layered": holder.commune is not None or holder.overrides is not None,
                "shared_note": None
                if holder.commune is None or is_admin(request)
                else "copy"
                if holder.overrides is not None
                else "none",
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
        layer: Layer,
        rel: str,
        text: str,
        checked: Checked | None,
        message: str = "",
        status: int = 200,
        offer: str | None = None,
    ) -> Response:
        """`offer`: the title of a provincial guide this editor may not change, shown with
        the choice to make the commune's own copy instead of the form."""
        store = layer.store
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
            general += [_rendered(layer, p) for p in checked.other]
            warnings = [p.message for p in checked.problems if p.severity == "warning"]
        previews = _previews(layer, checked, rel) if checked is None or checked.ok else None
        holder = layer.holder
        return pages.TemplateResponse(
            request,
            "editor/edit.html",
            {
                "base": base(request),
                "home": home(request),
                "layer": (OWN_LABEL if layer.own else PROVINCE_LABEL)
                if holder.commune is not None or holder.overrides is not None
                else "",
                "offer": offer,
                "can_copy": holder.overrides is not None,
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

    def _rendered(layer: Layer, problem: Any) -> str:
        """`file:line: [layer] message`, the path relative to the folder it is in."""
        holder = layer.holder
        roots = [r for r in (holder.overrides, holder.root) if r is not None]
        roots += [own for _, own in layer.communes]
        inside = next((r for r in roots if problem.path.is_relative_to(r)), None)
        return str(problem.render(inside))

    def _previews(layer: Layer, checked: Checked | None, rel: str) -> Any:
        holder = layer.holder
        kb: KnowledgeBase | None = checked.knowledge if checked is not None else holder.knowledge
        if kb is None:
            return None
        source = next((s for s in kb.sources if s.path == layer.root / rel), None)
        if source is None:
            return None
        return preview(kb, source.guide, deps.clock.now(), holder.current().matcher)

    def _current_text(layer: Layer, rel: str) -> str:
        store = layer.store
        draft = store.draft(rel)
        return draft.text if draft else store.published(rel)

    def _resolve(request: Request) -> tuple[Layer, str] | Response:
        holder = holder_of(request)
        if holder is None:
            return PlainTextResponse("Không có xã này.", status_code=404)
        own = bool(request.scope.get(OWN))
        if own and holder.overrides is None:
            return PlainTextResponse("Xã này chưa có thư mục hướng dẫn riêng.", status_code=404)
        layer = Layer(holder, own, () if own else layers_over(holder.root))
        rel = rel_of(request)
        try:
            layer.store.guide_file(rel)
        except ValueError:
            return PlainTextResponse("Không có tệp này.", status_code=404)
        if not (layer.root / rel).is_file():
            return PlainTextResponse("Không có tệp này.", status_code=404)
        return layer, rel

    def _provincial_title(layer: Layer, rel: str) -> str | None:
        """The title of the guide when this page shows a province file of a province (a commune
        editor may not change it), else None."""
        holder = layer.holder
        if layer.own or holder.commune is None:
            return None
        path = holder.root / rel
        found = [s.guide.title for s in holder.knowledge.sources if s.path == path]
        return found[0] if found else rel

    async def edit_page(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        layer, rel = found
        text = _current_text(layer, rel)
        offer = None if is_admin(request) else _provincial_title(layer, rel)
        draft = layer.store.draft(rel)
        checked = layer.check(rel, text) if draft and offer is None else None
        return _render_edit(request, layer, rel, text, checked, offer=offer)

    def _edited(layer: Layer, rel: str, form: Mapping[str, str]) -> tuple[str, Any]:
        original = _current_text(layer, rel)
        doc = load_doc(original)
        apply_form(doc, form)
        return dump_doc(doc, original), doc

    async def edit_save(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        layer, rel = found
        form = _form(await request.form())
        text, doc = _edited(layer, rel, form)
        if form.get("add"):
            add_item(doc, form["add"])
            return _render_edit(
                request,
                layer,
                rel,
                dump_doc(doc, text),
                None,
                "Đã thêm một mục trống; điền rồi lưu.",
            )
        checked = layer.check(rel, text)
        if not checked.ok:
            return _render_edit(
                request,
                layer,
                rel,
                text,
                checked,
                "Chưa lưu: có lỗi, xem các ô được đánh dấu.",
                status=422,
            )
        store = layer.store
        if text == store.published(rel) and store.draft(rel) is None:
            return back(request, "Không có thay đổi.")
        store.save_draft(rel, text, who(request), deps.clock.now())
        return back(request, "Đã lưu bản nháp.")

    async def preview_part(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        layer, rel = found
        form = _form(await request.form())
        text, _ = _edited(layer, rel, form)
        # a preview checks the province alone: the communes' layers are checked on save
        checked = dataclasses.replace(layer, communes=()).check(rel, text)
        errors = [_rendered(layer, p) for p in checked.errors]
        previews = _previews(layer, checked, rel) if checked.ok else None
        return pages.TemplateResponse(
            request, "editor/_preview.html", {"previews": previews, "errors": errors}
        )

    async def submit(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        layer, rel = found
        outcome = layer.store.submit(rel, who(request), deps.clock.now())
        return back(request, outcome.message)

    async def publish(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        layer, rel = found
        store = layer.store
        draft = store.draft(rel)
        if draft is not None:
            checked = layer.check(rel, draft.text)
            if not checked.ok:
                return _render_edit(
                    request,
                    layer,
                    rel,
                    draft.text,
                    checked,
                    "Chưa đăng: bản nháp không còn hợp lệ.",
                    status=422,
                )
        outcome = store.publish(rel, who(request), deps.clock.now())
        if outcome.ok:
            loaded, _ = layer.holder.load()
            if not loaded:
                return back(
                    request, "Đã đăng, nhưng thư viện chưa nạp lại được; bot vẫn dùng bản cũ."
                )
        return back(request, outcome.message)

    async def discard(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        layer, rel = found
        layer.store.discard(rel)
        return back(request, "Đã bỏ bản nháp.")

    async def history(request: Request) -> Response:
        found = _resolve(request)
        if isinstance(found, Response):
            return found
        layer, rel = found
        entries = layer.store.history(rel)
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
                "home": home(request),
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
        layer, rel = found
        form = _form(await request.form())
        index = int(form["index"]) if form.get("index", "").isdigit() else -1
        outcome = layer.store.restore(rel, index, who(request), deps.clock.now())
        return back(request, outcome.message)

    async def make_own_copy(request: Request) -> Response:
        """«Tạo bản riêng cho xã»: the provincial guide copied into the commune's layer, then
        its edit page there."""
        holder = holder_of(request)
        if holder is None:
            return PlainTextResponse("Không có xã này.", status_code=404)
        if holder.overrides is None:
            return PlainTextResponse(
                "Xã này chưa có thư mục hướng dẫn riêng; nhờ quản trị viên của tỉnh tạo "
                "thư mục (mục knowledge của xã trong tệp danh sách xã).",
                status_code=409,
            )
        rel = rel_of(request)
        try:
            GuideStore(holder.root).guide_file(rel)
        except ValueError:
            return PlainTextResponse("Không có tệp này.", status_code=404)
        outcome = own_copy(
            holder.root, holder.overrides, holder.commune, rel, who(request), deps.clock.now()
        )
        if not outcome.ok:
            target = f"{home(request)}/sua/{request.path_params['file']}"
            return RedirectResponse(f"{target}?tb={quote(outcome.message)}", status_code=303)
        holder.load()
        target = f"{home(request)}/rieng/sua/{request.path_params['file']}"
        return RedirectResponse(f"{target}?tb={quote(outcome.message)}", status_code=303)

    def shared_files(endpoint: Endpoint) -> Endpoint:
        """The files these pages change are the province library's (`holder.root`): in a
        province every commune serves them, so only a province admin may change them."""

        async def guarded(request: Request) -> Response:
            holder, user = holder_of(request), user_of(request)
            province = holder is not None and holder.commune is not None
            if request.scope.get(OWN):
                return await endpoint(request)  # the commune's own layer: its editors' files
            if holder is not None and province and not (user and user.province_admin):
                path = holder.root / rel_of(request)
                found = [s.guide.title for s in holder.knowledge.sources if s.path == path]
                title = found[0] if found else str(request.path_params.get("file", ""))
                return PlainTextResponse(provincial_refusal(title), status_code=403)
            return await endpoint(request)

        return guarded

    editor = require("editor")

    def own_layer(endpoint: Endpoint) -> Endpoint:
        async def in_own(request: Request) -> Response:
            request.scope[OWN] = True
            return await endpoint(request)

        return in_own

    def layer_routes(prefix: str, own: bool) -> list[BaseRoute]:
        def wrap(endpoint: Endpoint) -> Endpoint:
            return own_layer(endpoint) if own else endpoint

        def read(endpoint: Endpoint) -> Endpoint:
            return editor(wrap(endpoint))

        def write(endpoint: Endpoint) -> Endpoint:  # the layer is known before the guard
            return editor(wrap(shared_files(endpoint)))

        path = "{file:path}"
        return [
            Route(f"{prefix}/sua/{path}", read(edit_page), methods=["GET"]),
            Route(f"{prefix}/sua/{path}", write(edit_save), methods=["POST"]),
            Route(f"{prefix}/xem-truoc/{path}", read(preview_part), methods=["POST"]),
            Route(f"{prefix}/gui-duyet/{path}", write(submit), methods=["POST"]),
            Route(f"{prefix}/dang/{path}", write(publish), methods=["POST"]),
            Route(f"{prefix}/bo-nhap/{path}", write(discard), methods=["POST"]),
            Route(f"{prefix}/lich-su/{path}", read(history), methods=["GET"]),
            Route(f"{prefix}/khoi-phuc/{path}", write(restore), methods=["POST"]),
        ]

    prefix = "/{commune}/huong-dan"
    return [
        Route(prefix, editor(guide_list), methods=["GET"], name="editor-list"),
        Route(f"{prefix}/them-cau", editor(add_question), methods=["POST"]),
        Route(f"{prefix}/tao-ban-rieng/{{file:path}}", editor(make_own_copy), methods=["POST"]),
        *layer_routes(f"{prefix}/rieng", own=True),
        *layer_routes(prefix, own=False),
    ]
