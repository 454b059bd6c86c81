"""The web console (staff inbox, guide editor, report dashboard) on the one ASGI app."""
