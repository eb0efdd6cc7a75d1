"""Conversation history: the store (SQLite and PostgreSQL) and the token-budget window (pure).

Database tests write under their own home ids and delete them afterwards (PostgreSQL is shared
with other tests and other runs); the `backend`/`database_url` fixtures are in conftest.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import tiktoken
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, inspect, text, update

from data_api.platform.db import migrate as store_migrate
from data_api.platform.settings import Settings
from data_api.store import Store
from data_api.store import chain as mirror_chain
from data_api.store.schema import Base as MirrorBase
from ha_agent.history import (
    MESSAGE_OVERHEAD,
    NAME_OVERHEAD,
    ConversationNotFound,
    ConversationStore,
    InvalidMessage,
    StoredMessage,
    Window,
    select_window,
)
from ha_agent.history.store import _UNIT_SLACK
from ha_agent.storage import SCRIPT_LOCATION, VERSION_TABLE, conversations
from ha_agent.storage import metadata as history_metadata
from ha_agent.tokens import get_encoding

MODEL = "gpt-4o-mini"

# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


def open_history(database_url: str) -> ConversationStore:
    """A store with its own engine, as a separate agent process (or replica) makes one."""
    return ConversationStore.from_settings(Settings(database_url=database_url).db)  # type: ignore[call-arg]


@pytest.fixture
async def history(database_url: str) -> AsyncIterator[ConversationStore]:
    store = open_history(database_url)
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture
async def new_home(history: ConversationStore) -> AsyncIterator[Callable[[], str]]:
    """Makes unique home ids, and deletes their conversations afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(f"test-{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield make
    if made:
        async with history.engine.begin() as conn:
            await conn.execute(delete(conversations).where(conversations.c.home_id.in_(made)))


@pytest.fixture
def home(new_home: Callable[[], str]) -> str:
    return new_home()


@contextmanager
def counting_statements(store: ConversationStore) -> Iterator[list[str]]:
    """The SQL statements sent while inside (transaction control left out)."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)


@contextmanager
def counting_tokenizer(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every text any tiktoken encoding is asked to encode, whoever asks."""
    texts: list[str] = []
    for method in ("encode", "encode_ordinary"):
        original = getattr(tiktoken.Encoding, method)

        def counted(self: tiktoken.Encoding, text: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            texts.append(text)
            return _original(self, text, *args, **kwargs)

        monkeypatch.setattr(tiktoken.Encoding, method, counted)
    yield texts


def call(call_id: str, name: str = "HassTurnOn", arguments: str = '{"name":"kitchen light"}') -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


TURN = [
    {"role": "user", "content": "Turn on the kitchen light and tell me the bedroom temperature"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [call("call_1"), call("call_2", "GetState", '{"entity_id":"sensor.bedroom_temperature"}')],
        "meta": {"llm_ms": 412.5, "usage": {"prompt_tokens": 900, "completion_tokens": 41}},
    },
    {"role": "tool", "tool_call_id": "call_1", "name": "HassTurnOn", "content": '{"success":true}'},
    {"role": "tool", "tool_call_id": "call_2", "content": "19.5 °C"},
    {"role": "assistant", "content": "Done: the kitchen light is on, and the bedroom is 19.5 °C."},
]


# ---------------------------------------------------------------------------------------------
# Storing and loading
# ---------------------------------------------------------------------------------------------


async def test_append_and_load_round_trip_with_tool_calls(history: ConversationStore, home: str) -> None:
    conversation_id = await history.create(home, "Kitchen")
    stored = await history.append(conversation_id, TURN, MODEL)
    loaded = await history.load(conversation_id)

    assert loaded == stored
    assert [m.seq for m in loaded] == [1, 2, 3, 4, 5]
    wire = [{k: v for k, v in message.items() if k != "meta"} for message in TURN]
    assert [m.as_openai() for m in loaded] == wire
    assert loaded[1].meta == TURN[1]["meta"] and loaded[0].meta is None
    assert all(m.created_at.tzinfo is not None for m in loaded)
    assert len({m.id for m in loaded}) == 5
    async with history.engine.connect() as conn:  # no tool calls, no meta: SQL NULL, not JSON 'null'
        nulls = await conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE tool_calls IS NULL), count(*) FILTER (WHERE meta IS NULL)"
                " FROM agent_messages WHERE conversation_id = :id"
            ),
            {"id": conversation_id},
        )
        assert tuple(nulls.one()) == (4, 4)

    conversation = await history.get(conversation_id, home_id=home)
    assert conversation is not None
    assert (conversation.home_id, conversation.title, conversation.message_count) == (home, "Kitchen", 5)
    assert conversation.messages == tuple(loaded)
    assert conversation.updated_at >= conversation.created_at


async def test_appends_continue_the_sequence(history: ConversationStore, home: str) -> None:
    conversation_id = await history.create(home)
    await history.append(conversation_id, TURN[:1], MODEL)
    second = await history.append(conversation_id, TURN[1:], MODEL)
    assert [m.seq for m in second] == [2, 3, 4, 5]
    assert [m.content for m in await history.load(conversation_id)] == [m.get("content") for m in TURN]
    assert await history.append(conversation_id, [], MODEL) == []


async def test_unknown_conversations(history: ConversationStore, home: str) -> None:
    missing = uuid.uuid4().hex
    assert not await history.exists(missing)
    assert await history.get(missing, home_id=home) is None
    assert await history.load(missing) == []
    assert not await history.delete(missing, home_id=home)
    with pytest.raises(ConversationNotFound):
        await history.append(missing, TURN[:1], MODEL)
    conversation_id = await history.create(home)
    assert await history.exists(conversation_id)


@pytest.mark.parametrize(
    ("message", "complaint"),
    [
        ({"role": "robot", "content": "hi"}, "role must be one of"),
        ({"role": "user", "content": None}, "needs content"),
        ({"role": "user", "content": [{"type": "text", "text": "hi"}]}, "content must be text"),
        ({"role": "tool", "content": "ok"}, "tool_call_id"),
        ({"role": "user", "content": "hi", "tool_call_id": "x"}, "tool_call_id"),
        ({"role": "user", "content": "hi", "tool_calls": [call("c")]}, "only assistant"),
        ({"role": "assistant", "content": None, "tool_calls": []}, "non-empty list"),
        ({"role": "assistant", "content": None, "tool_calls": [{"function": {}}]}, "string 'id'"),
        ({"role": "user", "content": "hi", "refusal": None}, "unknown keys"),
        ("hello", "expected a dict"),
    ],
)
async def test_invalid_message_stores_nothing(
    history: ConversationStore, home: str, message: Any, complaint: str
) -> None:
    conversation_id = await history.create(home)
    with pytest.raises(InvalidMessage, match=complaint) as info:
        await history.append(conversation_id, [TURN[0], message], MODEL)
    assert str(info.value).startswith("message 1:")
    assert await history.load(conversation_id) == []
    assert (await history.append(conversation_id, TURN[:1], MODEL))[0].seq == 1  # no seq was used up


async def test_list_recent_is_per_home_newest_first(history: ConversationStore, new_home: Callable[[], str]) -> None:
    home, other = new_home(), new_home()
    ids = [await history.create(home, f"chat {i}") for i in range(4)]
    await history.create(other)
    await history.append(ids[1], TURN[:1], MODEL)  # activity moves it to the front
    recent = await history.list_recent(home, limit=3)
    assert [c.id for c in recent] == [ids[1], ids[3], ids[2]]
    assert [c.message_count for c in recent] == [1, 0, 0]
    assert all(c.messages == () and c.home_id == home for c in recent)


# ---------------------------------------------------------------------------------------------
# Token counts: computed once, when stored
# ---------------------------------------------------------------------------------------------


async def test_token_counts_match_tiktoken(history: ConversationStore, home: str) -> None:
    text_ = "Zet de woonkamerlampen aan"  # 7 tokens in o200k_base, 10 in cl100k_base
    o200k, cl100k = get_encoding("o200k_base"), get_encoding("cl100k_base")
    assert (len(o200k.encode(text_)), len(cl100k.encode(text_))) == (7, 10)
    conversation_id = await history.create(home)

    for model, encoding in (("gpt-4o", o200k), ("gpt-5", o200k), ("llama3.1:8b", cl100k), ("gpt-4", cl100k)):
        plain, named = await history.append(
            conversation_id,
            [{"role": "user", "content": text_}, {"role": "user", "content": text_, "name": "alice"}],
            model,
        )
        assert plain.token_count == MESSAGE_OVERHEAD + len(encoding.encode(text_)), model
        assert named.token_count == plain.token_count + NAME_OVERHEAD + len(encoding.encode("alice")), model

    calls = [call("call_1")]
    (assistant,) = await history.append(
        conversation_id, [{"role": "assistant", "content": None, "tool_calls": calls}], "gpt-4o"
    )
    serialized = '[{"id":"call_1","type":"function","function":{"name":"HassTurnOn","arguments":"{\\"name\\":\\"kitchen light\\"}"}}]'
    assert assistant.token_count == MESSAGE_OVERHEAD + len(o200k.encode(serialized))


async def test_tokens_are_counted_once_never_on_load_or_selection(
    history: ConversationStore, home: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id = await history.create(home)
    get_encoding("o200k_base")  # loaded before counting: loading encodes nothing, but be sure
    with counting_tokenizer(monkeypatch) as encoded:
        stored = await history.append(conversation_id, TURN * 20, MODEL)
        # One encode per text part: content, serialized tool calls, name.
        parts = sum(bool(m.get("content")) + bool(m.get("tool_calls")) + bool(m.get("name")) for m in TURN)
        assert len(encoded) == 20 * parts
        after_append = len(encoded)

        for _ in range(10):
            loaded = await history.load(conversation_id)
            conversation = await history.get(conversation_id, home_id=home)
            for budget in (50, 500, 5000, 10**6):
                window = select_window(loaded, budget)
                [m.as_openai() for m in window]
        assert conversation is not None and list(conversation.messages) == loaded == stored
        assert len(encoded) == after_append  # loads and selection never tokenized


# ---------------------------------------------------------------------------------------------
# Concurrency: two replicas on one database
# ---------------------------------------------------------------------------------------------


async def test_concurrent_appends_from_two_replicas_lose_and_duplicate_nothing(
    history: ConversationStore, database_url: str, home: str
) -> None:
    replicas = [open_history(database_url), open_history(database_url)]  # two engines, two pools
    try:
        conversation_id = await replicas[0].create(home)

        async def turn(k: int) -> None:
            user = {"role": "user", "content": f"question {k}"}
            answer = {"role": "assistant", "content": f"answer {k}"}
            await replicas[k % 2].append(conversation_id, [user, answer], MODEL)

        await asyncio.wait_for(asyncio.gather(*(turn(k) for k in range(50))), 60)

        for replica in replicas:
            loaded = await replica.load(conversation_id)
            assert [m.seq for m in loaded] == list(range(1, 101))
            contents = [m.content for m in loaded]
            assert sorted(contents) == sorted([f"question {k}" for k in range(50)] + [f"answer {k}" for k in range(50)])
            for question, answer in zip(contents[::2], contents[1::2], strict=True):  # batches stay whole
                assert question.startswith("question ") and answer == "answer " + question.split()[1]

        # Either replica continues the conversation where the other left it.
        (later,) = await replicas[1].append(conversation_id, [{"role": "user", "content": "and now?"}], MODEL)
        (latest,) = await replicas[0].append(conversation_id, [{"role": "assistant", "content": "now"}], MODEL)
        assert (later.seq, latest.seq) == (101, 102)
        conversation = await history.get(conversation_id, home_id=home)
        assert conversation is not None and conversation.message_count == 102
    finally:
        for replica in replicas:
            await replica.close()


async def test_many_conversations_in_parallel(history: ConversationStore, database_url: str, home: str) -> None:
    other = open_history(database_url)
    try:
        ids = [await history.create(home) for _ in range(20)]

        async def converse(index: int) -> None:
            store = (history, other)[index % 2]
            for turn in range(3):
                await store.append(ids[index], [{"role": "user", "content": f"{index}/{turn}"}], MODEL)

        await asyncio.wait_for(asyncio.gather(*(converse(i) for i in range(20))), 60)
        for index, conversation_id in enumerate(ids):
            assert [m.content for m in await other.load(conversation_id)] == [f"{index}/{t}" for t in range(3)]
    finally:
        await other.close()


# ---------------------------------------------------------------------------------------------
# Deleting and retention
# ---------------------------------------------------------------------------------------------


async def test_delete_is_one_statement_and_cascades(history: ConversationStore, home: str) -> None:
    conversation_id = await history.create(home)
    kept = await history.create(home)
    await history.append(conversation_id, TURN * 10, MODEL)
    await history.append(kept, TURN, MODEL)

    with counting_statements(history) as statements:
        assert await history.delete(conversation_id, home_id=home)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("DELETE")

    assert await history.get(conversation_id, home_id=home) is None
    async with history.engine.connect() as conn:  # the messages went with it (cascade)
        left = (
            await conn.execute(
                text("SELECT count(*) FROM agent_messages WHERE conversation_id = :id"), {"id": conversation_id}
            )
        ).scalar_one()
    assert left == 0
    assert len(await history.load(kept)) == len(TURN)


async def test_a_conversation_is_reachable_only_from_its_own_home(
    history: ConversationStore, home: str, new_home: Callable[[], str]
) -> None:
    """Homes may share one database: an id from another home is not found, whatever is tried."""
    mine = await history.create(home)
    await history.append(mine, TURN[:1], MODEL)
    stranger = new_home()
    assert await history.get(mine, home_id=stranger) is None
    assert not await history.delete(mine, home_id=stranger)
    with pytest.raises(ConversationNotFound):
        await history.append(mine, TURN[1:2], MODEL, home_id=stranger)
    async with history.engine.begin() as conn:  # long idle: a purge of the other home keeps it
        await conn.execute(
            update(conversations)
            .where(conversations.c.id == mine)
            .values(updated_at=datetime.now(UTC) - timedelta(days=400))
        )
    assert await history.purge_older_than(30, home_id=stranger) == 0
    conversation = await history.get(mine, home_id=home)
    assert conversation is not None and conversation.message_count == 1
    assert await history.purge_older_than(30, home_id=home) == 1


async def test_retention_purges_only_idle_conversations(history: ConversationStore, home: str, backend: str) -> None:
    old, stale, fresh = [await history.create(home) for _ in range(3)]
    for conversation_id in (old, stale, fresh):
        await history.append(conversation_id, TURN[:1], MODEL)
    now = datetime.now(UTC)
    async with history.engine.begin() as conn:
        for conversation_id, age in ((old, timedelta(days=400)), (stale, timedelta(days=30, hours=1))):
            await conn.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(updated_at=now - age)
            )

    assert await history.purge_older_than(0, home_id=home) == 0  # 0: keep forever
    assert await history.purge_older_than(-1, home_id=home) == 0
    assert await history.exists(old)

    with counting_statements(history) as statements:
        purged = await history.purge_older_than(30, home_id=home)
    assert len(statements) == 1
    # PostgreSQL is shared: another run's idle conversations may go too.
    assert purged == 2 if backend == "sqlite" else purged >= 2
    assert not await history.exists(old) and not await history.exists(stale)
    assert [m.content for m in await history.load(fresh)] == [TURN[0]["content"]]


# ---------------------------------------------------------------------------------------------
# Schema and migrations
# ---------------------------------------------------------------------------------------------


async def test_migrations_are_idempotent_and_coexist_with_the_mirror(
    database_url: str, backend: str, tmp_path: Any
) -> None:
    """Both chains upgrade one database, concurrently and repeatedly; neither disturbs the other."""
    if backend == "sqlite":  # a fresh file: both chains really run, and at the same time
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'both.db'}"
    mirror, history_a, history_b = Store(database_url), open_history(database_url), open_history(database_url)
    try:
        await asyncio.wait_for(asyncio.gather(history_a.migrate(), mirror.migrate(), history_b.migrate()), 60)
        await history_a.migrate()
        await mirror.migrate()

        def inspect_schema(conn: Any) -> dict[str, Any]:
            inspector = inspect(conn)
            indexes = {
                table: {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
                for table in ("agent_conversations", "agent_messages")
            }
            unique = {tuple(uq["column_names"]) for uq in inspector.get_unique_constraints("agent_messages")}
            foreign = inspector.get_foreign_keys("agent_messages")
            versions = {
                table: conn.execute(text(f"SELECT version_num FROM {table}")).scalars().all()
                for table in (VERSION_TABLE, mirror_chain.VERSION_TABLE)
            }
            history_diff = compare_metadata(  # the history's tables; others in the chain are not ours
                MigrationContext.configure(conn, opts={"include_name": _history_tables, "compare_type": True}),
                history_metadata,
            )
            mirror_diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"include_name": mirror_chain.include_name, "compare_type": True}
                ),
                MirrorBase.metadata,
            )
            return {
                "tables": set(inspector.get_table_names()),
                "indexes": indexes,
                "unique": unique,
                "cascade": [(fk["referred_table"], fk["options"].get("ondelete")) for fk in foreign],
                "versions": versions,
                "diffs": (history_diff, mirror_diff),
            }

        async with history_a.engine.connect() as conn:
            schema = await conn.run_sync(inspect_schema)
        assert {"agent_conversations", "agent_messages", VERSION_TABLE, mirror_chain.VERSION_TABLE} <= schema["tables"]
        assert {"mirror_entities", "mirror_sync_state"} <= schema["tables"]
        assert schema["versions"] == {
            VERSION_TABLE: [_head(SCRIPT_LOCATION)],
            mirror_chain.VERSION_TABLE: ["0001_mirror"],
        }
        assert ("conversation_id", "created_at") in schema["indexes"]["agent_messages"]
        assert {("updated_at",), ("home_id", "updated_at")} <= schema["indexes"]["agent_conversations"]
        assert ("conversation_id", "seq") in schema["unique"]
        assert [(table, (rule or "").upper()) for table, rule in schema["cascade"]] == [
            ("agent_conversations", "CASCADE")
        ]
        assert schema["diffs"] == ([], [])  # each chain made exactly its models, and only those

        # Both still work side by side.
        assert await mirror.load_sync_state("nobody") == {}
        assert await history_b.list_recent("nobody") == []
    finally:
        for store in (mirror, history_a, history_b):
            await store.close()


async def test_shares_the_mirrors_engine(database_url: str, home: str) -> None:
    mirror = Store(database_url)
    try:
        await mirror.migrate()
        shared = ConversationStore(mirror.engine)
        await shared.migrate()
        conversation_id = await shared.create(home)
        await shared.append(conversation_id, TURN[:1], MODEL)
        await shared.close()  # not its engine: leaves it open
        assert await mirror.ping() > 0
        assert len(await ConversationStore(mirror.engine).load(conversation_id)) == 1
    finally:
        async with mirror.engine.begin() as conn:
            await conn.execute(delete(conversations).where(conversations.c.home_id == home))
        await mirror.close()


def _history_tables(name: str | None, type_: str, _parent: Any) -> bool:
    return type_ != "table" or name in history_metadata.tables


def _head(script_location: str) -> str:
    script = ScriptDirectory.from_config(store_migrate.alembic_config(script_location=script_location))
    head = script.get_current_head()
    assert head is not None
    return head


def test_migrations_ship_with_the_package() -> None:
    from importlib.resources import files

    migrations = files("ha_agent.storage") / "migrations"
    assert (migrations / "env.py").is_file()
    assert (migrations / "versions" / "0001_agent_history.py").is_file()


# ---------------------------------------------------------------------------------------------
# The window: property tests over generated conversations
# ---------------------------------------------------------------------------------------------

_NOW = datetime(2025, 5, 1, tzinfo=UTC)


def _message(seq: int, role: str, tokens: int, **fields: Any) -> StoredMessage:
    return StoredMessage(
        id=f"m{seq}",
        conversation_id="c",
        seq=seq,
        role=role,
        content=fields.get("content", "" if role != "assistant" or "tool_calls" not in fields else None),
        tool_calls=fields.get("tool_calls"),
        tool_call_id=fields.get("tool_call_id"),
        name=None,
        token_count=tokens,
        created_at=_NOW,
        meta=None,
    )


@st.composite
def conversations_(draw: st.DrawFn, max_turns: int = 120) -> list[StoredMessage]:
    """Turns of user question, tool rounds (assistant calls + results), answer; now and then the
    damage real histories carry: orphan tool results, calls whose results were never stored,
    results out of order, system notes. Hypothesis picks the size and the seed of a `Random`
    that picks the details: hundreds of messages per example without thousands of draws each."""
    turns = draw(st.integers(1, max_turns))
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    out: list[StoredMessage] = []

    def add(role: str, **fields: Any) -> None:
        out.append(_message(len(out) + 1, role, rnd.randint(1, 300), **fields))

    if rnd.random() < 0.3:
        add("assistant", content="Hello, how can I help?")  # a greeting before any user message
    for turn in range(turns):
        add("user")
        for round_ in range(rnd.choice((0, 0, 1, 1, 2, 3))):
            ids = [f"t{turn}r{round_}c{i}" for i in range(rnd.randint(1, 3))]
            add("assistant", tool_calls=[call(i) for i in ids])
            answered = ids[1:] if rnd.random() < 0.05 else ids[:]  # sometimes a result is missing
            rnd.shuffle(answered)
            for call_id in answered:
                add("tool", tool_call_id=call_id)
            if rnd.random() < 0.05:
                add("tool", tool_call_id="nobody-called-this")  # orphan inside a group's run
        if rnd.random() < 0.05:
            add("tool", tool_call_id="stray")  # orphan after a user or assistant message
        if rnd.random() < 0.04:
            add("system", content="note")
        if rnd.random() < 0.85:
            add("assistant", content="answer")
    if rnd.random() < 0.7:  # the usual case: the current user message is the last one
        add("user")
    return out


@st.composite
def budgets(draw: st.DrawFn, messages: list[StoredMessage]) -> int:
    """A share of the whole conversation, so every size is cut somewhere; sometimes tiny.
    (From a seeded `Random`: Hypothesis' own numbers crowd around 0, all over budget.)"""
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    if rnd.random() < 0.15:
        return rnd.randint(0, 400)
    return int(rnd.uniform(0, 1.05) * sum(m.token_count for m in messages))


@dataclass
class _Unit:
    """A reference split of a conversation, made forwards (the window walks backwards)."""

    start: int
    members: list[int]  # sendable messages of the unit
    unsendable: list[int]


def _reference_units(messages: Sequence[StoredMessage]) -> list[_Unit]:
    units: list[_Unit] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        if message.role == "assistant" and message.tool_calls:
            end = index + 1
            while end < len(messages) and messages[end].role == "tool":
                end += 1
            wanted = {c["id"] for c in message.tool_calls}
            members, orphans, seen = [index], [], set()
            for j in range(index + 1, end):
                call_id = messages[j].tool_call_id
                if call_id in wanted and call_id not in seen:
                    seen.add(call_id)
                    members.append(j)
                else:
                    orphans.append(j)
            if seen == wanted:
                units.append(_Unit(index, members, orphans))
            else:
                units.append(_Unit(index, [], list(range(index, end))))
            index = end
        elif message.role == "tool":
            units.append(_Unit(index, [], [index]))
            index += 1
        else:
            units.append(_Unit(index, [index], []))
            index += 1
    return units


def _expected_window(messages: Sequence[StoredMessage], budget: int) -> list[int]:
    """The smallest unit boundary whose suffix, with the pinned user messages, fits."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    pinned: set[int] = set()
    if users:
        current, first = users[-1], users[0]
        pinned = {current}
        if messages[first].token_count + (messages[current].token_count if first != current else 0) <= budget:
            pinned.add(first)

    best = set(pinned)
    spent = sum(messages[i].token_count for i in pinned)
    for unit in reversed(_reference_units(messages)):
        added = [i for i in unit.members if i not in best]
        spent += sum(messages[i].token_count for i in added)
        if spent > budget:
            break
        best.update(added)
    return sorted(best)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), conversations_())
def test_window_properties(data: st.DataObject, messages: list[StoredMessage]) -> None:
    budget = data.draw(budgets(messages), label="budget")
    window = select_window(messages, budget)
    chosen = [m.seq - 1 for m in window]
    by_index = {i: messages[i] for i in chosen}
    users = [i for i, m in enumerate(messages) if m.role == "user"]

    assert chosen == sorted(set(chosen)), "in conversation order, no repeats"
    assert window.tokens == sum(m.token_count for m in window)
    assert window.dropped == len(messages) - len(window)

    # Always the current user message; the first too unless both do not fit; never over budget
    # unless the current message alone is.
    if users:
        first, current = users[0], users[-1]
        assert current in by_index
        assert window.over_budget == (messages[current].token_count > budget)
        both = messages[first].token_count + messages[current].token_count
        assert window.first_dropped == (first != current and both > budget)
        assert (first in by_index) == (not window.first_dropped)
    if window.over_budget:
        assert chosen == [users[-1]]
    else:
        assert window.tokens <= budget

    # Groups stay whole: every call chosen has all its results chosen right after it, and every
    # result chosen follows its call or a sibling result; so no stretch of the window (the
    # recent part after the pinned user messages included) starts with a tool message.
    for position, index in enumerate(chosen):
        message = messages[index]
        if message.role == "assistant" and message.tool_calls:
            following = [messages[j] for j in chosen[position + 1 :]]
            results = []
            for later in following:
                if later.role != "tool":
                    break
                results.append(later.tool_call_id)
            assert sorted(results) == sorted(message.tool_call_ids())
        if message.role == "tool":
            assert position > 0, "never starts with a tool message"
            previous = messages[chosen[position - 1]]
            assert previous.role == "tool" or previous.tool_calls, "a tool result without its call"

    # The most recent whole units that fit, stopping at the first that does not.
    assert chosen == _expected_window(messages, budget)


def test_window_examples() -> None:
    u1 = _message(1, "user", 10)
    a1 = _message(2, "assistant", 20, tool_calls=[call("x"), call("y")])
    t1 = _message(3, "tool", 30, tool_call_id="y")
    t2 = _message(4, "tool", 30, tool_call_id="x")
    a2 = _message(5, "assistant", 40)
    u2 = _message(6, "user", 5)
    history = [u1, a1, t1, t2, a2, u2]

    assert select_window(history, 1000) == history
    assert select_window(history, 55) == [u1, a2, u2]  # the call group (80) does not fit: stop
    assert select_window(history, 134) == [u1, a2, u2]
    assert select_window(history, 135) == history
    assert select_window(history, 14) == [u2] and select_window(history, 14).first_dropped
    tight = select_window(history, 3)
    assert tight == [u2] and tight.over_budget and tight.tokens == 5
    assert select_window([], 100) == []

    # A turn in progress: the calls of the current turn have their results, and come along.
    current = [
        u1,
        a2,
        u2,
        _message(7, "assistant", 8, tool_calls=[call("z")]),
        _message(8, "tool", 4, tool_call_id="z"),
    ]
    assert select_window(current, 27) == [u1, u2, *current[3:]]
    # Calls whose results never got stored are not sent, nor is a stray result.
    broken = [u1, _message(2, "tool", 1, tool_call_id="q"), a2, _message(4, "assistant", 1, tool_calls=[call("w")]), u2]
    assert select_window(broken, 1000) == [u1, a2, u2]


# ---------------------------------------------------------------------------------------------
# Reading only what a window can take
# ---------------------------------------------------------------------------------------------


def _recent(messages: Sequence[StoredMessage], max_tokens: int, at_least: int) -> list[StoredMessage]:
    """What `ConversationStore.load_recent` promises, over a whole list: the first and last user
    messages, the newest messages whose tokens reach `max_tokens` and `_UNIT_SLACK` more, and
    the newest `at_least`."""
    users = [m.seq for m in messages if m.role == "user"]
    pinned = {users[0], users[-1]} if users else set()
    reach, newer = 0, 0
    for message in reversed(messages):
        if newer >= max_tokens:
            break
        reach += 1
        newer += message.token_count
    newest = len(messages) - max(reach + _UNIT_SLACK, at_least)
    return [m for i, m in enumerate(messages) if i >= newest or m.seq in pinned]


def _same_window(a: Window, b: Window) -> bool:
    return list(a) == list(b) and (a.tokens, a.first_dropped, a.over_budget) == (
        b.tokens,
        b.first_dropped,
        b.over_budget,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), conversations_())
def test_the_recent_messages_give_the_window_of_the_whole_conversation(
    data: st.DataObject, messages: list[StoredMessage]
) -> None:
    budget = data.draw(budgets(messages), label="budget")
    recent = _recent(messages, budget, 0)
    window = select_window(recent, budget)
    if window.reached_start and len(recent) < len(messages):  # what `load_window` then does
        window = select_window(messages, budget)
    assert _same_window(window, select_window(messages, budget))


async def test_load_recent_reads_what_the_window_takes_in_one_query(history: ConversationStore, home: str) -> None:
    rnd = random.Random(3)
    conversation_id = await history.create(home)
    for turn in range(60):
        batch: list[dict[str, Any]] = [{"role": "user", "content": "question " + "word " * rnd.randint(1, 60)}]
        if turn % 3:
            ids = [f"c{turn}_{i}" for i in range(rnd.randint(1, 3))]
            batch.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": i, "type": "function", "function": {"name": "get_state", "arguments": "{}"}} for i in ids
                    ],
                }
            )
            batch += [{"role": "tool", "tool_call_id": i, "content": "state " * rnd.randint(1, 80)} for i in ids]
        batch.append({"role": "assistant", "content": "answer " * rnd.randint(1, 40)})
        await history.append(conversation_id, batch, MODEL)
    whole = await history.load(conversation_id)
    for budget in (0, 40, 300, 1000, 4000, 10**6):
        with counting_statements(history) as statements:
            recent = await history.load_recent(conversation_id, budget, at_least=12)
        assert len(statements) == 1
        assert recent == _recent(whole, budget, 12)
        read, window = await history.load_window(conversation_id, budget, at_least=12)
        assert _same_window(window, select_window(whole, budget))
        assert read == recent  # whole units at the edge: read once
    assert recent == whole  # the largest budget takes everything
    assert len(await history.load_recent(conversation_id, 1000)) < len(whole) // 4  # the point of it
    assert await history.load_recent("no-such-conversation", 1000) == []
