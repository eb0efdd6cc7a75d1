"""`ha-agent demo` as a person runs it: a subprocess, nothing configured, a chat that turns a
light on, then Ctrl+C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx


def test_demo_serves_the_simulated_home_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HA_", "DATABASE_URL", "API_KEYS", "LLM_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ha_agent.cli", "demo", "--port", "0"],
        cwd=tmp_path,  # no .env, no config/: the defaults alone must do
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 60
        lines = []
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"serving home 'default' at (http://127\.0\.0\.1:\d+)/api/v1", line)
            url = found.group(1) if found else None
        assert url, "demo never said where it serves:\n" + "".join(lines)
        for _ in range(100):  # the first sync finishes right after the server starts
            body = httpx.get(f"{url}/api/v1/entities", params={"domain": "light"}, timeout=5).json()
            if not body["stale"]:
                break
            time.sleep(0.05)
        assert body["items"] and body["stale"] is False
        assert httpx.get(f"{url}/health", timeout=5).json()["status"] == "ok"
        off = next(e for e in body["items"] if e["exposed"] and e["state"] == "off")
        reply = httpx.post(f"{url}/api/v1/chat", json={"message": f"turn on the {off['name']}"}, timeout=30)
        assert reply.status_code == 200, reply.text
        assert reply.json()["path"] == "local"
        light = httpx.get(f"{url}/api/v1/entities/{off['entity_id']}", timeout=5).json()["item"]
        assert light["state"] == "on"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
