"""Telegram: citizens in private chats, desk staff in one forum supergroup (a topic each)."""
