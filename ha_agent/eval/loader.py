"""Evaluation sets as the community writes them (../../shared/eval-format.md): homes as
`_fixtures.yaml` in a folder, tasks as the other YAML files beside it, an optional
`dataset_card.yaml` at the set's root. Every sentence of a test is one `Case`.

Read as published, so a set written for HA's leaderboard runs unchanged:
- `category` a string or a list (`[lights, template]`; "template" / "hard" mark the difficulty,
  the first other label is the category the report groups by);
- `expect_changes` per entity flat (`{state: on, brightness: 102}`) or HA-shaped
  (`{state: on, attributes: {brightness: 102}}`), states as strings, numbers or YAML booleans;
- `ignore_changes` per entity a list (`[brightness, state]`) or a mapping (`{brightness: 0}`:
  its keys are ignored), or a list of whole entities;
- `expect_response` a string or a list; `context_now` (the time the case pretends it is);
  `context_device` (the speaker's device: its area is where the person is);
- sentences written as hassil templates (`turn on [the] light`, `(TV|television)`) are taken
  in their plain form, as fixture names are;
- this project's own extensions: `area` (the speaker's area) and `previous` (earlier sentences
  of the same conversation); a scene's `entities` and a script's `sequence` (and `fields`,
  `mode`, `description`) written beside the entity's attributes, as HA's scenes.yaml and
  scripts.yaml write them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import yaml

from data_api.simulator import FixtureError, HomeFixture, read_fixture
from data_api.simulator.fixture_states import enum_value, state_text
from data_api.simulator.fixtures import FIXTURE_FILE, HOME_FILE, plain_name

from .names import DIFFICULTIES

CARD_FILE = "dataset_card.yaml"
# A scene's or script's configuration, which the simulator reads among the entity's attributes.
_CONFIG_KEYS = {"scene": ("entities",), "script": ("sequence", "fields", "mode", "description", "max")}
SHIPPED = Path(__file__).parent / "data"
UNMARKED = "unmarked"  # a set that does not say how hard its sentences are
# Files beside a home that are not tasks (the leaderboard's own list, plus ours).
_NOT_TASKS = {FIXTURE_FILE, HOME_FILE, CARD_FILE, "solution.yaml"}
_TEMPLATE = re.compile(r"\[[^\[\]]*\]|\([^()]*\|[^()]*\)")  # hassil's [optional] or (a|b)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class EvalSetError(ValueError):
    """A set that cannot be run, said with the file and what to fix."""


@dataclass(frozen=True)
class Expected:
    """What one entity must look like after the sentence: `state` (None: not judged) and the
    attributes listed; attributes not listed are not judged."""

    state: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**({"state": self.state} if self.state is not None else {}), **self.attributes}


ALL = "*"  # an ignore entry that ignores the whole entity


@dataclass(frozen=True)
class Case:
    """One sentence of a test, run on a freshly set-up home."""

    id: str  # home/file#test.sentence: stable across runs, for comparing reports
    home: str
    file: str
    category: str
    labels: tuple[str, ...]  # every label of the file's category but the difficulty
    difficulty: str
    sentence: str
    setup: Mapping[str, Any]
    expect_changes: Mapping[str, Expected]
    ignore_changes: Mapping[str, frozenset[str]]  # entity → keys ({ALL}: the whole entity)
    expect_response: tuple[str, ...] | None
    area: str | None = None
    context_device: str | None = None
    previous: tuple[str, ...] = ()
    context_now: datetime | None = None

    @property
    def is_question(self) -> bool:
        """Scored by the reply (nothing may change), not by the changes."""
        return self.expect_response is not None and not self.expect_changes


@dataclass(frozen=True)
class HomeTasks:
    name: str  # the folder's name (unique in the set)
    path: Path
    fixture: HomeFixture
    cases: tuple[Case, ...]
    language: str | None = None  # the sentences' language: the fixture's, else the set card's


@dataclass(frozen=True)
class EvalSet:
    name: str
    description: str
    count: int  # runs of each case (models are not deterministic)
    path: Path
    homes: tuple[HomeTasks, ...]
    language: str | None = None

    @property
    def cases(self) -> list[Case]:
        return [case for home in self.homes for case in home.cases]

    def select(self, *, homes: Iterable[str] = (), categories: Iterable[str] = (),
               difficulties: Iterable[str] = (), limit: int | None = None) -> EvalSet:  # fmt: skip
        """The same set with only the homes, categories and difficulties named (none: all),
        and at most `limit` cases per home, spread evenly over its files (a quick subset that
        still samples every category)."""
        wanted_homes, wanted_categories = set(homes), {c.casefold() for c in categories}
        wanted_difficulties = set(difficulties)
        unknown = wanted_homes - {home.name for home in self.homes}
        if unknown:
            raise EvalSetError(f"no home {', '.join(sorted(unknown))} in {self.path}; "
                               f"it has {', '.join(home.name for home in self.homes)}")  # fmt: skip
        chosen = []
        for home in self.homes:
            if wanted_homes and home.name not in wanted_homes:
                continue
            cases = [case for case in home.cases
                     if (not wanted_categories or wanted_categories & {label.casefold() for label in case.labels})
                     and (not wanted_difficulties or case.difficulty in wanted_difficulties)]  # fmt: skip
            if limit is not None and len(cases) > limit:
                cases = [cases[index * len(cases) // limit] for index in range(limit)]
            if cases:
                chosen.append(replace(home, cases=tuple(cases)))
        return replace(self, homes=tuple(chosen))


# --- reading a set --------------------------------------------------------------------------------
def load_set(path: str | Path | None = None) -> EvalSet:
    """A set from a folder of homes (with or without dataset_card.yaml), one home's folder, or
    (None) the set shipped with ha-agent."""
    root = Path(path) if path is not None else SHIPPED
    if not root.exists():
        raise EvalSetError(f"{root}: no such folder")
    if root.is_file():
        root = root.parent
    card = _read_card(root / CARD_FILE)
    fixture_files = sorted(root.rglob(FIXTURE_FILE))
    if not fixture_files:
        raise EvalSetError(f"{root}: no home in it (a home is a folder holding {FIXTURE_FILE})")
    language = _optional_text(card.get("language"))
    homes, problems = [], []
    for fixture_file in fixture_files:
        folder = fixture_file.parent
        name = folder.relative_to(root).as_posix() if folder != root else folder.name
        homes.append(_read_home(folder, name, problems, language))
    if problems:  # all of them at once: a set is fixed in one go, not one typo per run
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise EvalSetError("the set has entities its homes do not list:\n  " + "\n  ".join(shown))
    count = card.get("count") or 1
    if not isinstance(count, int) or count < 1:
        raise EvalSetError(f"{root / CARD_FILE}: count must be a whole number ≥ 1, not {count!r}")
    return EvalSet(name=str(card.get("name") or root.name), description=str(card.get("description") or ""),
                   count=count, path=root, homes=tuple(homes), language=language)  # fmt: skip


def _read_card(file: Path) -> dict[str, Any]:
    if not file.exists():
        return {}
    card = _yaml(file)
    if not isinstance(card, Mapping):
        raise EvalSetError(f"{file}: a dataset card is a mapping (name, description, count)")
    return dict(card)


def _yaml(file: Path) -> Any:
    try:
        return yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as err:
        raise EvalSetError(f"{file}: not valid YAML: {err}") from None


def _read_home(folder: Path, name: str, problems: list[str], language: str | None) -> HomeTasks:
    try:
        fixture = _with_configs_in_attributes(read_fixture(folder))
    except FixtureError as err:
        raise EvalSetError(str(err)) from None
    known = {str(entity["id"]) for entity in fixture.entities}
    cases: list[Case] = []
    for file in sorted(folder.glob("*.yaml")):
        if file.name in _NOT_TASKS or file.name.startswith("_"):
            continue
        cases += read_tasks(file, home=name, known=known, problems=problems)
    return HomeTasks(name, folder, fixture, tuple(cases), _optional_text(fixture.language) or language)


def _with_configs_in_attributes(fixture: HomeFixture) -> HomeFixture:
    """The fixture with each scene's and script's configuration keys written beside its
    attributes moved among them (one written there already wins)."""
    entities = []
    for entity in fixture.entities:
        keys = _CONFIG_KEYS.get(str(entity["id"]).split(".", 1)[0], ())
        config = {key: entity[key] for key in keys if key in entity}
        if config:
            entity = {key: value for key, value in entity.items() if key not in config}
            entity["attributes"] = {**config, **(entity.get("attributes") or {})}
        entities.append(entity)
    return replace(fixture, entities=tuple(entities))


def read_tasks(file: Path, *, home: str, known: set[str] | None = None,
               problems: list[str] | None = None) -> list[Case]:  # fmt: skip
    """The cases of one task file. With `known` (the home's entity ids), a test naming another
    entity is added to `problems` (or refused, without a list): a typo found before the run."""
    data = _yaml(file)
    where = f"{file}"
    if not isinstance(data, Mapping):
        raise EvalSetError(f"{where}: a task file is a mapping with `category` and `tests`")
    category, labels, difficulty = _category(data.get("category"), file.stem)
    tests = data.get("tests") or []
    if not isinstance(tests, list):
        raise EvalSetError(f"{where}: `tests` must be a list")
    cases = []
    for number, test in enumerate(tests, 1):
        at = f"{where}, test {number}"
        if not isinstance(test, Mapping):
            raise EvalSetError(f"{at}: a test is a mapping with `sentences`")
        sentences = test.get("sentences")
        if isinstance(sentences, str):
            sentences = [sentences]
        if not sentences or not isinstance(sentences, list):
            raise EvalSetError(f"{at}: `sentences` must list at least one sentence")
        setup = _entity_map(test.get("setup"), "setup", at)
        expect = {
            entity_id.lower(): _expected(entity_id, value, at)
            for entity_id, value in _entity_map(test.get("expect_changes"), "expect_changes", at).items()
        }
        ignore = _ignored(test.get("ignore_changes"), at)
        response = _responses(test.get("expect_response"), at)
        previous = test.get("previous") or ()
        if isinstance(previous, str):
            previous = [previous]
        if known is not None:
            for key, ids in (("setup", setup), ("expect_changes", expect)):
                missing = sorted({eid.lower() for eid in ids} - known)
                if missing:
                    problem = f"{at}: {key} names {', '.join(missing)}, which the home does not list"
                    if problems is None:
                        raise EvalSetError(problem)
                    problems.append(problem)
        for index, sentence in enumerate(sentences, 1):
            if not isinstance(sentence, (str, int, float)) or not str(sentence).strip():
                raise EvalSetError(f"{at}: sentence {index} is empty")
            cases.append(Case(
                id=f"{home}/{file.stem}#{number}.{index}", home=home, file=file.name, category=category,
                labels=labels, difficulty=difficulty, sentence=_plain_sentence(str(sentence)), setup=setup,
                expect_changes=expect, ignore_changes=ignore, expect_response=response,
                area=_optional_text(test.get("area")), context_device=_optional_text(test.get("context_device")),
                previous=tuple(_plain_sentence(str(p)) for p in previous),
                context_now=_moment(test.get("context_now"), at)))  # fmt: skip
    return cases


def _category(value: Any, fallback: str) -> tuple[str, tuple[str, ...], str]:
    """(the category, every label but the difficulty, the difficulty)."""
    labels = [str(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]
    difficulty = next((label for label in labels if label in DIFFICULTIES), UNMARKED)
    rest = tuple(label for label in labels if label not in DIFFICULTIES) or (fallback,)
    return rest[0], rest, difficulty


def _entity_map(value: Any, key: str, at: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EvalSetError(f"{at}: `{key}` must map entity ids to states")
    return {str(entity_id): change for entity_id, change in value.items()}


def _expected(entity_id: str, value: Any, at: str) -> Expected:
    """An entity's expected state, flat or HA-shaped; a bare value is the state."""
    domain = entity_id.split(".", 1)[0]
    if value is None:
        return Expected()
    if not isinstance(value, Mapping):
        return Expected(state_text(domain, value))
    flat = {k: v for k, v in value.items() if k not in ("state", "attributes")}
    nested = value.get("attributes") or {}
    if not isinstance(nested, Mapping):
        raise EvalSetError(f"{at}: expect_changes of {entity_id}: `attributes` must be a mapping")
    state = value.get("state")
    return Expected(None if state is None else state_text(domain, state),
                    {str(k): enum_value(v) for k, v in {**flat, **nested}.items()})  # fmt: skip


def _ignored(value: Any, at: str) -> dict[str, frozenset[str]]:
    if value is None:
        return {}
    if isinstance(value, list):  # whole entities
        return {str(entity_id).lower(): frozenset({ALL}) for entity_id in value}
    if not isinstance(value, Mapping):
        raise EvalSetError(f"{at}: `ignore_changes` must map entity ids to the keys not judged")
    ignored = {}
    for entity_id, keys in value.items():
        if keys is None or keys == ALL:
            names = frozenset({ALL})
        elif isinstance(keys, str):
            names = frozenset({keys})
        elif isinstance(keys, Mapping):
            names = frozenset(str(k) for k in keys)
        elif isinstance(keys, list):
            names = frozenset(str(k) for k in keys)
        else:
            raise EvalSetError(f"{at}: ignore_changes of {entity_id} must be a list of keys")
        ignored[str(entity_id).lower()] = names
    return ignored


def _responses(value: Any, at: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    # YAML 1.1 reads an unquoted yes/no as a boolean: the text written was meant.
    texts = tuple(("yes" if item else "no") if isinstance(item, bool) else str(item) for item in items
                  if item is not None and str(item).strip())  # fmt: skip
    if not texts:
        raise EvalSetError(f"{at}: expect_response lists no text")
    return texts


def _plain_sentence(sentence: str) -> str:
    """A sentence written as a hassil template in its plain form; any other taken literally."""
    return plain_name(sentence) if _TEMPLATE.search(sentence) else " ".join(sentence.split())


def _optional_text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _moment(value: Any, at: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise EvalSetError(
            f"{at}: context_now {value!r} is not a date and time (such as 2025-04-02 08:30+10:00)"
        ) from None
