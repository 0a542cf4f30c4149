"""How the OSC bridge handles a request: the address it names, the token, its arguments, and
for an edit the EditRequest it becomes. Every request gets exactly one final reply (see
docs/osc.md); anything malformed gets an error reply, never silence.

Decoding and handling run in a small pool of threads, fed by the transport's receiving
threads, so a burst is queued in memory rather than dropped by the kernel.
"""

from __future__ import annotations

import hmac
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import ValidationError

from scorehost.core.bridge import LiveFill
from scorehost.core.cliparse import build_request
from scorehost.core.engine import Engine, Job
from scorehost.core.errors import RequestError, ScorehostError, pydantic_message
from scorehost.core.host import scorehost_version
from scorehost.core.paths import PathPolicy
from scorehost.core.scoreio import read_score
from scorehost.core.settings import Settings

from . import protocol as p
from .delivery import ResultDelivery
from .transport import Peer, Replier

log = logging.getLogger("scorehost.osc")

MAX_PENDING = 4096  # requests read but not yet handled; more are answered 'busy' at once
_EDIT_KEYS = {
    "model", "in", "out", "region", "r", "constraint", "c", "option", "o", "unit", "meter", "bpm",
    "key", "length", "notes", "reply", "token", "timeout",
}  # fmt: skip
_LIVE_FILL_KEYS = (_EDIT_KEYS - {"in", "unit", "meter", "bpm", "key", "length"}) | {"play", "unit"}
_PLAIN_KEYS = {  # requests without model options: any other key is an error
    p.PING: {"reply", "token"},
    p.MODELS: {"reply", "token"},
    p.STATUS: {"reply", "token", "job"},
    p.CANCEL: {"reply", "token", "job"},
    p.LIVE_CLEAR: {"reply", "token"},
    p.LIVE_STATUS: {"reply", "token"},
}
NOTES_MODES = ("none", "regions", "all")


class OscService:
    """Answers decoded OSC messages; independent of the transport."""

    def __init__(self, engine: Engine, settings: Settings, pool: ThreadPoolExecutor):
        self.engine, self.settings, self.pool = engine, settings, pool
        self.paths = PathPolicy(settings.allowed_dirs)
        self.delivery = ResultDelivery(self.paths, pool)
        self._pending = 0
        self._lock = threading.Lock()

    # Called by the receiving threads: must be quick.
    def receive(self, data: bytes, peer: Peer) -> None:
        try:
            messages = p.decode(data)
        except ValueError as exc:
            Replier(peer, "").error("malformed", str(exc))
            return
        if not messages:
            Replier(peer, "").error("malformed", "an empty bundle")
        for addr, args in messages:
            with self._lock:
                busy = self._pending >= MAX_PENDING
                if not busy:
                    self._pending += 1
            if busy:
                self._replier(peer, args).error("busy", "too many requests waiting; try again shortly")
                continue
            try:
                self.pool.submit(self._handle_counted, addr, args, peer)
            except RuntimeError:  # the pool is shutting down
                with self._lock:
                    self._pending -= 1
                self._replier(peer, args).error("busy", "the server is shutting down")

    def _replier(self, peer, args: list[Any]) -> Replier:
        port = p.reply_port(args)
        return Replier(peer.redirected(port) if port else peer, p.leading_tag(args))

    def _handle_counted(self, addr: str, args: list[Any], peer) -> None:
        try:
            self.handle(addr, args, peer)
        finally:
            with self._lock:
                self._pending -= 1

    def handle(self, addr: str, args: list[Any], peer) -> None:
        reply = self._replier(peer, args)
        try:
            name = addr[len(p.PREFIX) + 1 :] if addr.startswith(p.PREFIX + "/") else None
            if name not in p.REQUESTS:
                known = ", ".join(p.address(n) for n in p.REQUESTS)
                raise _Error(
                    "unknown_address", f"no such address {p.clip(addr, 100)!r}; scorehost answers {known}"
                )
            parsed = p.read_arguments(args)
            if name != p.PING:
                self._authorize(parsed)
            allowed = _PLAIN_KEYS.get(name)
            if allowed is not None:
                unknown = sorted(parsed.keys() - allowed) + (["track="] if parsed.tracks else [])
                if unknown:
                    keys = ", ".join(f"{k}=" for k in sorted(allowed))
                    raise RequestError(
                        f"{p.address(name)} takes only {keys}; not {unknown[0].rstrip('=')}=",
                        unknown[0].rstrip("="),
                    )
            getattr(self, "_" + name.replace("/", "_"))(parsed, reply)
        except ScorehostError as exc:
            reply.error(getattr(exc, "code", "error"), str(exc), getattr(exc, "job_id", ""))
        except ValidationError as exc:
            reply.error("bad_request", pydantic_message(exc))
        except Exception as exc:  # a bug must cost one reply, not the server
            log.exception("OSC request %s failed", addr)
            reply.error("internal", f"internal error: {type(exc).__name__}: {exc}")

    def _authorize(self, args: p.Arguments) -> None:
        token = self.settings.token
        if token and not hmac.compare_digest((args.get("token") or "").encode(), token.encode()):
            raise _Error("unauthorized", "missing or wrong token: add the argument token=TOKEN")

    # ---- requests -----------------------------------------------------------------------

    def _ping(self, args: p.Arguments, reply: Replier) -> None:
        reply.send("pong", scorehost_version(), len(self.engine.host.models()))

    def _models(self, args: p.Arguments, reply: Replier) -> None:
        infos = [m.info() for m in self.engine.host.models().values()]
        for index, info in enumerate(infos):
            reply.send(
                "model",
                index,
                len(infos),
                info["id"],
                p.clip(info["description"], 500),
                ",".join(info["capabilities"]["constraints"]),
                ",".join(info["options_schema"].get("properties", {})),
            )
        reply.send("models/end", len(infos))

    def _status(self, args: p.Arguments, reply: Replier) -> None:
        job = self._job(args)
        reply.send("progress", job.id, float(job.fraction), str(job.status))

    def _cancel(self, args: p.Arguments, reply: Replier) -> None:
        job = self._job(args)
        job.cancel()
        reply.send("cancelled", job.id, str(job.status))

    def _job(self, args: p.Arguments) -> Job:
        job_id = args.get("job")
        if not job_id:
            raise RequestError("name the job: job=ID (the id of the accepted reply)", "job")
        job = self.engine.get(job_id)
        if job is None:
            raise _Error(
                "unknown_job", f"no job {p.clip(job_id, 64)} (the server keeps only its latest finished jobs)"
            )
        return job

    def _edit(self, args: p.Arguments, reply: Replier) -> None:
        unit = p.read_unit(args)
        model = args.get("model")
        if not model:
            raise RequestError("name the model: model=ID (see /scorehost/models)", "model")
        if args.get("in") is not None and args.tracks:
            raise RequestError("give the score once: in=PATH or track=NAME note lists, not both", "in")
        if args.get("in") is not None:
            source = self.paths.readable(args.get("in") or "", "in")
            score = read_score(
                source, max_bytes=self.settings.max_body_bytes, max_notes=self.settings.max_notes
            )
        elif args.tracks:
            source, score = None, p.inline_score(args, unit)
        else:
            raise RequestError("no score: give in=PATH, or track=NAME followed by notes", "in")
        specs = args.all("region", "r")
        if not specs:
            raise RequestError("give at least one region=TRACKS:BARS, e.g. region=alto,tenor:3-4", "region")
        constraints = args.all("constraint", "c")
        request = build_request(model, score, specs, constraints, read_options(args), _timeout(args))
        notes = _notes_mode(args, "none" if source else "regions")
        outputs = self.delivery.outputs(args.get("out"), source, request.options.get("variations", 1), notes)
        try:
            job = self.engine.submit(request)
        except BaseException:
            self.delivery.release(outputs)
            raise
        self.delivery.follow(job, reply, request, outputs, notes, unit)

    def _live_fill(self, args: p.Arguments, reply: Replier) -> None:
        live = self._live()
        specs = args.all("region", "r") or ([live.default_region] if live.default_region else [])
        if not specs:
            raise RequestError("give the bars to fill: region=ch2:5-8", "region")
        unit = p.read_unit(args)
        notes = _notes_mode(args, "regions")
        out = self.delivery.outputs(args.get("out"), None, 1, notes)
        try:
            job, request = live.fill(
                specs,
                model=args.get("model"),
                constraints=args.all("constraint", "c"),
                options=read_options(args, _LIVE_FILL_KEYS),
                timeout=_timeout(args),
                play=(args.get("play") or "1").lower() not in ("0", "no", "false", "off"),
            )
        except BaseException:
            self.delivery.release(out)
            raise
        self.delivery.follow(job, reply, request, out, notes, unit)

    def _live_clear(self, args: p.Arguments, reply: Replier) -> None:
        self._live().clear()
        reply.send("live/cleared")

    def _live_status(self, args: p.Arguments, reply: Replier) -> None:
        state = self._live().state()
        reply.send(
            "live/state",
            int(state["playing"]),
            int(state["position"]),
            state["notes"],
            state["bpm"],
            state["tracks"],
        )

    def _live(self) -> LiveFill:
        """The running bridge that records and fills live (the MIDI bridge), found by what it
        offers: the OSC bridge knows no other bridge by name."""
        offering = self.engine.host.bridges_offering(LiveFill)
        running = [bridge for bridge in offering if bridge.running]
        if not running:
            flags = " or ".join(f"--bridge {bridge.name}" for bridge in offering) or "a live bridge"
            raise _Error("not_running", f"the live MIDI bridge is not running; start serve with {flags}")
        return running[0]


class _Error(ScorehostError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def read_options(args: p.Arguments, reserved: set[str] = _EDIT_KEYS) -> dict[str, Any]:
    """Model options: option=KEY=VALUE, or any KEY=VALUE that is not a key of the request (the
    model's options then refuse an unknown one: nothing is silently ignored). A value is read
    as JSON when it can be; one that holds NaN or an infinity, or nests too deep, is refused
    naming the option (core.cliparse.parse_option, as on the command line)."""
    options: dict[str, Any] = {}
    for key, value in args.pairs:
        if key in ("option", "o"):
            name, parsed = _option(value)
        elif key not in reserved:
            name, parsed = _option(f"{key}={value}")
        else:
            continue
        options[name] = parsed
    return options


def _option(pair: str) -> tuple[str, Any]:
    from scorehost.core.cliparse import parse_option

    return parse_option(pair, field="option")


def _timeout(args: p.Arguments) -> float | None:
    text = args.get("timeout")
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise RequestError(f"{text!r} is not a number of seconds", "timeout") from None
    if not 0 < value <= 3600:
        raise RequestError("must be in 0..3600 seconds", "timeout")
    return value


def _notes_mode(args: p.Arguments, default: str) -> str:
    mode = (args.get("notes") or default).lower()
    if mode not in NOTES_MODES:
        raise RequestError(f"notes must be one of {', '.join(NOTES_MODES)}, not {mode!r}", "notes")
    return mode
