"""`ha-agent bench soak`: chats under faults, bounded in time, on loopback; then the proofs.

While workers chat (alternating two agent replicas, like `load`), the simulated HA drops every
connection and restarts, changing the home while its clients are away; the model server answers
some requests with 429, 500, or not in time; one agent replica is SIGKILLed and started again.
Afterwards:
- the mirror, read over the data-api's REST API, equals the simulator's home (every kind the API
  lists, and the config) within `CONVERGE_WITHIN` seconds of the last restart;
- every message the agent accepted (2xx, or an error that names the conversation holding it) is
  in the database, once, in order, in whole tool groups; a 2xx is answered by its own reply;
- every request got a 2xx or a JSON error body with a `detail` (no traceback), and a 5xx names
  the conversation that holds the message: a client timeout or a lost connection is a failure,
  except for requests cut by the kill itself;
- no secret (HA token, API key, model key) is in any process's log.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from data_api import DataApiClient, HAClient
from ha_agent.bench.fleet import Fleet
from ha_agent.bench.load import (
    LoadModel,
    chat,
    client_connector,
    database_label,
    read_history,
    real_entities,
    user_text,
)
from ha_agent.simulator.scripted_server import Reply

LLM_TIMEOUT = 1.5  # seconds per model attempt in the agents: a "timeout" fault outlasts it
CLIENT_TIMEOUT = 30.0  # a turn is 3 attempts and backoffs at most (~8 s): 30 s without answer is a hang
CONVERGE_WITHIN = 5.0
TURNS_PER_CONVERSATION = 6
# Every kind the API lists (helpers, scenes and scripts are views of entities), by its key.
_LISTED = {
    "floors": "floor_id",
    "areas": "area_id",
    "labels": "label_id",
    "devices": "id",
    "entities": "entity_id",
    "services": "service_id",
}


@dataclass
class FaultyModel:
    """`LoadModel`'s answers, but `rate` of the requests fail: 429 (with Retry-After), 500, or
    an answer that comes after the agent's timeout."""

    inner: LoadModel
    rate: float
    faults: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(default_factory=lambda: random.Random(11))

    def __call__(self, body: dict[str, Any]) -> Reply:
        if self._rng.random() < self.rate:
            kind = self._rng.choice(("429", "500", "timeout"))
            self.faults[kind] += 1
            if kind == "429":
                return Reply.error(429, retry_after=0.2)
            if kind == "500":
                return Reply.error(500)
            return Reply.delay(LLM_TIMEOUT + 0.5, Reply.text("too late"))
        return self.inner(body)


@dataclass
class Request:
    conversation: int
    turn: int
    replica: int
    text: str
    status: int
    body: Any
    cut_by_kill: bool = False


# --- the mirror against the home ---------------------------------------------------------------
def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))  # tuples as lists, as the API sends them


async def mirror_differences(fleet: Fleet) -> list[str]:
    """What the data-api's REST API shows that the simulated HA, read afresh, does not (or
    the other way round), by kind and key."""
    async with HAClient(fleet.sim.url, fleet.sim.token) as ha:
        home = await ha.fetch_home()
    truth = {kind: [item.as_dict() for item in getattr(home, kind)] for kind in _LISTED}
    truth["config"] = [home.config.as_dict()]
    seen: dict[str, list[Any]] = {}
    async with DataApiClient(fleet.data_api_url, fleet.api_key) as api:
        for kind in _LISTED:
            seen[kind] = [item for page in [p async for p in api.pages(kind, limit=1000)] for item in page["items"]]
        seen["config"] = [(await api.config())["item"]]
    differences = []
    for kind, items in truth.items():
        key_of = _LISTED.get(kind)
        want = {item[key_of] if key_of else kind: item for item in _plain(items)}
        have = {item[key_of] if key_of else kind: item for item in _plain(seen[kind])}
        for key in sorted(want.keys() | have.keys()):
            if want.get(key) != have.get(key):
                differences.append(f"{kind} {key}: HA {_short(want.get(key))}, mirror {_short(have.get(key))}")
    return differences


def _short(item: Any) -> str:
    text = json.dumps(item, sort_keys=True)
    return text if len(text) < 160 else text[:159] + "…"


async def _converge(fleet: Fleet, since: float, limit: float) -> tuple[float | None, list[str]]:
    """Seconds from `since` until the mirror equals the home (None if not within `limit`)."""
    differences: list[str] = []
    while True:
        try:
            differences = await mirror_differences(fleet)
        except Exception as exc:  # the mirror or HA still coming back: not equal yet
            differences = [f"unreadable: {type(exc).__name__}: {exc}"]
        if not differences:
            return time.perf_counter() - since, []
        if time.perf_counter() - since > limit:
            return None, differences
        await asyncio.sleep(0.25)


# --- faults ------------------------------------------------------------------------------------
async def _ha_cycle(fleet: Fleet, rng: random.Random, n: int) -> None:
    """Drop every connection, then restart — `SimulatedHA.restart()`, with the home changed
    while HA is down, so the mirror has something to catch up with."""
    sim = fleet.sim
    await sim.drop_connections()
    await sim.stop()
    switchable = sorted(e for e in sim.home.states if e.startswith(("light.", "switch.", "input_boolean.")))
    for entity_id in rng.sample(switchable, min(3, len(switchable))):
        state = sim.home.states[entity_id]
        sim.home.set_state(entity_id, "off" if state["state"] == "on" else "on", dict(state["attributes"]))
    if n % 2 == 0:  # a registry change too: the API lists areas
        area_id = sorted(sim.home.areas)[n % len(sim.home.areas)]
        sim.home.update_area(area_id, name=f"Soak room {n}")
    await asyncio.sleep(0.2)
    await sim.start()  # same port: the clients reconnect to the address they know


# --- the soak ----------------------------------------------------------------------------------
async def run_soak(
    database_url: str,
    seconds: float = 90.0,
    *,
    workers: int = 12,
    model_latency: float = 0.15,
    fault_rate: float = 0.12,
    ha_restarts: int = 10,
    home: str = "small",
    home_id: str | None = None,
) -> dict[str, Any]:
    """Two agent replicas and a mirror process under faults for `seconds`; see the module
    docstring for what is checked. `ok` is true when everything holds; `failures` says what not.
    Every row written carries `home_id` (default: a fresh one): choose it to clean up even when
    this raises."""
    # No check turns (every turn is an ordinary one), and no history check by the model: a
    # message cut by the kill is legitimately missing from its conversation's later turns, and
    # a conversation whose first turn was cut starts afresh mid-way. The database proof
    # (`check_requests`) is the soak's history check: it knows which requests were accepted.
    inner = LoadModel(turns=10**6, jitter=0.05, check_history=False)
    model = FaultyModel(inner, fault_rate)
    settings = {
        "LLM_TIMEOUT": str(LLM_TIMEOUT),
        "LLM_MAX_RETRIES": "2",
        "TOOLS_TIMEOUT": "3",
        "HA_REQUEST_TIMEOUT": "3",
    }
    requests: list[Request] = []
    rng = random.Random(5)
    counts: Counter[str] = Counter()
    async with Fleet(
        database_url,
        replicas=2,
        home=home,
        responder=model,
        model_latency=model_latency,
        settings=settings,
        home_id=home_id,
    ) as fleet:
        inner.sensors, inner.lights = await real_entities(fleet)
        conversations = itertools.count()
        began = time.perf_counter()
        deadline = began + seconds

        async def worker(http: aiohttp.ClientSession) -> None:
            while time.perf_counter() < deadline:
                c, conversation_id = next(conversations), None
                for t in range(TURNS_PER_CONVERSATION):
                    if time.perf_counter() >= deadline:
                        return
                    replica = (c + t) % len(fleet.agents)
                    while not fleet.agents[replica].up:  # as a proxy would: only to live replicas
                        replica = (replica + 1) % len(fleet.agents)
                        if not any(a.up for a in fleet.agents):
                            await asyncio.sleep(0.1)
                    agent = fleet.agents[replica]
                    starts = agent.starts
                    message = user_text(c, t, 10**6)
                    status, body, _ = await chat(http, agent.url, message, conversation_id, CLIENT_TIMEOUT)
                    cut = status == 0 and (agent.starts != starts or not agent.up)
                    requests.append(Request(c, t, replica, message, status, body, cut))
                    if isinstance(body, dict) and body.get("conversation_id"):
                        conversation_id = body["conversation_id"]

        async def faults() -> None:
            # HA cycles spread over the load, the last one after it (the convergence is timed
            # from it); the kill at 40 %, back 3 s later.
            plan = [(seconds * (0.05 + 0.85 * n / max(ha_restarts - 1, 1)), "ha") for n in range(ha_restarts - 1)]
            plan.append((seconds * 0.4, "kill"))
            for at, what in sorted(plan):
                await asyncio.sleep(max(0.0, began + at - time.perf_counter()))
                if what == "ha":
                    await _ha_cycle(fleet, rng, counts["ha_restarts"])
                    counts["ha_drops"] += 1
                    counts["ha_restarts"] += 1
                else:
                    await fleet.kill(1)
                    counts["agent_kills"] += 1
                    await asyncio.sleep(3.0)
                    counts["agent_restart_ms"] = round(await fleet.restart(1) * 1000)
                    counts["agent_restarts"] += 1

        # A TaskGroup: if a fault fails (the replica does not come back), the workers stop too.
        async with aiohttp.ClientSession(connector=client_connector(), headers=fleet.headers) as http:
            async with asyncio.TaskGroup() as soak:
                soak.create_task(faults())
                for _ in range(workers):
                    soak.create_task(worker(http))
        load_seconds = time.perf_counter() - began
        if ha_restarts > 0:
            await _ha_cycle(fleet, rng, counts["ha_restarts"])
            counts["ha_drops"] += 1
            counts["ha_restarts"] += 1
        restarted = time.perf_counter()
        converge, differences = await _converge(fleet, restarted, CONVERGE_WITHIN * 3)
        stored = await read_history(database_url, fleet.home_id)
        await fleet.stop()
        logs = fleet.scan_logs()
    history = check_requests(requests, stored)
    statuses = Counter(r.status for r in requests)
    bad_bodies = [f"{r.status}: {str(r.body)[:200]}" for r in requests if _bad_body(r)]
    no_answer = Counter(
        "cut_by_kill" if r.cut_by_kill else ("client_timeout" if r.body == "client timeout" else str(r.body))
        for r in requests
        if r.status == 0
    )
    result: dict[str, Any] = {
        "database": database_label(database_url),
        "home_id": fleet.home_id,  # every row the run wrote carries it
        "seconds": round(load_seconds, 1),
        "workers": workers,
        "requests": len(requests),
        "2xx": sum(n for s, n in statuses.items() if 200 <= s < 300),
        "4xx": {str(s): n for s, n in sorted(statuses.items()) if 400 <= s < 500},
        "5xx": {str(s): n for s, n in sorted(statuses.items()) if s >= 500},
        "no_answer": dict(no_answer),
        "model_requests": fleet.llm.request_count,
        "model_faults": dict(model.faults),
        "llm_retries": logs["llm_retries"],
        "ha_drops": counts["ha_drops"],
        "ha_restarts": counts["ha_restarts"],
        "agent_kills": counts["agent_kills"],
        "agent_restarts": counts["agent_restarts"],
        "agent_restart_ms": counts["agent_restart_ms"],
        "mirror_differences": len(differences),
        "mirror_difference_samples": differences[:10],
        "converge_seconds": round(converge, 2) if converge is not None else None,
        "history": history,
        "bad_bodies": bad_bodies[:10],
        "secret_leaks": logs["secret_leaks"],
        "log_tracebacks": logs["tracebacks"],
    }
    failures = []
    if converge is None or converge > CONVERGE_WITHIN:
        failures.append(f"mirror not equal to HA within {CONVERGE_WITHIN} s: {differences[:3]}")
    if history["problems"]:
        failures.append(f"history: {history['problems'][:3]}")
    if bad_bodies:
        failures.append(f"error bodies without a JSON detail (or a 5xx without its conversation_id): {bad_bodies[:3]}")
    if result["4xx"]:  # only valid requests are sent: e.g. a 404 would be a conversation lost
        failures.append(f"valid requests refused: {result['4xx']}")
    if set(no_answer) - {"cut_by_kill"}:
        failures.append(f"requests without an answer: {dict(no_answer)}")
    if logs["secret_leaks"]:
        failures.append(f"secrets in logs: {logs['secret_leaks']}")
    if counts["ha_restarts"] != ha_restarts or counts["agent_kills"] != 1 or counts["agent_restarts"] != 1:
        failures.append(f"faults not all injected: {dict(counts)}")
    result["failures"] = failures
    result["ok"] = not failures
    return result


def _bad_body(r: Request) -> bool:
    """A traceback anywhere; an error without a JSON `detail`; a 5xx (the model failed: the
    agent's TurnError) without the `conversation_id` that holds the message — the client could
    not go on. The soak sends only valid requests, so no 4xx is expected (counted apart)."""
    if "Traceback" in json.dumps(r.body):
        return True
    if r.status == 0 or 200 <= r.status < 300:
        return False
    body = r.body if isinstance(r.body, dict) else {}
    if not isinstance(body.get("detail"), str):
        return True
    return r.status >= 500 and not isinstance(body.get("conversation_id"), str)


def check_requests(requests: list[Request], stored: dict[str, Any]) -> dict[str, Any]:
    """Each request against the database: accepted ones stored once and in order (a 2xx with
    its own reply), nothing stored that no request sent, every conversation whole."""
    problems: list[str] = []
    where: dict[str, list[tuple[str, int, str | None]]] = {}  # text -> (conversation, position, reply)
    for cid, conversation in stored.items():
        problems += [f"conversation {cid}: {p}" for p in conversation.problems]
        for position, turn in enumerate(conversation.turns):
            where.setdefault(turn.user, []).append((cid, position, turn.reply))
    sent = {r.text: r for r in requests}
    problems += [f"{text!r} stored {len(found)} times" for text, found in where.items() if len(found) > 1]
    problems += [f"{text!r} stored, never sent" for text in where if text not in sent]
    accepted = unstored_errors = cut_stored = 0
    for r in requests:
        found = where.get(r.text)
        holder = r.body.get("conversation_id") if isinstance(r.body, dict) else None
        if r.status == 200 or holder:  # the agent said it holds the message
            accepted += 1
            if not found:
                problems.append(f"{r.text!r}: answered {r.status}, not stored")
                continue
            cid, _, reply = found[0]
            if cid != holder:
                problems.append(f"{r.text!r}: stored in {cid}, the answer said {holder}")
            if r.status == 200 and (reply is None or not reply.startswith(r.text.split("]")[0] + "]")):
                problems.append(f"{r.text!r}: answered 200, stored reply {reply!r}")
        elif r.cut_by_kill:
            cut_stored += bool(found)
        elif not found:
            unstored_errors += 1  # failed before storing, and said so (status and body checked apart)
    # In each conversation, the messages in the order they were sent.
    for cid, conversation in stored.items():
        order = [(sent[t.user].conversation, sent[t.user].turn) for t in conversation.turns if t.user in sent]
        if order != sorted(order):
            problems.append(f"conversation {cid}: user messages out of order")
    return {
        "conversations": len(stored),
        "user_messages_stored": sum(len(found) for found in where.values()),
        "accepted": accepted,
        "errors_not_stored": unstored_errors,
        "cut_by_kill_but_stored": cut_stored,
        "problems": problems[:50],
        "problem_count": len(problems),
    }


def format_soak(result: dict[str, Any]) -> str:
    r, h = result, result["history"]
    rows = [
        ("database", r["database"]),
        ("duration, workers", f"{r['seconds']} s, {r['workers']} concurrent conversations"),
        ("requests", r["requests"]),
        ("2xx", r["2xx"]),
        ("4xx by code", r["4xx"] or "none"),
        ("5xx by code", r["5xx"] or "none"),
        ("no answer", r["no_answer"] or "none"),
        ("model requests / faults injected", f"{r['model_requests']} / {r['model_faults']}"),
        ("model retries (agents' logs)", r["llm_retries"]),
        ("HA drops / restarts", f"{r['ha_drops']} / {r['ha_restarts']}"),
        ("agent kills / restarts", f"{r['agent_kills']} / {r['agent_restarts']} (back in {r['agent_restart_ms']} ms)"),
        ("mirror differences after the last restart", r["mirror_differences"]),
        ("time to converge", f"{r['converge_seconds']} s" if r["converge_seconds"] is not None else "not converged"),
        ("messages accepted / stored", f"{h['accepted']} / {h['user_messages_stored']}"),
        ("history problems", h["problem_count"]),
        ("error bodies without JSON detail (5xx: or conversation_id)", len(r["bad_bodies"])),
        ("secrets in logs", r["secret_leaks"] or "none"),
        ("result", "ok" if r["ok"] else "FAILED: " + "; ".join(r["failures"])),
    ]
    lines = ["| soak | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


__all__ = ["FaultyModel", "check_requests", "format_soak", "mirror_differences", "run_soak"]
