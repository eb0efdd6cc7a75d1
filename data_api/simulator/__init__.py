"""A simulated Home Assistant 2025.4.4: generated homes and evaluation homes served over HA's
WebSocket and REST APIs.

    home = generate_home("medium", seed=7)              # or load_home("tests/eval/flat")
    async with SimulatedHA(home) as sim:
        ...  # sim.url, sim.token; faults: sim.latency, sim.hang_commands, sim.drop_connections()
"""

from .distractors import add_distractors
from .evalhome import EvalHome
from .fixture_states import FixtureError
from .fixtures import HomeFixture, load_home, parse_fixture, read_fixture
from .home import SimHome, generate_home
from .protocol import HA_VERSION
from .server import SimulatedHA, serve_forever

__all__ = [
    "HA_VERSION",
    "EvalHome",
    "FixtureError",
    "HomeFixture",
    "SimHome",
    "SimulatedHA",
    "add_distractors",
    "generate_home",
    "load_home",
    "parse_fixture",
    "read_fixture",
    "serve_forever",
]
