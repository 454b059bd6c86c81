"""Guide editor (`/admin/<commune>/huong-dan`) and report dashboard (`/admin/<commune>/bao-cao`)."""

from bot.web.editor.data import EditorData, StoreEditorData
from bot.web.editor.pages import EditorDeps, editor_routes
from bot.web.editor.reports import report_routes

__all__ = ["EditorData", "EditorDeps", "StoreEditorData", "editor_routes", "report_routes"]
