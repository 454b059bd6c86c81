import os

from tests.pg import bot_db, postgres_url

# python-telegram-bot 22 warns unless its future timedelta behaviour is chosen; we handle both.
os.environ.setdefault("PTB_TIMEDELTA", "1")

__all__ = ["bot_db", "postgres_url"]  # fixtures for every test package
