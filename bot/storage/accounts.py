"""Web console persistence: staff accounts, server-side sessions, the audit log, inbox notes.

Sessions are stored by the SHA-256 of their token, so a copy of the database does not let anyone
log in. Failed logins are rows too, so every process behind a proxy counts the same attempts. Audit rows say who did what, when, and on which conversation or guide; they never hold a
citizen's text. Internal notes are staff text about a conversation and are erased with it.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.storage.memory import MemoryDatabase, MemoryStorage, aware
from bot.storage.sqlite import SqliteDatabase, SqliteStorage
from bot.storage.timecode import iso as _iso
from bot.storage.timecode import us as _us

if TYPE_CHECKING:
    from bot.storage.postgres import PostgresDatabase

Role = Literal["staff", "editor", "admin"]
ROLES: tuple[Role, ...] = ("staff", "editor", "admin")
FAILURES_KEPT = dt.timedelta(days=1)  # failed logins older than this are forgotten
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Account(BaseModel):
    username: str
    display_name: str
    password_hash: str
    province_admin: bool = False
    roles: dict[str, set[Role]] = Field(default_factory=dict)  # commune id -> roles
    active: bool = True
    created_at: dt.datetime


class StoredSession(BaseModel):
    model_config = ConfigDict(frozen=True)

    token_hash: str
    username: str
    csrf: str
    created_at: dt.datetime
    expires_at: dt.datetime


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int = 0
    at: dt.datetime
    username: str
    action: str  # e.g. "login", "claim", "reply", "close", "transfer", "guide_publish"
    commune: str | None = None
    target: str | None = None  # "conversation:12", "guide:khai-sinh"
    detail: str = ""


class InboxNote(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    conversation_id: int
    author: str
    text: str
    at: dt.datetime


class AccountExistsError(ValueError):
    """The username is taken."""


class AccountStore(abc.ABC):
    @abc.abstractmethod
    async def add_account(self, account: Account) -> None:
        """Raises AccountExistsError when the username is taken."""

    @abc.abstractmethod
    async def save_account(self, account: Account) -> None: ...

    @abc.abstractmethod
    async def account(self, username: str) -> Account | None: ...

    @abc.abstractmethod
    async def accounts(self) -> list[Account]:
        """Every account, by username."""

    @abc.abstractmethod
    async def add_session(self, session: StoredSession) -> None: ...

    @abc.abstractmethod
    async def session(self, token_hash: str, now: dt.datetime) -> StoredSession | None:
        """The session if it exists and has not expired at `now`."""

    @abc.abstractmethod
    async def drop_session(self, token_hash: str) -> None: ...

    @abc.abstractmethod
    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        """Store and return it with its id."""

    @abc.abstractmethod
    async def audit(self, limit: int = 200, commune: str | None = None) -> list[AuditEntry]:
        """The newest entries first (of one commune when given)."""

    @abc.abstractmethod
    async def add_note(
        self, conversation_id: int, author: str, text: str, now: dt.datetime
    ) -> InboxNote: ...

    @abc.abstractmethod
    async def notes(self, conversation_id: int) -> list[InboxNote]:
        """Oldest first."""

    @abc.abstractmethod
    async def login_failed(self, username: str, address: str, now: dt.datetime) -> None:
        """Count a failed login (failures older than FAILURES_KEPT may be dropped)."""

    @abc.abstractmethod
    async def login_failures(
        self, username: str, address: str, since: dt.datetime
    ) -> tuple[int, int]:
        """Failed logins after `since`: (for this username, from this address)."""

    @abc.abstractmethod
    async def login_succeeded(self, username: str) -> None:
        """Forget the username's failures (those of its address still count)."""


# --- memory -------------------------------------------------------------------------------


class MemoryAccountStore(AccountStore):
    def __init__(self, erased: set[int] | None = None) -> None:
        """`erased`: ids of erased conversations (a MemoryStorage's), whose notes are gone."""
        self._erased = erased if erased is not None else set()
        self._accounts: dict[str, Account] = {}
        self._sessions: dict[str, StoredSession] = {}
        self._audit: list[AuditEntry] = []
        self._notes: list[InboxNote] = []
        self._failures: list[tuple[str, str, dt.datetime]] = []

    async def add_account(self, account: Account) -> None:
        if account.username in self._accounts:
            raise AccountExistsError(account.username)
        self._accounts[account.username] = account.model_copy(deep=True)

    async def save_account(self, account: Account) -> None:
        self._accounts[account.username] = account.model_copy(deep=True)
        if not account.active:
            self._sessions = {
                k: s for k, s in self._sessions.items() if s.username != account.username
            }

    async def account(self, username: str) -> Account | None:
        found = self._accounts.get(username)
        return found.model_copy(deep=True) if found else None

    async def accounts(self) -> list[Account]:
        return [self._accounts[k].model_copy(deep=True) for k in sorted(self._accounts)]

    async def add_session(self, session: StoredSession) -> None:
        self._sessions[session.token_hash] = session

    async def session(self, token_hash: str, now: dt.datetime) -> StoredSession | None:
        found = self._sessions.get(token_hash)
        if found is None or aware(found.expires_at) <= aware(now):
            return None
        return found

    async def drop_session(self, token_hash: str) -> None:
        self._sessions.pop(token_hash, None)

    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        stored = entry.model_copy(update={"id": len(self._audit) + 1})
        self._audit.append(stored)
        return stored

    async def audit(self, limit: int = 200, commune: str | None = None) -> list[AuditEntry]:
        rows = [e for e in self._audit if commune is None or e.commune == commune]
        rows.sort(key=lambda e: (aware(e.at), e.id), reverse=True)
        return rows[:limit]

    async def add_note(
        self, conversation_id: int, author: str, text: str, now: dt.datetime
    ) -> InboxNote:
        note = InboxNote(
            id=len(self._notes) + 1,
            conversation_id=conversation_id,
            author=author,
            text=text,
            at=now,
        )
        self._notes.append(note)
        return note

    async def notes(self, conversation_id: int) -> list[InboxNote]:
        if conversation_id in self._erased:
            self._notes = [n for n in self._notes if n.conversation_id != conversation_id]
        return [n for n in self._notes if n.conversation_id == conversation_id]

    async def login_failed(self, username: str, address: str, now: dt.datetime) -> None:
        cutoff = aware(now) - FAILURES_KEPT
        self._failures = [f for f in self._failures if f[2] > cutoff]
        self._failures.append((username, address, aware(now)))

    async def login_failures(
        self, username: str, address: str, since: dt.datetime
    ) -> tuple[int, int]:
        recent = [f for f in self._failures if f[2] > aware(since)]
        return sum(f[0] == username for f in recent), sum(f[1] == address for f in recent)

    async def login_succeeded(self, username: str) -> None:
        self._failures = [f for f in self._failures if f[0] != username]


# --- SQLite (same database and connection as the conversations) ----------------------------


def _account(row: Any) -> Account:
    """An account from its row (a sqlite3.Row or an asyncpg Record: the same columns)."""
    roles = {c: set(r) for c, r in json.loads(row["roles"]).items()}
    return Account(
        username=row["username"],
        display_name=row["display_name"],
        password_hash=row["password_hash"],
        province_admin=bool(row["province_admin"]),
        roles=roles,
        active=bool(row["active"]),
        created_at=dt.datetime.fromisoformat(row["created_at"]),
    )


def _audit_entry(row: Any) -> AuditEntry:
    """An audit entry from its row (SQLite or PostgreSQL: the same columns)."""
    return AuditEntry(
        id=row["id"],
        at=dt.datetime.fromisoformat(row["at"]),
        username=row["username"],
        action=row["action"],
        commune=row["commune"],
        target=row["target"],
        detail=row["detail"],
    )


def _roles_json(account: Account) -> str:
    return json.dumps({c: sorted(r) for c, r in sorted(account.roles.items())})


class SqliteAccountStore(AccountStore):
    """Accounts are the province's (one table for every commune of the database); a store
    built from a commune's SqliteStorage uses that storage's database."""

    def __init__(self, storage: SqliteStorage | SqliteDatabase) -> None:
        self._db = storage.database if isinstance(storage, SqliteStorage) else storage

    async def add_account(self, account: Account) -> None:
        rows = await self._db.write_one(
            "INSERT INTO staff_accounts (username, display_name, password_hash, province_admin,"
            " roles, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (username) DO NOTHING RETURNING username",
            (
                account.username,
                account.display_name,
                account.password_hash,
                int(account.province_admin),
                _roles_json(account),
                int(account.active),
                _iso(account.created_at),
            ),
        )
        if not rows:
            raise AccountExistsError(account.username)

    async def save_account(self, account: Account) -> None:
        await self._db.write_one(
            "UPDATE staff_accounts SET display_name = ?, password_hash = ?, province_admin = ?,"
            " roles = ?, active = ? WHERE username = ?",
            (
                account.display_name,
                account.password_hash,
                int(account.province_admin),
                _roles_json(account),
                int(account.active),
                account.username,
            ),
        )
        if not account.active:
            await self._db.write_one(
                "DELETE FROM staff_sessions WHERE username = ?", (account.username,)
            )

    async def account(self, username: str) -> Account | None:
        rows = await self._db.read("SELECT * FROM staff_accounts WHERE username = ?", (username,))
        return _account(rows[0]) if rows else None

    async def accounts(self) -> list[Account]:
        rows = await self._db.read("SELECT * FROM staff_accounts ORDER BY username")
        return [_account(row) for row in rows]

    async def add_session(self, session: StoredSession) -> None:
        await self._db.write_one(
            "INSERT INTO staff_sessions (token_hash, username, csrf, created_at, expires_us)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                session.token_hash,
                session.username,
                session.csrf,
                _iso(session.created_at),
                _us(session.expires_at),
            ),
        )

    async def session(self, token_hash: str, now: dt.datetime) -> StoredSession | None:
        rows = await self._db.read(
            "SELECT * FROM staff_sessions WHERE token_hash = ? AND expires_us > ?",
            (token_hash, _us(now)),
        )
        if not rows:
            return None
        row = rows[0]
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return StoredSession(
            token_hash=row["token_hash"],
            username=row["username"],
            csrf=row["csrf"],
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            expires_at=epoch + dt.timedelta(microseconds=int(row["expires_us"])),
        )

    async def drop_session(self, token_hash: str) -> None:
        await self._db.write_one("DELETE FROM staff_sessions WHERE token_hash = ?", (token_hash,))

    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        rows = await self._db.write_one(
            "INSERT INTO staff_audit (at, at_us, username, action, commune, target, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                _iso(entry.at),
                _us(entry.at),
                entry.username,
                entry.action,
                entry.commune,
                entry.target,
                entry.detail,
            ),
        )
        return entry.model_copy(update={"id": int(rows[0][0])})

    async def audit(self, limit: int = 200, commune: str | None = None) -> list[AuditEntry]:
        where, params = ("WHERE commune = ?", (commune,)) if commune is not None else ("", ())
        rows = await self._db.read(
            f"SELECT * FROM staff_audit {where} ORDER BY at_us DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [_audit_entry(row) for row in rows]

    async def add_note(
        self, conversation_id: int, author: str, text: str, now: dt.datetime
    ) -> InboxNote:
        rows = await self._db.write_one(
            "INSERT INTO inbox_notes (conversation_id, author, text, at) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            (conversation_id, author, text, _iso(now)),
        )
        return InboxNote(
            id=int(rows[0][0]), conversation_id=conversation_id, author=author, text=text, at=now
        )

    async def notes(self, conversation_id: int) -> list[InboxNote]:
        rows = await self._db.read(
            "SELECT * FROM inbox_notes WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return [
            InboxNote(
                id=row["id"],
                conversation_id=row["conversation_id"],
                author=row["author"],
                text=row["text"],
                at=dt.datetime.fromisoformat(row["at"]),
            )
            for row in rows
        ]

    async def login_failed(self, username: str, address: str, now: dt.datetime) -> None:
        await self._db.write_one(
            "INSERT INTO login_failures (username, address, at_us) VALUES (?, ?, ?)",
            (username, address, _us(now)),
        )
        await self._db.write_one(
            "DELETE FROM login_failures WHERE at_us <= ?", (_us(now - FAILURES_KEPT),)
        )

    async def login_failures(
        self, username: str, address: str, since: dt.datetime
    ) -> tuple[int, int]:
        rows = await self._db.read(
            "SELECT (SELECT count(*) FROM login_failures WHERE username = ? AND at_us > ?),"
            " (SELECT count(*) FROM login_failures WHERE address = ? AND at_us > ?)",
            (username, _us(since), address, _us(since)),
        )
        return int(rows[0][0]), int(rows[0][1])

    async def login_succeeded(self, username: str) -> None:
        await self._db.write_one("DELETE FROM login_failures WHERE username = ?", (username,))


# --- PostgreSQL (the province's pool; tables of PostgreSQL migration 2) ----------------------


class PgAccountStore(AccountStore):
    """The same rows as SQLite's, on the pool every commune of the process shares."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    async def add_account(self, account: Account) -> None:
        found = await self._db.pool.fetchval(
            "INSERT INTO staff_accounts (username, display_name, password_hash, province_admin,"
            " roles, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (username) DO NOTHING RETURNING username",
            account.username,
            account.display_name,
            account.password_hash,
            account.province_admin,
            _roles_json(account),
            account.active,
            _iso(account.created_at),
        )
        if found is None:
            raise AccountExistsError(account.username)

    async def save_account(self, account: Account) -> None:
        async with self._db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE staff_accounts SET display_name = $1, password_hash = $2,"
                " province_admin = $3, roles = $4, active = $5 WHERE username = $6",
                account.display_name,
                account.password_hash,
                account.province_admin,
                _roles_json(account),
                account.active,
                account.username,
            )
            if not account.active:
                await conn.execute(
                    "DELETE FROM staff_sessions WHERE username = $1", account.username
                )

    async def account(self, username: str) -> Account | None:
        row = await self._db.pool.fetchrow(
            "SELECT * FROM staff_accounts WHERE username = $1", username
        )
        return _account(row) if row else None

    async def accounts(self) -> list[Account]:
        rows = await self._db.pool.fetch("SELECT * FROM staff_accounts ORDER BY username")
        return [_account(row) for row in rows]

    async def add_session(self, session: StoredSession) -> None:
        await self._db.pool.execute(
            "INSERT INTO staff_sessions (token_hash, username, csrf, created_at, expires_us)"
            " VALUES ($1, $2, $3, $4, $5)",
            session.token_hash,
            session.username,
            session.csrf,
            _iso(session.created_at),
            _us(session.expires_at),
        )

    async def session(self, token_hash: str, now: dt.datetime) -> StoredSession | None:
        row = await self._db.pool.fetchrow(
            "SELECT * FROM staff_sessions WHERE token_hash = $1 AND expires_us > $2",
            token_hash,
            _us(now),
        )
        if row is None:
            return None
        return StoredSession(
            token_hash=row["token_hash"],
            username=row["username"],
            csrf=row["csrf"],
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            expires_at=_EPOCH + dt.timedelta(microseconds=int(row["expires_us"])),
        )

    async def drop_session(self, token_hash: str) -> None:
        await self._db.pool.execute("DELETE FROM staff_sessions WHERE token_hash = $1", token_hash)

    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        new_id = await self._db.pool.fetchval(
            "INSERT INTO staff_audit (at, at_us, username, action, commune, target, detail)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            _iso(entry.at),
            _us(entry.at),
            entry.username,
            entry.action,
            entry.commune,
            entry.target,
            entry.detail,
        )
        return entry.model_copy(update={"id": int(new_id)})

    async def audit(self, limit: int = 200, commune: str | None = None) -> list[AuditEntry]:
        rows = await self._db.pool.fetch(
            "SELECT * FROM staff_audit WHERE ($1::text IS NULL OR commune = $1)"
            " ORDER BY at_us DESC, id DESC LIMIT $2",
            commune,
            limit,
        )
        return [_audit_entry(row) for row in rows]

    async def add_note(
        self, conversation_id: int, author: str, text: str, now: dt.datetime
    ) -> InboxNote:
        new_id = await self._db.pool.fetchval(
            "INSERT INTO inbox_notes (conversation_id, author, text, at) VALUES ($1, $2, $3, $4)"
            " RETURNING id",
            conversation_id,
            author,
            text,
            _iso(now),
        )
        return InboxNote(
            id=int(new_id), conversation_id=conversation_id, author=author, text=text, at=now
        )

    async def notes(self, conversation_id: int) -> list[InboxNote]:
        rows = await self._db.pool.fetch(
            "SELECT * FROM inbox_notes WHERE conversation_id = $1 ORDER BY id", conversation_id
        )
        return [
            InboxNote(
                id=row["id"],
                conversation_id=row["conversation_id"],
                author=row["author"],
                text=row["text"],
                at=dt.datetime.fromisoformat(row["at"]),
            )
            for row in rows
        ]

    async def login_failed(self, username: str, address: str, now: dt.datetime) -> None:
        async with self._db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO login_failures (username, address, at_us) VALUES ($1, $2, $3)",
                username,
                address,
                _us(now),
            )
            await conn.execute(
                "DELETE FROM login_failures WHERE at_us <= $1", _us(now - FAILURES_KEPT)
            )

    async def login_failures(
        self, username: str, address: str, since: dt.datetime
    ) -> tuple[int, int]:
        row = await self._db.pool.fetchrow(
            "SELECT (SELECT count(*) FROM login_failures WHERE username = $1 AND at_us > $3),"
            " (SELECT count(*) FROM login_failures WHERE address = $2 AND at_us > $3)",
            username,
            address,
            _us(since),
        )
        return int(row[0]), int(row[1])

    async def login_succeeded(self, username: str) -> None:
        await self._db.pool.execute("DELETE FROM login_failures WHERE username = $1", username)


def account_store(storage: object) -> AccountStore:
    """The account store in the same database as `storage` (a commune's Storage or a
    Database): SQLite, PostgreSQL, or memory (tests and dry runs)."""
    if isinstance(storage, SqliteStorage | SqliteDatabase):
        return SqliteAccountStore(storage)
    if isinstance(storage, MemoryStorage):
        return MemoryAccountStore(storage.erased)
    if isinstance(storage, MemoryDatabase):
        return MemoryAccountStore()
    from bot.storage.postgres import PostgresDatabase, PostgresStorage

    if isinstance(storage, PostgresStorage):
        return PgAccountStore(storage.database)
    if isinstance(storage, PostgresDatabase):
        return PgAccountStore(storage)
    raise TypeError(f"no account store for {type(storage).__name__}")
