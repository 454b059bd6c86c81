"""Soak: hundreds of citizens on the Telegram and Zalo fakes, the real process killed -9 again
and again; prints how many questions were lost and how many answered twice (both must be 0).

    .venv/bin/python scripts/soak.py --telegram 200 --zalo 100 --kills 10 [--explain]
    .venv/bin/python scripts/soak.py ... --postgres postgresql://...   # a fresh database there

Everything runs on loopback: the fake Bot API (real offset semantics) and the fake Zalo API are
served from this process, `python -m bot run` is the real bot. Each citizen asks two questions
("khai sinh", then "kết hôn"); each must be answered exactly once. Zalo webhooks are retried
until they get a 200, as Zalo does (a retried event has the same id). Between kills the bot
runs for a random 0.5-3 s after it first polls Telegram. Exit status 1 when anything was lost
or duplicated.

Every duplicate is placed: each request is assigned to the bot process that made it (a process's
first request is its getMe; the fakes stamp every request and answer with CLOCK_MONOTONIC, one
clock for all processes). A copy made by a process killed before it could note it is "in flight
at the kill" (the platform window: Telegram and Zalo have no idempotency key); two copies from
one process are "other duplicates", a defect. The bot writes, per accepted send, the fake's
answer time and when its send journal held the note (BOT_SEND_TIMING, numbers only): the soak
prints that window and the expected duplicates per kill (sends per second at the kill x window).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.telegram.fakeapi import FakeBotApi  # noqa: E402
from tests.zalo.fakeevents import make_event, signed_request  # noqa: E402
from tests.zalo.fakezalo import V2_SEND, V3_SEND, FakeZalo  # noqa: E402

TOKEN = "123456:SOAKtokenSOAKtokenSOAKtoken0"
STAFF_CHAT = -1001234567890
APP_ID = "1234567890123456789"
APP_SECRET = "APPSECRET"
OA_SECRET = "OAsecretKEY123"
T = TypeVar("T")
QUESTIONS = (("khai sinh", "Đăng ký khai sinh"), ("kết hôn", "Đăng ký kết hôn"))


def sender_of(pid: int) -> int | None:
    """The sender process (`python -m bot send`) of the bot process `pid`, if one runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and b"send" in cmdline:
            return int(entry.name)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Soak:
    def __init__(self, args: argparse.Namespace, api: FakeBotApi, zalo: FakeZalo) -> None:
        self.args = args
        self.api = api
        self.zalo = zalo
        self.port = free_port()
        self.db = Path(tempfile.mkdtemp(prefix="soak-")) / "bot.sqlite3"
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0
        self.kill_times: list[float] = []  # time.monotonic() of each kill -9 of the bot
        self.sender_kill_times: list[float] = []  # ... of its sender process (--kill-sender)
        self.starts = 0
        self.webhook_retries = 0
        self.timing = self.db.with_name("send-timing.txt")
        self.fake_loop: asyncio.AbstractEventLoop | None = None
        self.zalo_noted: list[float] = []  # ms from the Zalo fake's answer to the journal note

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "BOT_"))
        }
        return env | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
            "TELEGRAM_BASE_URL": self.api.base_url,
            "TELEGRAM_POLL_TIMEOUT": "1",
            "ZALO_APP_ID": APP_ID,
            "ZALO_APP_SECRET": APP_SECRET,
            "ZALO_OA_SECRET_KEY": OA_SECRET,
            "ZALO_ACCESS_TOKEN": "AT-1",
            "ZALO_REFRESH_TOKEN": "RT-1",
            "ZALO_API_BASE_URL": self.zalo.api_base_url,
            "ZALO_OAUTH_BASE_URL": self.zalo.oauth_base_url,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(self.port),
            "BOT_DB": self.args.db or str(self.db),
            "BOT_SEND_TIMING": str(self.timing),
            "BOT_SENDER": self.args.sender,
            "LOG_LEVEL": "ERROR",
        }

    async def start(self) -> None:
        self.starts += 1
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env(),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    async def kill_loop(self) -> None:
        """Kill -9 a while after each start, restart at once; `--kills` times. With
        `--kill-sender`, every other kill is of the sender process instead (the bot process
        starts a new one by itself)."""
        while self.kills < self.args.kills:
            polls = len(self.api.calls_to("getUpdates"))
            await self.on_fakes(self.api.wait_for("getUpdates", count=polls + 1, timeout=120))
            await asyncio.sleep(random.uniform(0.5, 3.0))
            assert self.process is not None
            child = sender_of(self.process.pid)
            if self.args.kill_sender and self.kills % 2 == 1 and child is not None:
                os.kill(child, signal.SIGKILL)
                self.sender_kill_times.append(time.monotonic())
                self.kills += 1
                continue
            self.process.send_signal(signal.SIGKILL)
            self.kill_times.append(time.monotonic())
            await self.process.wait()
            self.kills += 1
            await self.start()

    async def on_fakes(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the fakes' loop."""
        assert self.fake_loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.fake_loop))

    async def push(self, user: int, text: str) -> None:
        self.api.push_private_text(user, text, first_name=f"Dân {user % 1000}")

    async def post_zalo(self, http: httpx.AsyncClient, event: dict[str, object]) -> None:
        """Deliver one webhook like Zalo: again and again until it is answered 200."""
        body, headers = signed_request(event, OA_SECRET)
        url = f"http://127.0.0.1:{self.port}/zalo/webhook"
        while True:
            try:
                response = await http.post(url, content=body, headers=headers)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            self.webhook_retries += 1
            await asyncio.sleep(0.5)

    def telegram_counts(self) -> Counter[tuple[int, str]]:
        counts: Counter[tuple[int, str]] = Counter()
        for call in self.api.calls_to("sendMessage"):
            chat = int(call.params.get("chat_id", 0))
            if call.ok and chat > 0:
                for _, title in QUESTIONS:
                    if str(call.params.get("text", "")).startswith(f"<b>{title}</b>"):
                        counts[(chat, title)] += 1
        return counts

    def generations(self) -> list[float]:
        """When each bot process made its first request (its getMe), in order: a request
        belongs to the last process that had started by the time it arrived."""
        firsts: list[float] = []
        for call in self.api.calls_to("getMe"):
            if len(firsts) > len(self.kill_times):
                break  # the last process's
            if not firsts or call.received > self.kill_times[len(firsts) - 1]:
                firsts.append(call.received)
        return firsts

    def place(self, copies: list[tuple[float, float]], firsts: list[float]) -> tuple[str, str]:
        """(kind, how) for the copies (received, answered) of one message, in order. Kinds:
        "before" (answered before the kill, not yet noted by the bot), "after" (the request
        was out, its answer came after the kill: nobody could have noted it), "other"."""
        (first_in, first_at), (second_in, _) = copies[0], copies[1]

        def process(received: float) -> int:
            return max((i for i, start in enumerate(firsts) if start <= received), default=0)

        made_by = process(first_in)
        makers = [process(received) for received, _ in copies]
        if len(set(makers)) == len(makers) and made_by < len(self.kill_times):
            # every copy from another process: each one before the last was cut by its kill
            kill = self.kill_times[made_by]
            return (
                "before" if first_at < kill else "after",
                f"in flight at the kill: requested {(kill - first_in) * 1000:.1f} ms before "
                f"it, answered {(first_at - kill) * 1000:+.1f} ms from it"
                + (f" ({len(copies)} copies, by processes {makers})" if len(copies) > 2 else ""),
            )
        cut = [k for k in self.sender_kill_times if first_in <= k <= second_in]
        if cut:  # the sender process was killed with the first copy out: the platform floor
            return (
                "sender",
                f"in flight at a kill of the sender: requested {(cut[0] - first_in) * 1000:.1f} "
                f"ms before it, answered {(first_at - cut[0]) * 1000:+.1f} ms from it",
            )
        return (
            "other",
            f"OTHER ({len(copies)} copies by processes {makers}): first answered "
            f"{first_at - first_in:.2f} s after its request, next requested "
            f"{second_in - first_at:.2f} s after that answer",
        )

    def duplicates(self) -> list[tuple[str, str, str]]:
        """(channel, kind, how) of every message the fakes accepted more than once (the same
        citizen, the same text: each citizen's replies all differ)."""
        firsts = self.generations()
        found: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
        for call in self.api.calls_to("sendMessage"):
            chat = int(call.params.get("chat_id", 0))
            if call.ok and chat > 0:
                key = ("telegram", str(chat), str(call.params.get("text", "")))
                found.setdefault(key, []).append((call.received, call.at))
        for zcall in self.zalo.calls:
            body = zcall.body if isinstance(zcall.body, dict) else {}
            if zcall.ok and zcall.path in (V3_SEND, V2_SEND) and "message" in body:
                user = str(body.get("recipient", {}).get("user_id", ""))
                key = ("zalo", user, str(body["message"].get("text", "")))
                found.setdefault(key, []).append((zcall.received, zcall.at))
        placed = []
        for (channel, user, _), copies in found.items():
            if len(copies) > 1:
                kind, how = self.place(copies, firsts)
                placed.append((channel, kind, f"{user}: {how}"))
        return placed

    def window(self) -> tuple[list[float], list[float], list[float]]:
        """From the bot's BOT_SEND_TIMING lines: per accepted Telegram send, ms from the
        fake's answer to the journal note (the HTTP layer's hook) and to the main event loop
        having it (where the note was made before); per delivered entry, ms from the main loop
        having the outcome to the database holding it (the window without a journal)."""
        noted: list[float] = []
        loop: list[float] = []
        record: list[float] = []
        try:
            lines = self.timing.read_text().splitlines()
        except FileNotFoundError:
            return noted, loop, record
        for line in lines:
            fields = line.split()
            if len(fields) == 4 and float(fields[0]) > 0:
                fake, _, journal, back = map(float, fields)
                noted.append((journal - fake) * 1000)
                loop.append((back - fake) * 1000)
            elif len(fields) == 2:
                record.append((float(fields[1]) - float(fields[0])) * 1000)
            elif len(fields) == 3:
                self.zalo_noted.append((float(fields[2]) - float(fields[0])) * 1000)
        return noted, loop, record

    def sends_at_kills(self, span: float = 1.0) -> list[float]:
        """Accepted sends per second (both fakes) in the `span` s before each kill."""
        times = [c.at for c in self.api.calls if c.ok and c.method != "getUpdates"]
        times += [c.at for c in self.zalo.calls if c.ok and c.path in (V3_SEND, V2_SEND)]
        return [sum(1 for t in times if kill - span <= t < kill) / span for kill in self.kill_times]

    def report_window(self) -> None:
        self.zalo_noted = []
        noted, loop, record = self.window()
        rates = self.sends_at_kills()
        if not noted or not record:
            print("window: no BOT_SEND_TIMING lines")
            return
        mean_record = sum(record) / len(record)
        database = [value + mean_record for value in loop]  # the mean of a sum: the sum of means
        for name, values in (
            ("journal note", noted),
            ("journal note (Zalo)", self.zalo_noted or [0.0]),
            ("main loop", loop),
            ("database record (+ its mean)", database),
        ):
            ordered = sorted(values)
            mean = sum(ordered) / len(ordered)
            p50, p99 = (
                ordered[len(ordered) // 2],
                ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)],
            )
            expected = sum(rate * mean / 1000 for rate in rates)
            print(
                f"window fake answer -> {name}: {len(ordered)} sends, mean {mean:.2f} ms, "
                f"p50 {p50:.2f}, p99 {p99:.2f}, max {ordered[-1]:.1f}; expected duplicates "
                f"{expected:.3f} for these {len(rates)} kills"
            )
        print("sends/s in the second before each kill: " + " ".join(f"{r:.0f}" for r in rates))

    def distinct_texts(self) -> Counter[tuple[str, str, str]]:
        """(channel, citizen, title) -> how many different texts the fakes accepted."""
        seen: dict[tuple[str, str, str], set[str]] = {}
        for call in self.api.calls_to("sendMessage"):
            chat = int(call.params.get("chat_id", 0))
            text = str(call.params.get("text", ""))
            for _, title in QUESTIONS:
                if call.ok and chat > 0 and text.startswith(f"<b>{title}</b>"):
                    seen.setdefault(("telegram", str(chat), title), set()).add(text)
        for user, message in self.zalo._sent:
            text = str(message.get("text", ""))
            for _, title in QUESTIONS:
                if text.startswith(title):
                    seen.setdefault(("zalo", user, title), set()).add(text)
        return Counter({key: len(found) for key, found in seen.items()})

    def zalo_counts(self) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for user, message in self.zalo._sent:
            for _, title in QUESTIONS:
                if str(message.get("text", "")).startswith(title):
                    counts[(user, title)] += 1
        return counts

    async def run(self) -> int:
        args = self.args
        telegram_users = [1_000_000 + i for i in range(args.telegram)]
        zalo_users = [f"84632{i:014d}" for i in range(args.zalo)]
        for text, _ in QUESTIONS:
            for user in telegram_users:
                await self.on_fakes(self.push(user, text))
        began = time.monotonic()
        await self.start()
        killer = asyncio.create_task(self.kill_loop())
        stamp = str(int(time.time() * 1000))
        async with httpx.AsyncClient(timeout=10) as http:
            for index, (text, _) in enumerate(QUESTIONS):
                events = [
                    make_event(
                        "user_send_text",
                        user,
                        text=text,
                        msg_id=f"soak-{user}-{index}",
                        app_id=APP_ID,
                        timestamp=str(int(stamp) + index),
                    )
                    for user in zalo_users
                ]
                await asyncio.gather(*(self.post_zalo(http, event) for event in events))
        await killer
        expected = len(QUESTIONS) * (args.telegram + args.zalo)
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() - quiet_since < args.quiet:
            done = len(self.telegram_counts()) + len(self.zalo_counts())
            if done >= expected:
                await asyncio.sleep(2)  # a duplicate on its way would arrive by now
                break
            if done != last:
                last, quiet_since = done, time.monotonic()
            await asyncio.sleep(0.5)
        elapsed = time.monotonic() - began
        assert self.process is not None
        self.process.terminate()
        await self.process.wait()
        tg, za = self.telegram_counts(), self.zalo_counts()
        tg_lost = len(QUESTIONS) * args.telegram - len(tg)
        za_lost = len(QUESTIONS) * args.zalo - len(za)
        tg_dup = sum(n - 1 for n in tg.values())
        za_dup = sum(n - 1 for n in za.values())
        print(f"citizens: telegram {args.telegram}, zalo {args.zalo}; questions {expected}")
        print(f"sender: {args.sender}; kills -9 of the sender process: "
              f"{len(self.sender_kill_times)}")  # fmt: skip
        print(f"kills -9: {self.kills}; starts: {self.starts}; zalo webhook retries: "
              f"{self.webhook_retries}; elapsed {elapsed:.1f} s")  # fmt: skip
        print(f"telegram: answered {len(tg)}, lost {tg_lost}, duplicated {tg_dup}")
        print(f"zalo: answered {len(za)}, lost {za_lost}, duplicated {za_dup}")
        self.report_window()
        placed = self.duplicates()
        kinds = Counter(kind for _, kind, _ in placed)
        # copies of one text are placed above; two different texts under the same title mean
        # a question answered twice (a turn run again): counted here, always a defect
        texts = self.distinct_texts()
        twice = {key: n for key, n in texts.items() if n > 1}
        if twice:
            print(
                f"OTHER: {sum(n - 1 for n in twice.values())} answers to a question already "
                f"answered with another text ({len(twice)} questions): a turn ran twice"
            )
        noted, _, _ = self.window()
        mean = sum(noted) / len(noted) if noted else 0.0
        print(
            f"duplicates of a request in flight at the kill (platform window, {mean:.2f} ms): "
            f"{kinds['before'] + kinds['after']} (answered before the kill, not yet noted: "
            f"{kinds['before']}; answered after it: {kinds['after']}); "
            f"in flight at a kill of the sender process: {kinds['sender']}; "
            f"other duplicates: {kinds['other']}"
        )
        if args.explain:
            for channel, _, where in placed:
                print(f"  {channel} {where}")
            print(f"database: {self.args.db.split('@')[-1] if self.args.db else self.db}")
        print(f"lost {tg_lost + za_lost}, duplicated {tg_dup + za_dup}")
        return 0 if tg_lost + za_lost + tg_dup + za_dup == 0 else 1


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--telegram", type=int, default=200, help="Telegram citizens")
    parser.add_argument("--zalo", type=int, default=100, help="Zalo citizens")
    parser.add_argument("--kills", type=int, default=10, help="kill -9 this many times")
    parser.add_argument("--quiet", type=float, default=60, help="give up after s without progress")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--postgres", default=None, help="a PostgreSQL server URL: run on a fresh database there"
    )
    parser.add_argument(
        "--explain", action="store_true", help="list each duplicate against the kills"
    )
    parser.add_argument(
        "--sender", choices=["process", "thread"], default="process", help="BOT_SENDER"
    )
    parser.add_argument(
        "--kill-sender",
        action="store_true",
        help="every other kill -9 is of the sender process (the bot process restarts it)",
    )
    args = parser.parse_args(argv)
    random.seed(args.seed)
    args.db = None
    if args.postgres:
        from tests.pg import fresh_postgres_database

        args.db = await fresh_postgres_database(args.postgres)
    with fakes_in_thread() as (loop, api, zalo):
        soak = Soak(args, api, zalo)
        soak.fake_loop = loop
        return await soak.run()


@contextlib.contextmanager
def fakes_in_thread() -> Iterator[tuple[asyncio.AbstractEventLoop, FakeBotApi, FakeZalo]]:
    """The fakes on an event loop of their own, in a thread: they answer as promptly as a
    platform, not when this loop (hundreds of webhook posters) gets to them."""
    sys.setswitchinterval(0.0005)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    made: list[tuple[FakeBotApi, FakeZalo]] = []

    async def serve() -> None:
        async with (
            FakeBotApi(token=TOKEN) as api,
            FakeZalo(app_id=APP_ID, app_secret=APP_SECRET) as zalo,
        ):
            made.append((api, zalo))
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the fakes did not start")
    try:
        yield loop, *made[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
