import os

# python-telegram-bot 22 warns unless its future timedelta behaviour is chosen; we handle both.
os.environ.setdefault("PTB_TIMEDELTA", "1")
