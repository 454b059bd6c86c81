"""Start-up check of the staff group: a wrong group otherwise fails silently at the first
handoff (no topic can be created, staff never see the citizen)."""

from __future__ import annotations

import logging

from telegram import Bot, ChatMemberAdministrator, ChatMemberOwner
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.config import StartupError

log = logging.getLogger(__name__)


async def check_staff_group(bot: Bot, chat_id: int) -> None:
    """Raise StartupError unless `chat_id` is a forum supergroup where the bot may manage topics.
    An unreachable Bot API is not a configuration error: logged, and the bot starts."""
    where = f"TELEGRAM_STAFF_CHAT_ID {chat_id}"
    try:
        chat = await bot.get_chat(chat_id)
        me = await bot.get_me()
        member = await bot.get_chat_member(chat_id, me.id)
    except (BadRequest, Forbidden) as exc:
        raise StartupError(
            f"{where}: the bot cannot open this group ({exc.message}); add the bot to the staff "
            "group and check the id"
        ) from None
    except (TimedOut, NetworkError) as exc:
        log.warning("could not check the staff group now (%s); continuing", type(exc).__name__)
        return
    if not chat.is_forum:
        raise StartupError(
            f"{where}: the group is not a forum; turn on Topics in the group settings"
        )
    if isinstance(member, ChatMemberOwner):
        return
    if not isinstance(member, ChatMemberAdministrator) or not member.can_manage_topics:
        raise StartupError(
            f"{where}: the bot is not an administrator allowed to manage topics; make it an "
            "administrator with the right to manage topics"
        )
