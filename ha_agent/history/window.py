"""Which stored messages of a conversation go into the prompt, within a token budget.

Pure and cheap: it reads each message's stored `token_count` and never tokenizes. Rules, in
order of precedence:

1. The current user message (the last one with role "user") is always kept, even alone over
   the budget (`over_budget` says so: without it there is nothing to answer).
2. The first user message is kept too (it usually says what the conversation is about), if it
   fits beside the current one; otherwise it goes (`first_dropped`).
3. The rest of the budget takes the most recent messages, walking back from the end in whole
   units, and stops at the first unit that does not fit, so the recent part is one contiguous
   stretch at the end. A unit is one message, or an assistant message with tool calls together
   with the tool messages answering them: the model's API refuses calls without their results
   and results without their call, so a unit is never split.
4. Messages the API would refuse are never sent, whatever the budget: a tool message that
   answers no preceding call (an orphan), and an assistant's tool calls that lack results (a
   turn that crashed between storing the calls and their results). The recent part therefore
   never starts with a tool message.

The window counts messages only; the request's own framing (about 3 tokens priming the reply)
is the caller's to reserve.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .messages import StoredMessage


class Window(list[StoredMessage]):
    """The messages to send, in conversation order, and what selecting them cost and dropped."""

    __slots__ = ("dropped", "first_dropped", "over_budget", "reached_start", "tokens")

    def __init__(
        self,
        messages: Iterable[StoredMessage] = (),
        *,
        tokens: int = 0,
        dropped: int = 0,
        first_dropped: bool = False,
        over_budget: bool = False,
        reached_start: bool = False,
    ) -> None:
        super().__init__(messages)
        self.tokens = tokens  # sum of the kept messages' token counts
        self.dropped = dropped  # stored messages left out, for lack of room or as unsendable
        self.first_dropped = first_dropped  # the first user message did not fit beside the current
        self.over_budget = over_budget  # the current user message alone exceeds the budget
        # Every message given was walked (no unit stopped it): given only the newest ones, the
        # whole conversation might have given a longer window.
        self.reached_start = reached_start


def select_window(messages: Sequence[StoredMessage], budget_tokens: int) -> Window:
    """The messages of a conversation to send within `budget_tokens` (see the module rules)."""
    total = len(messages)
    current = _last_user(messages)
    first = _first_user(messages)
    if first == current:  # one user message so far: pinned once
        first = -1

    pinned_tokens = 0
    over_budget = first_dropped = False
    if current >= 0:
        pinned_tokens = messages[current].token_count
        over_budget = pinned_tokens > budget_tokens
    if first >= 0:
        if pinned_tokens + messages[first].token_count <= budget_tokens:
            pinned_tokens += messages[first].token_count
        else:
            first, first_dropped = -1, True
    remaining = budget_tokens - pinned_tokens

    # The recent part is messages[start:] without `unsendable`; walk back a unit at a time.
    start = total
    unsendable: list[int] = []
    index = total - 1
    reached_start = False
    while index >= 0:
        message = messages[index]
        if index == current or index == first:  # pinned: already paid for
            start = index
            index -= 1
            continue
        if message.role == "tool":
            owner = index
            while owner >= 0 and messages[owner].role == "tool":
                owner -= 1
            if owner < 0 or not messages[owner].tool_calls:  # no call precedes these results
                unsendable.extend(range(owner + 1, index + 1))
                start = owner + 1
                index = owner
                continue
            cost = _tool_unit_cost(messages, owner, index, unsendable)
        elif message.role == "assistant" and message.tool_calls:
            owner, cost = index, -1  # calls with no result after them
        else:
            owner, cost = index, message.token_count
        if cost < 0:  # an unanswered call: skip the whole unit, keep walking
            unsendable.extend(range(owner, index + 1))
        elif cost <= remaining:
            remaining -= cost
        else:
            break
        start = owner
        index = owner - 1
    else:
        reached_start = True

    window = Window(first_dropped=first_dropped, over_budget=over_budget, reached_start=reached_start)
    for pinned in (first, current):
        if 0 <= pinned < start:
            window.append(messages[pinned])
    if unsendable:
        skip = set(unsendable)
        window.extend(messages[i] for i in range(start, total) if i not in skip)
    else:
        window.extend(messages[start:])
    window.tokens = budget_tokens - remaining
    window.dropped = total - len(window)
    return window


def _tool_unit_cost(messages: Sequence[StoredMessage], owner: int, last: int, unsendable: list[int]) -> int:
    """Tokens of the unit messages[owner..last] (an assistant's calls, then tool messages), or
    -1 if some call has no result. Tool messages answering none of the calls, or answering one
    twice, are orphans: added to `unsendable` (when the unit is complete), not to the cost."""
    calls = set(messages[owner].tool_call_ids())
    answered: set[str] = set()
    orphans: list[int] = []
    cost = messages[owner].token_count
    for index in range(owner + 1, last + 1):
        call_id = messages[index].tool_call_id
        if call_id in calls and call_id not in answered:
            answered.add(call_id)
            cost += messages[index].token_count
        else:
            orphans.append(index)
    if len(answered) < len(calls):
        return -1
    unsendable.extend(orphans)
    return cost


def _last_user(messages: Sequence[StoredMessage]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            return index
    return -1


def _first_user(messages: Sequence[StoredMessage]) -> int:
    for index, message in enumerate(messages):
        if message.role == "user":
            return index
    return -1
