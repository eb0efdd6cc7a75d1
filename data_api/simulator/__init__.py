"""A simulated Home Assistant 2025.4.4: generated homes served over HA's WebSocket and REST APIs.

    home = generate_home("medium", seed=7)
    async with SimulatedHA(home) as sim:
        ...  # sim.url, sim.token; faults: sim.latency, sim.hang_commands, sim.drop_connections()
"""

from .home import SimHome, generate_home
from .protocol import HA_VERSION
from .server import SimulatedHA, serve_forever

__all__ = ["HA_VERSION", "SimHome", "SimulatedHA", "generate_home", "serve_forever"]
