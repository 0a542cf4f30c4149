"""Progress on stderr: silent for quick work, shown for anything past a couple of seconds,
as lines where stderr is a log or a pipe and as one redrawn line on a terminal."""

from __future__ import annotations

import io
import re
import shutil

from click.testing import CliRunner

from scorehost.core import cli
from scorehost.core.progress import Progress

from ..conftest import CHORALE, corpus_path


def _edit(host, monkeypatch, tmp_path, model: str, *options: str):
    monkeypatch.setattr(cli, "_host", host)
    source = tmp_path / "chorale.mxl"
    shutil.copy(corpus_path(CHORALE), source)
    args = [
        "edit",
        str(source),
        "-o",
        str(tmp_path / "out.json"),
        "-m",
        model,
        "-r",
        "alto:2",
        "--device",
        "cpu",
    ]
    for option in options:
        args += ["--option", option]
    return CliRunner().invoke(cli.cli, args)


def test_an_edit_past_two_seconds_reports_its_progress_on_stderr(host, monkeypatch, tmp_path):
    result = _edit(host, monkeypatch, tmp_path, "slow", "seconds=5")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("slow: ")]
    percents = [int(re.match(r"slow: (\d+)%, \d+ s", line).group(1)) for line in lines]
    assert len(percents) >= 3 and percents == sorted(percents) and percents[0] < percents[-1]
    assert "wrote" in result.stdout and "slow:" not in result.stdout  # stdout stays the result


def test_a_quick_edit_shows_no_progress(host, monkeypatch, tmp_path):
    result = _edit(host, monkeypatch, tmp_path, "echo")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_line_redrawn_and_a_log_a_line_per_tenth():
    clock = _Clock()
    terminal, log = _Terminal(), io.StringIO()
    shown = [Progress("eval", total=40, unit="chorales", stream=s, clock=clock) for s in (terminal, log)]
    for step in range(41):
        clock.now = step * 0.5
        for progress in shown:
            progress.update(step)
    for progress in shown:
        progress.close()
    assert "\n" not in terminal.getvalue() and terminal.getvalue().endswith("\r\x1b[K")
    assert "eval: 40/40 chorales, 20 s" in terminal.getvalue()
    lines = log.getvalue().splitlines()
    assert lines[0] == "eval: 4/40 chorales, 2 s"  # nothing in the first two seconds
    assert lines[-1] == "eval: 40/40 chorales, 20 s" and len(lines) == 10  # one per tenth


def test_following_a_job_ends_when_the_job_does_not_at_the_next_poll(host, chorale):
    """No fixed poll lag (#12): follow_job returns as the job ends, however long its poll."""
    import threading
    import time

    from scorehost.core.engine import Engine
    from scorehost.core.progress import follow_job
    from scorehost.core.requests import EditRequest, Region

    engine = Engine(host, device="cpu")
    request = EditRequest(
        model="slow", score=chorale, regions=[Region(track=1, start=480, end=2400)], options={"seconds": 0.3}
    )
    job = engine.submit(request)
    ended_at: list[float] = []
    job.on_change(lambda j: j.done and ended_at.append(time.monotonic()))
    follower = threading.Thread(target=follow_job, args=(job, io.StringIO()), kwargs={"poll": 5.0})
    follower.start()
    follower.join(10)
    returned = time.monotonic()
    engine.shutdown()
    assert job.wait(0).variations and ended_at
    assert returned - ended_at[0] < 0.1, returned - ended_at[0]
