"""The scorehost command line: plugins, models, edit, and the train/eval groups plugins extend."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from .cliparse import build_request, parse_option
from .errors import RequestError, ScorehostError
from .host import Host
from .newplugin import new_plugin
from .paths import free_names
from .progress import follow_job
from .requests import EditRequest, EditResult
from .scoreio import SUFFIXES, read_score, write_score

_host: Host | None = None


def get_host() -> Host:
    global _host
    if _host is None:
        _host = Host()
    return _host


@click.group()
@click.version_option(package_name="scorehost")
@click.option("--debug", is_flag=True, envvar="SCOREHOST_DEBUG", help="Show tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """scorehost: serve symbolic-music models to score editors and DAWs.

    Every model answers one operation: rewrite these regions of a score, keep
    everything else, obey these constraints.
    """
    ctx.obj = {"debug": debug}
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List the loaded plugins with their versions and hooks."""
    listed = get_host().plugins()
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    for plugin in listed:
        if "error" in plugin:
            click.echo(f"{plugin['name']}  FAILED TO LOAD: {plugin['error']}")
        else:
            click.echo(f"{plugin['name']} {plugin['version']}  hooks: {', '.join(plugin['hooks'])}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON, with each model's options schema.")
def models(as_json: bool) -> None:
    """List the registered models, what they honour, and their options."""
    infos = [m.info() for m in get_host().models().values()]
    if as_json:
        click.echo(json.dumps(infos, indent=2))
        return
    if not infos:
        click.echo("no models registered (see: scorehost plugins)")
    for info in infos:
        options = ", ".join(info["options_schema"].get("properties", {}))
        click.echo(f"{info['id']}: {info['description']}")
        _echo_constraints(info["capabilities"]["constraints"])
        click.echo(f"  options: {options}")
        click.echo(
            f"  runs on: {'accelerator when present, else CPU' if info['uses_accelerator'] else 'CPU'}"
        )


def _echo_constraints(names: list[str]) -> None:
    """Each honoured constraint by its JSON type name beside the short form --constraint takes."""
    from .constraints import TYPES

    if not names:
        click.echo("  constraints: none")
        return
    click.echo("  constraints (JSON type, then --constraint short form):")
    width = max(len(n) for n in names)
    for name in names:
        usage = TYPES[name].short_usage if name in TYPES else ""
        click.echo(f"    {name.ljust(width)}  {usage or '(JSON only)'}")


def edit_request_options(command):
    """The options that state an edit (model, regions, constraints, options, variations,
    seed), shared by `scorehost edit` and clients that send an edit to a server."""
    options = [
        click.option("-m", "--model", "model_id", required=True, help="Model id (see: scorehost models)."),
        click.option(
            "-r",
            "--region",
            "regions",
            multiple=True,
            required=True,
            help="TRACKS[:SPAN], e.g. alto,tenor,bass  or  alto:3  or  bass:2-4  or  1:t960-1920. Tracks by name, role or number (numbers count from 0, from the top); bars as printed (a pickup is bar 0). A role the score lacks (soprano, alto, tenor, bass, melody, bassline, chords, drums) is added as an empty track; drums as a drum track.",
        ),
        click.option(
            "-c",
            "--constraint",
            "constraints",
            multiple=True,
            help="JSON object, or short form: range:TRACK:LOW-HIGH, key:D-minor, pitch-classes:0,2,4, keep-rhythm[:TRACKS], pin:TRACK:TICK:PITCH, density:TRACK:N, polyphony:TRACK:N, instrument:TRACK:PROGRAM, theme:BARS[:TRACK].",
        ),
        click.option(
            "-O",
            "--option",
            "options",
            multiple=True,
            help="Model option KEY=VALUE (see: scorehost models --json).",
        ),
        click.option(
            "-n",
            "--variations",
            type=click.IntRange(1, 16),
            default=None,
            help="Number of variations; several are written as OUT-1, OUT-2, ...",
        ),
        click.option(
            "--seed", type=click.IntRange(0, 2**32 - 1), default=None, help="Seed for reproducible results."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command()
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Result file; its extension picks the format ({', '.join(SUFFIXES)}).",
)
@edit_request_options
@click.option("--device", default=None, help="auto (default), cpu, cuda or cuda:N.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 3600),
    default=300.0,
    show_default=True,
    help="Seconds before the job is stopped.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists (never the input file).")
def edit(
    input_path: Path,
    output: Path,
    model_id: str,
    regions,
    constraints,
    options,
    variations,
    seed,
    device,
    timeout,
    overwrite,
) -> None:
    """Rewrite regions of the score IN with a model and write the result to OUT."""
    check_output(input_path, output, overwrite)
    score = read_score(input_path)
    request = build_request(
        model_id, score, regions, constraints, _options(options, variations, seed), timeout
    )
    result = _run(request, device)
    for path in write_variations(result, output, overwrite):
        click.echo(f"wrote {path}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@cli.command()
@click.option("-m", "--model", "model_id", default="deepbach", show_default=True, help="Model to run.")
@click.option("--piece", default="bach/bwv66.6", show_default=True, help="A piece of music21's corpus.")
@click.option("--device", default=None, help="auto (default), cpu, cuda or cuda:N.")
def demo(model_id: str, piece: str, device: str | None) -> None:
    """The main job on defaults: harmonize the soprano of a Bach chorale from music21's corpus.

    Writes scorehost-demo.musicxml (or -2, -3, ... if taken) in the current folder, and says
    where.
    """
    from music21 import corpus

    try:
        score = read_score(Path(corpus.getWork(piece)))
    except Exception as exc:
        raise RequestError(f"no corpus piece {piece!r} ({exc})", "--piece") from None
    voices = [t.role for t in score.tracks]
    roles = [role for role in ("alto", "tenor", "bass") if role in voices]
    request = build_request(model_id, score, roles, options={"seed": 1}, add_roles=False)
    started = time.perf_counter()
    result = _run(request, device)
    (output,) = free_names(Path("."), "scorehost-demo", ".musicxml")
    write_score(result.variations[0].score, output)
    variation = result.variations[0]
    click.echo(
        f"{model_id} harmonized the soprano of {piece} ({len(score.bars())} bars) in {time.perf_counter() - started:.1f} s"
    )
    log_prob = "n/a" if variation.log_prob is None else f"{variation.log_prob:.1f}"
    click.echo(f"log-probability {log_prob}, seed {variation.seed}; wrote {output.resolve()}")


def _run(request: EditRequest, device: str | None) -> EditResult:
    from .engine import Engine

    engine = Engine(get_host(), device=device)  # the device is chosen after the request's check
    try:
        job = engine.submit(request)
        follow_job(job)  # on stderr, once it runs past a couple of seconds; a bar only on a terminal
        return job.wait()
    finally:
        engine.shutdown()


def check_output(input_path: Path, output: Path, overwrite: bool) -> None:
    """Refuse an output that is the input (by any name) or, without --overwrite, exists."""
    if output.exists() and input_path.exists() and output.resolve() == input_path.resolve():
        raise RequestError("the output is the input file; scorehost never writes over its input", "--output")
    if output.suffix.lower() not in SUFFIXES:
        raise RequestError(
            f"unknown file type {output.suffix or '(none)'}; use one of {', '.join(SUFFIXES)}", "--output"
        )
    if output.exists() and not overwrite:
        raise RequestError(f"{output} exists; pick another name or pass --overwrite", "--output")


def _options(pairs, variations: int | None, seed: int | None) -> dict[str, Any]:
    options = dict(parse_option(p) for p in pairs)
    if variations is not None:
        options["variations"] = variations
    if seed is not None:
        options["seed"] = seed
    return options


def write_variations(result: EditResult, output: Path, overwrite: bool) -> list[Path]:
    """Write each variation of a result: OUT for one, OUT-1, OUT-2, ... for several (the
    command line and the client both write this way)."""
    if len(result.variations) == 1:
        targets = [output]
    else:
        targets = [
            output.with_name(f"{output.stem}-{i}{output.suffix}")
            for i in range(1, len(result.variations) + 1)
        ]
    written = []
    for target, variation in zip(targets, result.variations, strict=True):
        written.append(write_score(variation.score, target, overwrite=overwrite))
    return written


class _ServeCommand(click.Command):
    """serve, with a flag for every setting: the server's own and those each registered bridge
    declares (third-party bridges included), made when serve's help or arguments are read, so
    the other commands never register the bridges."""

    _made_for: Host | None = None  # the host whose bridges the flags are made from

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if self._made_for is not get_host():
            from .flags import options

            self._made_for = get_host()
            self.params = options(self._made_for.settings_class())
        return super().get_params(ctx)


@cli.command(cls=_ServeCommand)
def serve(**flags) -> None:
    """Start the engine and the bridges, until SIGINT or SIGTERM.

    On a signal, bridges stop taking requests, running jobs are cancelled, and the process
    exits. Every setting can also come from SCOREHOST_<NAME> or the --config file.
    """
    given = {k: list(v) if isinstance(v, tuple) else v for k, v in flags.items() if v not in (None, ())}
    settings = get_host().settings_class()(**given)
    settings.check_safe()
    available = get_host().bridges()
    unknown = [name for name in settings.bridges if name not in available]
    if unknown:
        raise RequestError(
            f"unknown bridge {unknown[0]!r} (available: {', '.join(sorted(available)) or 'none'})", "--bridge"
        )
    engine = _engine(settings)
    engine.device  # noqa: B018  (chosen now, so a bad --device fails before any bridge starts)
    stop = _stop_on_signal()
    started = []
    try:
        for name in settings.preload:
            engine.load(name)
            click.echo(f"scorehost: loaded {name} on {engine.describe(name)}", err=True)
        for name in settings.bridges:
            available[name].start(engine, settings)
            started.append(available[name])
            click.echo(f"scorehost: {name} bridge listening on {available[name].address()}", err=True)
        click.echo(
            f"scorehost: serving {len(get_host().models())} models on {engine.device}; Ctrl-C stops", err=True
        )
        while not stop.wait(0.5):
            pass
    finally:
        click.echo("scorehost: stopping", err=True)
        for bridge in reversed(started):
            bridge.stop()
        engine.shutdown(cancel=True)


def _engine(settings):
    """The engine `serve` runs: the local one, or the Ray engine (with its optional extra)."""
    from .engine import Engine
    from .threads import cpu_policy

    common = dict(
        queue_size=settings.queue_size,
        default_timeout=settings.timeout,
        max_notes=settings.max_notes,
        keep_seconds=settings.finished_jobs_seconds,
        keep_bytes=settings.finished_jobs_bytes,
        cpu=cpu_policy(
            settings.cpu_workers, settings.cpu_threads, settings.omp_wait_policy, settings.cpu_spread
        ),
    )
    if settings.engine == "local":
        return Engine(get_host(), device=settings.device, **common)
    try:
        from .rayengine import RayEngine
    except ImportError as exc:
        raise RequestError(
            f"--engine ray needs Ray Serve ({exc}): pip install 'scorehost[ray]'", "--engine"
        ) from exc
    return RayEngine(get_host(), settings, **common)


def _stop_on_signal():
    """An event set by SIGINT or SIGTERM; installed before anything starts, so a signal that
    comes while models load or bridges start still stops the server cleanly."""
    import signal
    import threading

    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    return stop


@cli.group()
def train() -> None:
    """Train a model's weights (each model plugin adds its own command)."""


@cli.group(name="eval")
def evaluate() -> None:
    """Evaluate a model on held-out data (each model plugin adds its own command)."""


cli.add_command(new_plugin)


def main() -> None:
    debug = os.environ.get("SCOREHOST_DEBUG") == "1" or "--debug" in sys.argv[1:3]
    try:
        get_host().pm.hook.register_commands(cli=cli)
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ScorehostError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (run with --debug for details)", err=True
        )
        sys.exit(1)
