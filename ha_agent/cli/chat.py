"""`ha-agent chat`: talk to a running agent — one message, or a conversation at a prompt."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from data_api.platform.logs import display_url
from data_api.platform.settings import Settings

if TYPE_CHECKING:
    from ha_agent.api.client import AgentClient


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Not a coroutine: the prompt reads the terminal between turns, outside any event loop, so
    Ctrl+C there is a plain KeyboardInterrupt (and during a turn, it stops waiting for it)."""
    from ha_agent.api.client import AgentClient

    api_key = settings.api_keys[0].get_secret_value() if settings.api_keys else None
    with asyncio.Runner() as runner:
        client = AgentClient(args.url or settings.agent_url, api_key)
        try:
            if args.message is not None:
                return 0 if runner.run(_chat_turn(client, args.message, args.conversation, args.stream))[1] else 1
            return _chat_prompt(runner, client, args.conversation, args.stream)
        finally:
            runner.run(client.close())


def _chat_prompt(runner: asyncio.Runner, client: AgentClient, conversation_id: str | None, stream: bool) -> int:
    print(
        f"Chatting with the agent at {display_url(client.url)}: /new starts a new conversation, /quit leaves.",
        file=sys.stderr,
    )
    prompt = "you> " if sys.stdin.isatty() else ""  # piped input: only the replies on stdout
    while True:
        try:
            line = input(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if line in ("/quit", "/exit"):
            return 0
        if line == "/new":
            conversation_id = None
            print("(a new conversation starts with your next message)", file=sys.stderr)
            continue
        if not line:
            continue
        try:
            conversation_id, _ = runner.run(_chat_turn(client, line, conversation_id, stream))
        except KeyboardInterrupt:  # the agent finishes the turn; the conversation will have it
            print("\n(interrupted)", file=sys.stderr)


async def _chat_turn(
    client: AgentClient, message: str, conversation_id: str | None, stream: bool
) -> tuple[str | None, bool]:
    """Send one message and print what comes back; (the conversation id, whether it answered)."""
    from ha_agent.api.client import AgentError

    try:
        if stream:
            result = await _streamed_turn(client, message, conversation_id)
        else:
            result = await client.chat(message, conversation_id)
            for call in result["tool_calls"]:
                _print_tool_call(call)
            print(result["reply"], flush=True)
    except AgentError as exc:
        print(f"ha-agent: {exc}", file=sys.stderr)
        return exc.conversation_id or conversation_id, False
    usage, timings = result["usage"], result["timings"]
    print(
        f"(conversation {result['conversation_id']}; {usage['prompt_tokens']}+{usage['completion_tokens']} tokens, "
        f"{timings['total_ms'] / 1000:.1f} s)",
        file=sys.stderr,
    )
    return result["conversation_id"], True


async def _streamed_turn(client: AgentClient, message: str, conversation_id: str | None) -> dict[str, Any]:
    """Text as it arrives; each tool call on its own line; the reply if no text was streamed."""
    shown = ""  # text printed since the last tool call
    try:
        async for event, data in client.stream(message, conversation_id):
            if event == "text":
                shown += data["delta"]
                print(data["delta"], end="", flush=True)
            elif event == "tool_call":
                if shown:
                    print(flush=True)
                shown = ""
                _print_tool_call(data)
            elif event == "done":
                if not shown and data["reply"]:  # e.g. a confirmation, answered without the model
                    print(data["reply"], end="")
                print(flush=True)
                return data
    finally:
        if shown and sys.exc_info()[0] is not None:  # the error goes on a line of its own
            print(flush=True)
    raise AssertionError("unreachable: the client raises when the stream ends without `done`")


def _print_tool_call(call: dict[str, Any]) -> None:
    arguments = json.dumps(call.get("arguments"), ensure_ascii=False, separators=(",", ":"))
    outcome = f"error: {call['error']}" if call.get("error") else json.dumps(call.get("result"), ensure_ascii=False)
    if len(outcome) > 200:  # a search result can be long; the audit has it whole
        outcome = outcome[:199] + "…"
    print(
        f"  [{call['name']}] {arguments} -> {outcome} ({call.get('duration_ms', 0):.0f} ms)",
        file=sys.stderr,
        flush=True,
    )


def add(commands: Any) -> None:
    chat = commands.add_parser(
        "chat",
        help="talk to a running agent (AGENT_URL): one MESSAGE, or a conversation at a prompt",
        description=(
            "Send MESSAGE and print the reply, or without MESSAGE chat at a prompt: /new starts a new "
            "conversation, /quit (or Ctrl+D) leaves. Each tool call the agent makes is shown on stderr."
        ),
    )
    chat.add_argument("message", nargs="?", metavar="MESSAGE", help="one message to send (default: a prompt)")
    chat.add_argument("--url", help=f"agent URL (default AGENT_URL, else {Settings.model_fields['agent_url'].default})")
    chat.add_argument("--conversation", metavar="ID", help="go on with this conversation")
    chat.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show the reply as it is written (default)",
    )
    chat.set_defaults(run=run)
