"""`python -m bot bench`: throughput and latency of the whole core under concurrent citizens.

Every message goes through the real engine: matcher, flow state, and a storage commit per turn
(SQLite WAL with group commit, or PostgreSQL). Citizens of N communes write concurrently; each
citizen's own messages are sequential, as on a phone. `--processes N` runs N worker processes on
the same database with the communes partitioned between them, as a province runs its webhook
workers; the numbers printed are the aggregate over the common measured window.

Two loads: the default closed loop (every citizen sends again as soon as answered: the maximum
throughput, and a latency that is mostly queueing behind the other citizens of the process), or
`--rate R`, an open loop offering R messages/s in total, where the latency is the turn's own
time under that load (its wait for the CPU and the database included, nothing else).

The texts are drawn from a varied pool: the labelled questions of tests/data/questions.tsv (when
the repository is at hand; never the held-out gate files), aspect follow-ups, button numbers and
small talk, so the matcher sees real, mostly distinct questions.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.channels.local import LocalDesk, LocalOutbox
from bot.storage import is_postgres, open_database
from flows.engine import Engine
from flows.models import ConversationKey, Inbound, Reply
from flows.ports import SystemClock
from knowledge.holder import SharedLibraries
from knowledge.library import Library
from knowledge.loader import DEFAULT_DIR
from knowledge.results import MatchResult

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "questions.tsv"
FALLBACK_QUESTIONS = (
    "lam giay khai sinh cho con",
    "dkkh can giay to gi",
    "chứng thực bản sao bao nhiêu tiền",
    "trợ cấp người cao tuổi",
    "tạm trú cho người thuê trọ",
    "đăng ký kết hôn cần những gì",
)
FOLLOW_UPS = (
    "mất bao lâu",
    "cần mang gì",
    "bao nhiêu tiền",
    "làm ở đâu",
    "có làm online được không",
    "mẫu tờ khai ở đâu",
)
SMALL_TALK = ("xin chào", "cảm ơn", "ok", "Menu", "alo", "dạ vâng")


def question_pool(path: Path = QUESTIONS) -> list[str]:
    """The labelled questions (not the gate sets), or a few built-in ones without the file."""
    if not path.is_file() or path.name.startswith("gate_"):
        return list(FALLBACK_QUESTIONS)
    pool = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        pool.append(line.split("\t", 1)[1].strip())
    return [q for q in pool if q] or list(FALLBACK_QUESTIONS)


def next_text(rng: random.Random, questions: Sequence[str], turn: int) -> str:
    """A citizen's next message: a question first, then mostly questions, some follow-ups,
    button numbers and small talk."""
    roll = rng.random()
    if turn == 0 or roll < 0.5:
        return rng.choice(questions)
    if roll < 0.7:
        return rng.choice(FOLLOW_UPS)
    if roll < 0.9:
        return str(rng.randint(1, 3))
    return rng.choice(SMALL_TALK)


def _discard(to: str, key: ConversationKey | None, reply: Reply) -> None:
    return None


@dataclass
class WorkerResult:
    """What one worker process measured (monotonic times are comparable across processes)."""

    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    startup_s: float = 0.0
    startup_cpu_s: float = 0.0
    cpu_s: float = 0.0
    rss_mb: float = 0.0
    builds: int = 0
    matcher_cpu_s: float = 0.0
    matches: int = 0
    server_cpu_s: float | None = None
    client_cpu_s: float = 0.0  # the same citizens against a stub engine (see _client_cpu)


class MatcherMeter:
    """The CPU time spent in `Library.match` (this thread's, so the SQLite thread is not
    counted): how much of a message's cost is the matcher's."""

    def __init__(self) -> None:
        self.cpu_s = 0.0
        self.calls = 0

    def wrap(self, library: Library) -> None:
        inner = library.match

        def match(text: str, top: int | None = None, outside: bool = True) -> MatchResult:
            start = time.thread_time()
            try:
                return inner(text, top, outside)
            finally:
                self.cpu_s += time.thread_time() - start
                self.calls += 1

        library.match = match  # type: ignore[method-assign]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _age() -> float:
    """Seconds since this process started (imports included), from /proc."""
    try:
        started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return uptime - started / os.sysconf("SC_CLK_TCK")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _proc_cpu(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a local process, from /proc; None if unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks


def server_cpu(postmaster: int) -> float:
    """CPU seconds of a local PostgreSQL server: the postmaster and its live children."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        found = _proc_cpu(int(entry))
        if found is not None and (int(entry) == postmaster or found[0] == postmaster):
            total += found[1]
    return total


async def _postmaster(database: Any) -> int | None:
    """The server's main process when it runs on this machine (its backends are its children)."""
    try:
        async with database.pool.acquire() as conn:
            backend = await conn.fetchval("SELECT pg_backend_pid()")
    except Exception:
        return None
    found = _proc_cpu(int(backend))
    return found[0] if found is not None else None


class _StubEngine:
    """Answers nothing, after one event-loop hop (as the real engine's awaits make at least)."""

    async def handle(self, inbound: Inbound) -> list[Reply]:
        await asyncio.sleep(0)
        return []


async def _client_cpu(
    citizens: Sequence[tuple[str, int]], messages: int, questions: Sequence[str], run: str
) -> float:
    """CPU seconds the bench's own side costs for these citizens' messages: drawing texts,
    building the inbound, scheduling and latency bookkeeping, with the engine stubbed out.
    It runs in the measured process, so `bot CPU` includes it; printed apart to show it."""
    stub = _StubEngine()
    latencies: list[float] = []
    start = _cpu()
    await asyncio.gather(
        *(
            _citizen(stub, name, i, messages, questions, latencies, None, f"{run}-stub")  # type: ignore[arg-type]
            for name, i in citizens
        )
    )
    return _cpu() - start


async def _citizen(
    engine: Engine,
    commune: str,
    index: int,
    messages: int,
    questions: Sequence[str],
    latencies: list[float],
    plan: list[float] | None,
    run: str,
) -> None:
    """One citizen's messages, in order. With a `plan` (open loop) each message is sent at its
    planned time and its latency counts from then; else as soon as the previous is answered."""
    rng = random.Random(f"{commune}/{index}")
    key = ConversationKey(channel="bench", user_id=f"{run}-c{index}", commune=commune)
    for turn in range(messages):
        text = next_text(rng, questions, turn)
        if plan is not None:
            delay = plan[turn] - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            start = plan[turn]  # the message arrived then, answered or not
        else:
            start = time.monotonic()
        await engine.handle(Inbound(key=key, text=text, display_name=f"Công dân {index}"))
        latencies.append((time.monotonic() - start) * 1000)


@dataclass(frozen=True)
class BenchPlan:
    communes: int
    citizens: int
    messages: int
    synchronous: str
    url: str
    processes: int = 1
    rate: float | None = None  # messages/s offered in total (open loop); None: closed loop
    run: str = "run"  # in every citizen id: a database kept between runs starts fresh


def commune_names(communes: int) -> list[str]:
    return [f"bench-{n:03d}" for n in range(communes)]


async def _work(plan: BenchPlan, worker: int, barrier: Any) -> WorkerResult:
    """One process's share: its communes, each with its own engine and storage view."""
    result = WorkerResult()
    clock = SystemClock()
    libraries = SharedLibraries()
    names = commune_names(plan.communes)[worker :: plan.processes]
    holders = {
        name: libraries.holder(DEFAULT_DIR, lambda: clock.now().date(), commune=name)
        for name in names
    }
    meter = MatcherMeter()
    for library in {id(h.current()): h.current() for h in holders.values()}.values():
        meter.wrap(library)  # the bench runs within one day: the same Library throughout
    result.builds = libraries.builds
    opts = {} if is_postgres(plan.url) else {"synchronous": plan.synchronous}
    database = open_database(plan.url, **opts)
    await database.open()
    engines = {
        name: Engine(
            holders[name].current,
            database.for_commune(name),
            LocalDesk(_discard),
            LocalOutbox(_discard),
            clock,
        )
        for name in names
    }
    questions = question_pool()
    postmaster = await _postmaster(database) if is_postgres(plan.url) else None
    result.startup_s, result.startup_cpu_s = _age(), _cpu()  # since the process started
    if barrier is not None:
        await asyncio.to_thread(barrier.wait)
    server0 = server_cpu(postmaster) if postmaster is not None and worker == 0 else None
    cpu1 = _cpu()
    result.started = time.monotonic()
    everyone = [(name, i) for name in names for i in range(plan.citizens)]
    plans: dict[tuple[str, int], list[float]] = {}
    if plan.rate is not None:
        # every process offers its share: message k of the whole process at k / its rate
        rate = plan.rate / plan.processes
        for slot, who in enumerate(everyone):
            plans[who] = [
                result.started + (turn * len(everyone) + slot) / rate
                for turn in range(plan.messages)
            ]
    await asyncio.gather(
        *(
            _citizen(
                engines[name],
                name,
                i,
                plan.messages,
                questions,
                result.latencies_ms,
                plans.get((name, i)),
                plan.run,
            )
            for name, i in everyone
        )
    )
    result.finished = time.monotonic()
    result.cpu_s = _cpu() - cpu1
    result.matcher_cpu_s, result.matches = meter.cpu_s, meter.calls
    if server0 is not None and postmaster is not None:
        if barrier is not None:
            await asyncio.to_thread(barrier.wait)  # every worker done: the server is idle
        result.server_cpu_s = server_cpu(postmaster) - server0
    elif barrier is not None:
        await asyncio.to_thread(barrier.wait)
    result.client_cpu_s = await _client_cpu(everyone, plan.messages, questions, plan.run)
    await database.close()
    result.rss_mb = _rss_mb()
    return result


def _worker(plan: BenchPlan, worker: int, barrier: Any, results: Any) -> None:
    results.put((worker, json.dumps(asdict(asyncio.run(_work(plan, worker, barrier))))))


def measure(plan: BenchPlan) -> list[WorkerResult]:
    """Run the plan: in this process, or in `processes` workers started together."""
    if plan.processes == 1:
        return [asyncio.run(_work(plan, 0, None))]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(plan.processes)
    queue = context.Queue()
    workers = [
        context.Process(target=_worker, args=(plan, n, barrier, queue))
        for n in range(plan.processes)
    ]
    for process in workers:
        process.start()
    found = dict(queue.get() for _ in workers)
    for process in workers:
        process.join()
    return [WorkerResult(**json.loads(found[n])) for n in sorted(found)]


def report(plan: BenchPlan, results: list[WorkerResult], backend: str) -> str:
    latencies = sorted(x for r in results for x in r.latencies_ms)
    total = len(latencies)
    window = max(r.finished for r in results) - min(r.started for r in results)
    cpu = sum(r.cpu_s for r in results)
    matcher = sum(r.matcher_cpu_s for r in results)
    client = sum(r.client_cpu_s for r in results)
    load = (
        f"open loop, {plan.rate:.0f} messages/s offered: latency counts from each message's"
        " arrival (the turn's own time while the bot keeps up with the offer)"
        if plan.rate is not None
        else f"closed loop of {plan.communes * plan.citizens} citizens: latency includes "
        "queueing behind the others"
    )
    p99 = latencies[min(total - 1, int(total * 0.99))] if total else 0.0
    lines = [
        f"communes {plan.communes} x citizens {plan.citizens}, messages each {plan.messages},"
        f" {backend}, processes {plan.processes}",
        f"  load          {load}",
        f"  messages      {total}",
        f"  elapsed       {window:.2f} s",
        f"  throughput    {total / window:.0f} messages/s",
        f"  latency p50   {statistics.median(latencies):.1f} ms",
        f"  latency p99   {p99:.1f} ms",
        f"  bot CPU       {cpu:.2f} s, {cpu / total * 1000:.2f} ms per message",
        f"  of which      matcher {matcher:.2f} s, {matcher / total * 1000:.2f} ms per message"
        f" ({sum(r.matches for r in results) / total:.2f} matches per message)",
        f"  and           bench client {client:.2f} s, {client / total * 1000:.2f} ms per message"
        " (citizens, scheduling, bookkeeping; measured alone with a stub engine)",
        f"  rest of turn  {(cpu - matcher - client) / total * 1000:.2f} ms per message"
        " (engine, flows, storage client)",
    ]
    server = [r.server_cpu_s for r in results if r.server_cpu_s is not None]
    if server:
        lines.append(
            f"  server CPU    {server[0]:.2f} s, {server[0] / total * 1000:.2f} ms per message"
            " (the local PostgreSQL's processes)"
        )
    spent = (cpu + (server[0] if server else 0.0)) / total
    lines.append(
        f"  CPU in all    {spent * 1000:.2f} ms per message (bot + server): at most"
        f" {2 / spent:.0f} messages/s on 2 cores"
    )
    startup = max(r.startup_s for r in results)
    lines += [
        f"  start-up      {startup:.1f} s, {sum(r.startup_cpu_s for r in results):.1f} s CPU;"
        f" library builds {sum(r.builds for r in results)} for {plan.communes} communes",
        f"  peak RSS      {' + '.join(f'{r.rss_mb:.0f}' for r in results)} MB",
    ]
    return "\n".join(lines)


def main(
    citizens: int = 20,
    messages: int = 5,
    synchronous: str = "NORMAL",
    communes: int = 100,
    db: str | None = None,
    processes: int = 1,
    rate: float | None = None,
) -> int:
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as tmp:
        url = db or str(Path(tmp) / "bench.sqlite3")
        run = f"{time.time_ns():x}"
        plan = BenchPlan(communes, citizens, messages, synchronous, url, processes, rate, run)
        if processes > 1:  # the schema is created once, before workers race to create it
            asyncio.run(_create(url, synchronous))
        results = measure(plan)
    backend = "postgresql" if is_postgres(url) else f"sqlite synchronous={synchronous}"
    print(report(plan, results, backend))
    sys.stdout.flush()
    return 0


async def _create(url: str, synchronous: str) -> None:
    database = open_database(url, **({} if is_postgres(url) else {"synchronous": synchronous}))
    await database.open()
    await database.close()
