"""A real `scorehost serve` process on free ports, for the end-to-end tests of the bridges."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

SCOREHOST = (sys.executable, "-m", "scorehost.core")


class ServeProcess:
    """`scorehost serve` (or another command that runs scorehost) with the bridges named, each
    on a free port, and --allow-dir folder; its stderr is drained into lines (a full pipe would
    block the server) and shown when a test fails. `ports` maps each bridge to its port."""

    def __init__(self, folder: Path, bridges: tuple[str, ...] = ("osc", "http"),
                 command: tuple[str, ...] = SCOREHOST) -> None:  # fmt: skip
        self.folder = folder
        self.lines: list[str] = []
        args = [*command, "serve", "--allow-dir", str(folder), "--device", "cpu"]
        for bridge in bridges:
            args += ["--bridge", bridge, f"--{bridge}-port", "0"]
        self.proc = subprocess.Popen(
            args, stderr=subprocess.PIPE, text=True, env={**os.environ, "SCOREHOST_PLUGINS": ""}
        )
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        if not ready.wait(120) or self.proc.poll() is not None:
            self.stop()
            raise AssertionError(f"scorehost serve did not start: {self.lines}")
        found = re.findall(r"(\w+) bridge listening on \w+://127\.0\.0\.1:(\d+)", "\n".join(self.lines))
        self.ports = {name: int(port) for name, port in found}

    def _read(self, ready: threading.Event) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())
            if "scorehost: serving" in line:
                ready.set()
        ready.set()  # the process ended: let the constructor see it

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)
