"""Who may open the editor and dashboard pages: the console's own guard (bot.web.auth), so
every console route is checked the same way (the route walk in tests/web)."""

from __future__ import annotations

from bot.web.auth import Role, current_user, require

user_of = current_user

__all__ = ["Role", "require", "user_of"]
