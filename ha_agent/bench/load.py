"""`ha-agent bench load`: many concurrent conversations across agent replicas on one database,
then proof from the database itself that no message was lost, duplicated or reordered.

The fleet (`fleet.py`): a mirror process and agent replicas (or one process with the mirror
inside, on SQLite), a simulated HA, and a local model server with a realistic latency. Each
conversation alternates replicas turn by turn (no proxy: the generator picks), so every turn
reads a history another process wrote. Some turns make a tool call on a real entity of the home
(a read, or a service call that changes HA) before answering.

The model is the first witness: it checks, on every request, that it got the whole conversation
in order (it knows what each conversation said), and says so in its reply. The database is the
second: plain SQL over the history tables, checked message by message. Finally every
conversation gets one more turn on each replica, and is checked again.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from data_api.bench import percentile
from ha_agent.bench.fleet import Fleet
from ha_agent.simulator.scripted_server import Reply

_MARK = re.compile(r"^\[c(\d+) t(\d+)\]")
_PHRASES = ("how is the home doing?", "what does the sensor say?", "please toggle the light")
_CHECK = "do you see our whole conversation, in order?"
REQUEST_TIMEOUT = 60.0  # seconds; a turn slower than this is an error, not a wait


def client_connector() -> aiohttp.TCPConnector:
    """No limit (one connection per conversation, no queue in the client), and idle connections
    dropped after 2 s: the servers close theirs after 5 s (uvicorn), and a request sent on a
    connection the server is closing fails without reaching it."""
    return aiohttp.TCPConnector(limit=0, keepalive_timeout=2)


def user_text(conversation: int, turn: int, turns: int) -> str:
    """What conversation `conversation` says at `turn`: unique, and parseable by the model."""
    what = _CHECK if turn >= turns else _PHRASES[turn % len(_PHRASES)]
    return f"[c{conversation} t{turn}] {what}"


# --- the model: answers, tool calls, and a check of the history it is sent ---------------------
@dataclass
class LoadModel:
    """The model server's responder. Turn t % 3 == 1 reads a sensor, t % 3 == 2 toggles a light
    (a tool call, then text); the rest answer at once. `problems` lists each request whose
    history was not the conversation's, whole and in order (unless `check_history` is off)."""

    turns: int
    jitter: float = 0.0  # up to this many seconds more per answer, so replies do not march in step
    sensors: list[str] = field(default_factory=list)
    lights: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checks: int = 0
    check_history: bool = True
    _rng: random.Random = field(default_factory=lambda: random.Random(7))

    def __call__(self, body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        users = [m.get("content") for m in messages if m.get("role") == "user"]
        mark = _MARK.match(users[-1] or "") if users else None
        if mark is None:
            return Reply.text("I did not understand.")
        c, t = int(mark.group(1)), int(mark.group(2))
        wait = self._rng.uniform(0, self.jitter)
        if messages[-1].get("role") == "tool":
            return Reply.delay(wait, Reply.text(f"[c{c} t{t}] done."))
        whole = users == [user_text(c, n, self.turns) for n in range(t + 1)]
        if self.check_history:
            self.checks += 1
        if self.check_history and not whole:
            self.problems.append(f"c{c} t{t}: the model got {len(users)} user messages, not the {t + 1} said, in order")
        if t >= self.turns:
            verdict = f"I see all {t + 1} of your messages, in order." if whole else "HISTORY BROKEN"
            return Reply.delay(wait, Reply.text(f"[c{c} t{t}] {verdict}"))
        if t % 3 == 1 and self.sensors:
            call = ("get_state", {"entities": [self.sensors[c % len(self.sensors)]]})
            return Reply.delay(wait, Reply.tool_calls([call]))
        if t % 3 == 2 and self.lights:
            light = self.lights[c % len(self.lights)]
            call = ("call_service", {"service": "light.toggle", "target": {"entity_id": [light]}})
            return Reply.delay(wait, Reply.tool_calls([call]))
        return Reply.delay(wait, Reply.text(f"[c{c} t{t}] noted."))


async def real_entities(fleet: Fleet) -> tuple[list[str], list[str]]:
    """Exposed sensors and lights, read from the mirror's REST API (what the tools may touch)."""
    async with aiohttp.ClientSession(headers=fleet.headers) as http:

        async def ids(domain: str) -> list[str]:
            url = f"{fleet.data_api_url}/api/v1/entities"
            async with http.get(url, params={"domain": domain, "exposed": "true", "limit": "50"}) as response:
                response.raise_for_status()
                return [item["entity_id"] for item in (await response.json())["items"]]

        return await ids("sensor"), await ids("light")


# --- the history, read with plain SQL ------------------------------------------------------------
@dataclass
class Turn:
    user: str
    reply: str | None  # None: no answer stored (a failed turn)
    tool_groups: int


@dataclass
class StoredConversation:
    id: str
    turns: list[Turn]
    messages: int
    problems: list[str]


_CONVERSATIONS = text("SELECT id, last_seq FROM agent_conversations WHERE home_id = :home ORDER BY id")
_MESSAGES = text(
    "SELECT m.conversation_id, m.seq, m.role, m.content, m.tool_calls, m.tool_call_id "
    "FROM agent_messages m JOIN agent_conversations c ON c.id = m.conversation_id "
    "WHERE c.home_id = :home ORDER BY m.conversation_id, m.seq"
)


async def read_history(database_url: str, home_id: str) -> dict[str, StoredConversation]:
    """Every conversation of `home_id`, straight from the tables (not through the store's code),
    each parsed into turns and checked: seq 1..n without gap and equal to last_seq, each tool call
    message followed by exactly its results, each user message followed by tool groups then at
    most one answer."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            heads = (await conn.execute(_CONVERSATIONS, {"home": home_id})).all()
            rows = (await conn.execute(_MESSAGES, {"home": home_id})).all()
    finally:
        await engine.dispose()
    by_conversation: dict[str, list[Any]] = {cid: [] for cid, _ in heads}
    for row in rows:
        by_conversation[row[0]].append(row)
    return {cid: _parse(cid, last_seq, by_conversation[cid]) for cid, last_seq in heads}


def _parse(conversation_id: str, last_seq: int, rows: list[Any]) -> StoredConversation:
    problems: list[str] = []
    seqs = [row[1] for row in rows]
    if seqs != list(range(1, len(rows) + 1)) or last_seq != len(rows):
        problems.append(f"seq not contiguous 1..{len(rows)} (last_seq {last_seq}): {seqs}")
    turns: list[Turn] = []
    i = 0
    while i < len(rows):
        _, seq, role, content, _, _ = rows[i]
        if role != "user":
            problems.append(f"seq {seq}: a {role} message where a user message should be")
            i += 1
            continue
        turn = Turn(content, None, 0)
        turns.append(turn)
        i += 1
        while i < len(rows) and rows[i][2] == "assistant" and rows[i][4]:
            calls = rows[i][4] if not isinstance(rows[i][4], str) else json.loads(rows[i][4])
            wanted = [call["id"] for call in calls]
            answers = [row[5] for row in rows[i + 1 : i + 1 + len(wanted)] if row[2] == "tool"]
            if answers != wanted:
                problems.append(f"seq {rows[i][1]}: tool calls {wanted} answered by {answers}")
            turn.tool_groups += 1
            i += 1 + len(answers)
        if i < len(rows) and rows[i][2] == "assistant":
            turn.reply = rows[i][3]
            i += 1
    return StoredConversation(conversation_id, turns, len(rows), problems)


def verify(
    stored: dict[str, StoredConversation], expected: dict[str, list[str]], tool_turns: dict[str, int] | None = None
) -> dict[str, Any]:
    """Load's proof: exactly the expected conversations, each with exactly its user messages in
    order, each answered by its own reply (the reply carries the message's mark), seq contiguous,
    tool groups whole (and as many as the model was asked for)."""
    problems: list[str] = []
    unexpected = sorted(set(stored) - set(expected))
    missing = sorted(set(expected) - set(stored))
    problems += [f"conversation {cid}: in the database, never started by the load" for cid in unexpected]
    problems += [f"conversation {cid}: started, not in the database" for cid in missing]
    messages = groups = 0
    for cid, users in expected.items():
        conversation = stored.get(cid)
        if conversation is None:
            continue
        messages += conversation.messages
        groups += sum(turn.tool_groups for turn in conversation.turns)
        problems += [f"conversation {cid}: {p}" for p in conversation.problems]
        said = [turn.user for turn in conversation.turns]
        if said != users:
            problems.append(f"conversation {cid}: {len(said)} user messages stored, {len(users)} said, or not in order")
        for turn in conversation.turns:
            mark = _MARK.match(turn.user or "")
            if turn.reply is None or mark is None or not turn.reply.startswith(mark.group(0)):
                problems.append(f"conversation {cid}: {turn.user!r} answered by {turn.reply!r}")
        if tool_turns is not None and sum(t.tool_groups for t in conversation.turns) != tool_turns[cid]:
            problems.append(f"conversation {cid}: {tool_turns[cid]} tool turns, other tool groups stored")
    return {
        "conversations": len(stored),
        "user_messages": sum(len(c.turns) for c in stored.values()),
        "messages": messages,
        "tool_groups": groups,
        "problems": problems[:50],
        "problem_count": len(problems),
        "ok": not problems,
    }


# --- the load --------------------------------------------------------------------------------
@dataclass
class Sample:
    conversation: int
    turn: int
    replica: int
    status: int  # 0: no HTTP answer (connection error, client timeout)
    client_ms: float
    total_ms: float | None = None
    llm_ms: float | None = None
    tool_errors: int = 0
    error: str | None = None


async def chat(
    http: aiohttp.ClientSession, url: str, message: str, conversation_id: str | None, timeout: float = REQUEST_TIMEOUT
) -> tuple[int, Any, float]:
    """One POST /api/v1/chat: (status, parsed JSON body or the raw text, client milliseconds).
    Status 0 when no answer came (the error's name is the body)."""
    started = time.perf_counter()
    body: Any
    try:
        async with http.post(
            f"{url}/api/v1/chat",
            json={"message": message, "conversation_id": conversation_id},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            raw = await response.text()
            status = response.status
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
    except TimeoutError:
        status, body = 0, "client timeout"
    except aiohttp.ClientError as exc:
        status, body = 0, f"{type(exc).__name__}"
    return status, body, (time.perf_counter() - started) * 1000


def _sample(c: int, t: int, replica: int, status: int, body: Any, client_ms: float) -> Sample:
    sample = Sample(c, t, replica, status, client_ms)
    if status == 200 and isinstance(body, dict):
        sample.total_ms = body["timings"]["total_ms"]
        sample.llm_ms = body["timings"]["llm_ms"]
        sample.tool_errors = sum(1 for call in body["tool_calls"] if call.get("error"))
    else:
        sample.error = body.get("detail") if isinstance(body, dict) else str(body)[:200]
    return sample


async def _conversation(
    http: aiohttp.ClientSession,
    fleet: Fleet,
    c: int,
    turns: Iterable[int],
    total: int,
    ids: dict[int, str],
    samples: list[Sample],
    replies: dict[int, list[str]],
) -> None:
    for t in turns:
        replica = (c + t) % len(fleet.agents)  # turn by turn, the other replica: continuity is exercised
        url = fleet.agents[replica].url  # asked each turn: a restarted replica may have a new port
        status, body, client_ms = await chat(http, url, user_text(c, t, total), ids.get(c))
        samples.append(_sample(c, t, replica, status, body, client_ms))
        if isinstance(body, dict) and body.get("conversation_id"):
            ids.setdefault(c, body["conversation_id"])
        if status == 200:
            replies.setdefault(c, []).append(body["reply"])


def _figures(samples: list[Sample], seconds: float) -> dict[str, Any]:
    ok = [s for s in samples if s.status == 200]
    server = [s.total_ms - s.llm_ms for s in ok if s.total_ms is not None and s.llm_ms is not None]
    client = [s.client_ms - (s.llm_ms or 0.0) for s in ok]

    def ms(values: list[float], pct: float) -> float | None:
        return round(percentile(values, pct), 2) if values else None

    return {
        "turns_ok": len(ok),
        "errors": len(samples) - len(ok),
        "errors_by_status": dict(Counter(str(s.status) for s in samples if s.status != 200)),
        "error_samples": [f"{s.status}: {s.error}" for s in samples if s.status != 200][:10],
        "tool_errors": sum(s.tool_errors for s in ok),
        "seconds": round(seconds, 2),
        "turns_per_second": round(len(ok) / seconds, 1) if seconds else None,
        # The agent's own time: what the turn took minus the model's share of it.
        "overhead_p50_ms": ms(server, 50),
        "overhead_p99_ms": ms(server, 99),
        # The same seen by the client: adds HTTP, queueing in the server, the database pool.
        "client_overhead_p50_ms": ms(client, 50),
        "client_overhead_p99_ms": ms(client, 99),
        "client_p50_ms": ms([s.client_ms for s in ok], 50),
        "client_p99_ms": ms([s.client_ms for s in ok], 99),
        "llm_p50_ms": round(statistics.median([s.llm_ms for s in ok if s.llm_ms is not None]), 2) if ok else None,
    }


def database_label(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


async def run_load(
    database_url: str,
    conversations: int = 100,
    turns: int = 10,
    model_latency: float = 0.3,
    replicas: int = 2,
    *,
    home: str = "small",
    jitter: float = 0.1,
    home_id: str | None = None,
) -> dict[str, Any]:
    """`replicas` agent processes and one data-api process (0: one `ha-agent serve`, mirror
    inside). Returns the figures and the verification; `ok` sums it up. Every row written
    carries `home_id` (default: a fresh one): choose it to clean up even when this raises."""
    model = LoadModel(turns, jitter=jitter)
    async with Fleet(
        database_url, replicas=replicas, home=home, responder=model, model_latency=model_latency, home_id=home_id
    ) as fleet:
        model.sensors, model.lights = await real_entities(fleet)
        ids: dict[int, str] = {}
        samples: list[Sample] = []
        replies: dict[int, list[str]] = {}
        connector = client_connector()
        async with aiohttp.ClientSession(connector=connector, headers=fleet.headers) as http:
            cpu_before, driver_before = fleet.cpu_seconds(), time.process_time()  # start-up is not the load
            began = time.perf_counter()
            # A TaskGroup: a conversation that raises (not an HTTP error: a bug) stops the others.
            async with asyncio.TaskGroup() as load:
                for c in range(conversations):
                    load.create_task(_conversation(http, fleet, c, range(turns), turns, ids, samples, replies))
            seconds = time.perf_counter() - began
            figures = _figures(samples, seconds)
            cpu = {name: used - cpu_before.get(name, 0.0) for name, used in fleet.cpu_seconds().items()}
            driver = time.process_time() - driver_before
            model_requests = fleet.llm.request_count
            expected = {ids[c]: [user_text(c, t, turns) for t in range(turns)] for c in ids}
            per_conversation = sum(1 for t in range(turns) if t % 3 and (model.sensors if t % 3 == 1 else model.lights))
            tool_turns = dict.fromkeys(expected, per_conversation)
            after_load = verify(await read_history(database_url, fleet.home_id), expected, tool_turns)

            # Every conversation goes on, once on each replica; the model says if it saw it whole.
            extra: list[Sample] = []
            checked: dict[int, list[str]] = {}
            on = len(fleet.agents)
            for n in range(on):
                async with asyncio.TaskGroup() as more:
                    for c in ids:
                        more.create_task(_conversation(http, fleet, c, [turns + n], turns, ids, extra, checked))
            expected = {ids[c]: [user_text(c, t, turns) for t in range(turns + on)] for c in ids}
            after_more = verify(await read_history(database_url, fleet.home_id), expected, tool_turns)
        whole = sum(1 for said in checked.values() for reply in said if "in order" in reply)
        continuation = {
            "turns": len(extra),
            "ok": sum(1 for s in extra if s.status == 200),
            "errors_by_status": dict(Counter(str(s.status) for s in extra if s.status != 200)),
            "model_saw_whole_history": whole,
            "history": after_more,
        }
        await fleet.stop()
        logs = fleet.scan_logs()
    result = {
        "database": database_label(database_url),
        "backend": make_url(database_url).get_backend_name(),
        "home_id": fleet.home_id,  # every row the run wrote carries it
        "mode": f"{replicas} agent replicas + 1 mirror process" if replicas else "1 process (mirror inside)",
        "processes": replicas + 1 if replicas else 1,
        "conversations": conversations,
        "turns": turns,
        "model_latency_ms": round(model_latency * 1000),
        "model_jitter_ms": round(jitter * 1000),
        "model_requests": model_requests,
        **figures,
        "history": after_load,
        "model_history_problems": model.problems[:20],
        "model_history_checks": model.checks,
        "continuation": continuation,
        "logs": logs,
        # Where the machine's time went during the load (all parts share its cores).
        "cpu_ms_per_turn": {name: round(used * 1000 / max(figures["turns_ok"], 1), 1) for name, used in cpu.items()},
        "driver_cpu_seconds": round(driver, 1),  # this process: load generator, simulated HA, model server
    }
    result["ok"] = (
        figures["errors"] == 0
        and figures["tool_errors"] == 0
        and after_load["ok"]
        and after_more["ok"]
        and not model.problems
        and continuation["ok"] == continuation["turns"] == len(ids) * on
        and whole == continuation["turns"]
        and not logs["secret_leaks"]
    )
    return result


def _ms(value: float | None) -> str:
    """None when no turn succeeded: the errors column then says why, this must not crash."""
    return "–" if value is None else f"{value:.0f}"


def format_load(result: dict[str, Any] | list[dict[str, Any]]) -> str:
    rows = result if isinstance(result, list) else [result]
    lines = [
        "| database | processes | conversations × turns | model latency | turns/s | agent overhead p50 / p99 "
        "(total − llm) | client overhead p50 / p99 (client − llm) | errors | DB proof | continuable |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        history, more = r["history"], r["continuation"]
        proof = (
            f"{history['conversations']} conversations, {history['messages']} messages, "
            f"{history['tool_groups']} tool groups: "
            + ("ok" if history["ok"] else f"{history['problem_count']} problems")
        )
        lines.append(
            f"| {r['backend']} | {r['mode']} | {r['conversations']} × {r['turns']} | {r['model_latency_ms']} ms "
            f"(+0–{r['model_jitter_ms']}) | {r['turns_per_second']} | "
            f"{_ms(r['overhead_p50_ms'])} / {_ms(r['overhead_p99_ms'])} ms | "
            f"{_ms(r['client_overhead_p50_ms'])} / {_ms(r['client_overhead_p99_ms'])} ms | {r['errors']} | {proof} | "
            f"{more['ok']} of {more['turns']} turns, whole history seen {more['model_saw_whole_history']}, "
            f"DB {'ok' if more['history']['ok'] else 'problems'} |"
        )
    for r in rows:
        cpu = ", ".join(f"{name} {ms} ms" for name, ms in r["cpu_ms_per_turn"].items())
        lines.append(f"\n{r['backend']}: CPU per turn {cpu}; the driving process {r['driver_cpu_seconds']} s in all.")
    return "\n".join(lines)


__all__ = ["LoadModel", "format_load", "read_history", "run_load", "user_text", "verify"]
