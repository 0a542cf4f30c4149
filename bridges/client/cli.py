"""`scorehost client`: talk to a running `scorehost serve` over OSC (default) or HTTP.

For any DAW that can run a command: list models, edit a file, follow a job, cancel it.
Over OSC the server reads and writes the files itself, so they must lie in its --allow-dir
folders; over HTTP the client reads the score, sends it, and writes the result itself.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from scorehost.core.cli import edit_request_options
from scorehost.core.errors import RequestError, ScorehostError

DEFAULT_PORTS = {"osc": 9100, "http": 8765}
# A running server answers a ping at once: a client that hears nothing for this long says
# what to start instead of waiting out --timeout.
PING_SECONDS = 2.0


class ClientError(ScorehostError):
    code = "client"


@click.group()
@click.option("--via", type=click.Choice(["osc", "http"]), default="osc", show_default=True, help="Protocol.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Server address.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Server port [osc: 9100, http: 8765]."
)
@click.option("--token", envvar="SCOREHOST_TOKEN", default=None, help="The server's token, if it has one.")
@click.option(
    "--timeout", type=click.FloatRange(0.1, 3600), default=300.0, show_default=True, help="Seconds to wait."
)
@click.pass_context
def client(
    ctx: click.Context, via: str, host: str, port: int | None, token: str | None, timeout: float
) -> None:
    """Talk to a running scorehost server (scorehost serve) over OSC or HTTP."""
    ctx.obj = {
        "via": via,
        "host": host,
        "port": port or DEFAULT_PORTS[via],
        "token": token,
        "timeout": timeout,
    }


@client.command()
@click.pass_obj
def ping(conf: dict) -> None:
    """Check that the server answers, and how fast."""
    started = time.perf_counter()
    if conf["via"] == "osc":
        with _osc(conf, probe=False) as osc:
            version, models = _osc_ping(osc, conf)
    else:
        health = _http(conf, "GET", "/v1/health")
        version, models = health.get("status"), len(_http(conf, "GET", "/v1/models"))
    click.echo(
        f"scorehost {version} at {conf['host']}:{conf['port']} ({conf['via']}): {models} models, {(time.perf_counter() - started) * 1000:.1f} ms"
    )


@client.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def models(conf: dict, as_json: bool) -> None:
    """List the server's models."""
    if conf["via"] == "osc":
        found: list[dict[str, Any]] = []

        def collect(name: str, values: list) -> None:
            if name == "model":
                found.append(
                    {
                        "id": values[2],
                        "description": values[3],
                        "constraints": _csv(values[4]),
                        "options": _csv(values[5]),
                    }
                )

        with _osc(conf) as osc:
            _osc_call(osc, conf, "models", on_reply=collect)
    else:
        found = [
            {
                "id": m["id"],
                "description": m["description"],
                "constraints": m["capabilities"]["constraints"],
                "options": list(m["options_schema"].get("properties", {})),
            }
            for m in _http(conf, "GET", "/v1/models")
        ]
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for model in found:
        click.echo(f"{model['id']}: {model['description']}")
        click.echo(f"  constraints: {', '.join(model['constraints']) or 'none'}")
        click.echo(f"  options: {', '.join(model['options'])}")


@client.command()
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Result file (never overwritten).",
)
@edit_request_options
@click.pass_obj
def edit(
    conf: dict, input_path: Path, output: Path, model_id: str, regions, constraints, options, variations, seed
) -> None:
    """Rewrite regions of the score IN on the server and write the result to OUT."""
    if output.exists():
        raise RequestError(f"{output} exists; scorehost never writes over a file", "--output")
    extra = (
        list(options)
        + ([f"variations={variations}"] if variations else [])
        + ([f"seed={seed}"] if seed is not None else [])
    )
    if conf["via"] == "osc":
        args = [f"model={model_id}", f"in={input_path.resolve()}", f"out={output.resolve()}"]
        args += (
            [f"region={r}" for r in regions]
            + [f"constraint={c}" for c in constraints]
            + [f"option={o}" for o in extra]
        )
        with _osc(conf) as osc:
            values = _osc_call(osc, conf, "edit", *args, on_reply=_progress_printer(osc))
        click.echo(
            f"wrote {values[2]}" + (f" and {values[1] - 1} more variations" if values[1] > 1 else ""),
            err=False,
        )
        return
    for path in _http_edit(conf, input_path, output, model_id, regions, constraints, extra):
        click.echo(f"wrote {path}")


@client.command()
@click.argument("job_id")
@click.pass_obj
def status(conf: dict, job_id: str) -> None:
    """Show a job's status and progress."""
    if conf["via"] == "osc":
        with _osc(conf) as osc:
            _, fraction, state = _osc_call(osc, conf, "status", f"job={job_id}")
    else:
        summary = _http(conf, "GET", f"/v1/jobs/{job_id}")
        fraction, state = summary["progress"], summary["status"]
    click.echo(f"{job_id}: {state} {fraction * 100:.0f}%")


@client.command()
@click.argument("job_id")
@click.pass_obj
def cancel(conf: dict, job_id: str) -> None:
    """Cancel a job by its id."""
    if conf["via"] == "osc":
        with _osc(conf) as osc:
            _, state = _osc_call(osc, conf, "cancel", f"job={job_id}")
    else:
        state = _http(conf, "DELETE", f"/v1/jobs/{job_id}")["status"]
    click.echo(f"{job_id}: {state}")


@client.command("ableton-fill")
@click.option("-m", "--model", "model_id", required=True, help="Model id.")
@click.option(
    "--fill",
    "fills",
    multiple=True,
    required=True,
    help="TRACK:SLOT:BARS to fill, e.g. 1:0:3-4 (tracks and slots 0-based as in AbletonOSC, bars from 1).",
)
@click.option("--context", "contexts", multiple=True, help="TRACK:SLOT of a clip to send as context.")
@click.option(
    "--drums",
    "drum_tracks",
    type=click.IntRange(0),
    multiple=True,
    help="TRACK (0-based) that holds drums; tracks named like drums are drums anyway.",
)
@click.option("-O", "--option", "options", multiple=True, help="Model option KEY=VALUE.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None, help="Seed.")
@click.option("--live-host", default="127.0.0.1", show_default=True, help="Where Ableton (AbletonOSC) runs.")
@click.option("--live-port", type=int, default=11000, show_default=True, help="AbletonOSC's port.")
@click.option(
    "--live-reply-port", type=int, default=11001, show_default=True, help="Port AbletonOSC replies to."
)
@click.option("--live-timeout", type=float, default=5.0, show_default=True, help="Seconds to wait for Live.")
@click.pass_obj
def ableton_fill(
    conf: dict,
    model_id,
    fills,
    contexts,
    drum_tracks,
    options,
    seed,
    live_host,
    live_port,
    live_reply_port,
    live_timeout,
) -> None:
    """Fill bars of Ableton Live clips through AbletonOSC (scorehost over OSC).

    Reads the context clips and the clips to fill, asks scorehost, and replaces the notes of
    the filled bars. Clips of a scene are taken to start together at bar 1.
    """
    from .ableton import LiveOsc, fill, parse_clip, parse_fill

    if conf["via"] != "osc":
        raise RequestError("ableton-fill talks to scorehost over OSC; drop --via http", "--via")
    targets = [parse_fill(f) for f in fills]
    context = [parse_clip(c) for c in contexts]
    extra = list(options) + ([f"seed={seed}"] if seed is not None else [])
    live = LiveOsc(live_host, live_port, live_reply_port, live_timeout)
    try:
        with _osc(conf) as osc:
            from .osc import OscError

            try:
                counts = fill(
                    live,
                    osc,
                    model_id,
                    targets,
                    context,
                    extra,
                    conf["timeout"],
                    _progress_printer(osc),
                    drums=frozenset(drum_tracks),
                )
            except OscError as exc:
                raise ClientError(f"the server refused: {exc.message} ({exc.code})") from None
            except TimeoutError as exc:
                raise ClientError(f"{exc}; is `scorehost serve --bridge osc` running there?") from None
    finally:
        live.close()
    for target, count in counts.items():
        click.echo(
            f"track {target.track} slot {target.clip} bars {target.first_bar}-{target.last_bar}: {count} notes"
        )


@client.command("reaper-script")
@click.option(
    "--copy-to",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Copy the script into this folder (e.g. REAPER's Scripts folder); never over a file.",
)
def reaper_script(copy_to: Path | None) -> None:
    """Print where the REAPER script (scorehost_fill.py) is, or copy it somewhere.

    In REAPER: Actions > Show action list > New action > Load ReaScript..., then pick it.
    """
    import shutil

    from scorehost.bridges.daw.reaper import scorehost_fill

    source = Path(scorehost_fill.__file__)
    if copy_to is None:
        click.echo(source)
        return
    target = copy_to / source.name
    if target.exists():
        raise RequestError(f"{target} exists; scorehost never writes over a file", "--copy-to")
    shutil.copyfile(source, target)
    click.echo(f"copied to {target}")


# ---- OSC --------------------------------------------------------------------------------


def _osc(conf: dict, probe: bool = True):
    """A client for the server; with probe, a ping first, so that a missing server is reported
    within PING_SECONDS whatever --timeout says."""
    from .osc import OscClient

    osc = OscClient(conf["host"], conf["port"], conf["token"])
    if probe:
        try:
            _osc_ping(osc, conf)
        except BaseException:
            osc.close()
            raise
    return osc


def _osc_ping(osc, conf: dict) -> list:
    seconds = min(conf["timeout"], PING_SECONDS)
    try:
        return osc.call("ping", timeout=seconds)
    except ConnectionRefusedError as exc:
        raise ClientError(f"{exc}. {_what_to_start(conf)}") from None
    except TimeoutError:
        where = f"{conf['host']}:{conf['port']}"
        raise ClientError(
            f"no answer over OSC from {where} in {seconds:g} s: is a scorehost server with the OSC "
            f"bridge running there? {_what_to_start(conf)}"
        ) from None


def _what_to_start(conf: dict) -> str:
    """What to start when no OSC server answers; names the HTTP server there, if one runs."""
    http = {**conf, "port": DEFAULT_PORTS["http"], "timeout": 0.5}
    try:
        _http(http, "GET", "/v1/health")
    except ClientError:
        return "Start the server with `scorehost serve --bridge osc`"
    return (
        f"A scorehost server answers HTTP at {conf['host']}:{http['port']}, without the OSC bridge: "
        "restart it with `scorehost serve --bridge http --bridge osc`, or use `scorehost client --via http`"
    )


def _osc_call(osc, conf: dict, name: str, *args: Any, on_reply=None) -> list:
    from .osc import OscError

    try:
        return osc.call(name, *args, timeout=conf["timeout"], on_reply=on_reply)
    except OscError as exc:
        raise ClientError(f"the server refused: {exc.message} ({exc.code})") from None
    except ConnectionRefusedError as exc:
        raise ClientError(f"{exc}. {_what_to_start(conf)}") from None
    except TimeoutError as exc:
        raise ClientError(f"{exc}; is `scorehost serve --bridge osc` running there?") from None
    except KeyboardInterrupt:
        job = getattr(osc, "current_job", None)
        if job:
            osc.send("cancel", f"job={job}")
            click.echo(f"cancelled {job}", err=True)
        raise


def _progress_printer(osc):
    def show(name: str, values: list) -> None:
        if name == "accepted":
            osc.current_job = values[0]
            click.echo(f"job {values[0]}", err=True)
        elif name == "progress" and sys.stderr.isatty():
            click.echo(f"\r{values[1] * 100:5.1f}%", nl=False, err=True)
        elif name == "warning":
            click.echo(f"warning: {values[1]}", err=True)

    return show


# ---- HTTP -------------------------------------------------------------------------------


def _http(conf: dict, method: str, path: str, body: dict | None = None) -> Any:
    url = f"http://{conf['host']}:{conf['port']}{path}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    if conf["token"]:
        request.add_header("Authorization", f"Bearer {conf['token']}")
    try:
        with urllib.request.urlopen(request, timeout=conf["timeout"]) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read())["error"]
            message = f"{error['message']} ({error['code']})"
        except Exception:
            message = f"HTTP {exc.code}"
        raise ClientError(f"the server refused: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ClientError(
            f"cannot reach {url} ({getattr(exc, 'reason', exc)}); is `scorehost serve` running?"
        ) from None


def _http_edit(
    conf: dict, input_path: Path, output: Path, model_id: str, regions, constraints, options
) -> list[Path]:
    """Read the score here, send it as score-JSON, poll the job, write the result here."""
    from scorehost.core.cli import check_output, write_variations
    from scorehost.core.cliparse import build_request, parse_option
    from scorehost.core.requests import EditResult
    from scorehost.core.scoreio import read_score

    check_output(input_path, output, False)
    score = read_score(input_path)
    request = build_request(model_id, score, regions, constraints, dict(parse_option(o) for o in options))
    body = request.model_dump(include={"model", "score", "regions", "constraints", "options"})
    job = _http(conf, "POST", "/v1/jobs", body)
    click.echo(f"job {job['id']}", err=True)
    deadline = time.monotonic() + conf["timeout"]
    try:
        while job["status"] in ("queued", "running"):
            if time.monotonic() > deadline:
                _http(conf, "DELETE", f"/v1/jobs/{job['id']}")
                raise ClientError(f"job {job['id']} took longer than {conf['timeout']:g} s; cancelled it")
            time.sleep(0.05)
            job = _http(conf, "GET", f"/v1/jobs/{job['id']}")
    except KeyboardInterrupt:
        _http(conf, "DELETE", f"/v1/jobs/{job['id']}")
        click.echo(f"cancelled {job['id']}", err=True)
        raise
    if job["status"] != "done":
        error = job.get("error") or {}
        raise ClientError(f"job {job['id']} {job['status']}: {error.get('message', '')}")
    result = EditResult.model_validate(_http(conf, "GET", f"/v1/jobs/{job['id']}/result"))
    return write_variations(result, output, False)


def _csv(text: str) -> list[str]:
    return [t for t in str(text).split(",") if t]
