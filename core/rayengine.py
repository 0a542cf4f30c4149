"""The Ray engine: the same Engine the bridges call, its models served by a Ray Serve cluster
(`scorehost serve --engine ray [--ray-address ADDRESS]`).

Requests are checked, queued, tracked and merged here exactly as in the local engine (so every
bridge and client keeps working); only where a batch runs changes. Instead of workers that
run models, this engine has dispatchers: threads that each hold one request's streaming call
to its model's deployment (core/rayreplica.py), turning its events into the job's progress
and outcome. Ray Serve routes the call to a replica and batches same-model requests there
through the plugin's inpaint_batch. One deployment per model, started on first use (or at
start with --preload); replica count, CPUs and GPUs per replica, batch size and wait are
settings (docs/settings.md).

- Cancellation and deadlines: a dispatcher sees a cancelled or overdue job at the next event
  (the replica sends one at least every 0.2 s) and cancels the call, which Ray Serve carries
  into the replica's job.
- Backpressure: beyond a deployment's `ray_max_queued` waiting requests Ray refuses the call;
  the job fails with the `busy` error ("try again shortly"), as a full local queue does.
- A replica that dies mid-request is replaced by Ray Serve; the request is sent once more
  (to a live replica), and if that fails too it ends with a clear error.

Ray is imported only here and in rayreplica.py: the embedded default never needs it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .engine import Engine, Job, Status, _status_of, _Worker, model_error
from .errors import JobCancelled, QueueFull, ScorehostError
from .host import Host
from .model import Model
from .settings import Settings

log = logging.getLogger(__name__)

NAMESPACE = "scorehost"


class ReplicaLost(Exception):
    """The replica serving a call went away (killed, crashed, its node lost)."""


class RayEngine(Engine):
    def __init__(self, host: Host, settings: Settings, **engine: Any) -> None:
        super().__init__(host, device=settings.device, **engine)
        self.settings = settings
        self._handles: dict[str, Any] = {}
        self._deployed: list[str] = []  # the applications this server started
        self._deploy_lock = threading.Lock()
        self._started_ray = False  # a local Ray instance this engine started
        self._joined = False  # this engine connected this process to Ray (and leaves it at shutdown)
        self._connect()

    # ---- the cluster ------------------------------------------------------------------------

    def _connect(self) -> None:
        address = self.settings.ray_address
        if address is not None:
            _use_token_auth()  # before Ray is imported: it reads RAY_AUTH_MODE then
        import ray
        from ray import serve

        if not ray.is_initialized():
            self._started_ray, self._joined = address is None, True
            try:
                ray.init(address=address, namespace=NAMESPACE, include_dashboard=False,
                         log_to_driver=False, logging_level=logging.WARNING)  # fmt: skip
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ScorehostError(
                    f"could not reach the Ray cluster at {address!r} ({exc}); start one with "
                    "'ray start --head', or leave --ray-address out to start one in this process "
                    "(a cluster with token authentication needs its token: RAY_AUTH_TOKEN, or "
                    "~/.ray/auth_token)"
                ) from exc
        serve.start(proxy_location="Disabled")  # requests come through scorehost's bridges

    @property
    def device(self) -> str:
        return "ray"

    def describe(self, model_id: str) -> str:
        replicas = self.settings.ray_replicas
        return f"Ray ({replicas} replica{'s' * (replicas > 1)})"

    def _handle(self, model: Model):
        """The model's deployment handle; deployed (and its replicas loaded) on first use."""
        from ray import serve

        from .rayreplica import deployment

        with self._deploy_lock:
            handle = self._handles.get(model.model_id)
            if handle is not None:
                return handle
            name = app_name(model)
            if _running(name):  # another scorehost server deployed this very model: share it
                handle = serve.get_app_handle(name)
                self._handles[model.model_id] = handle
                return handle
            s = self.settings
            app = deployment(
                model.model_id,
                replicas=s.ray_replicas,
                cpus=s.ray_cpus_per_replica,
                gpus=s.ray_gpus_per_replica,
                max_ongoing=_ongoing(model, s),
                max_queued=s.ray_max_queued,
            ).bind(model, s.device, s.cpu_threads or 1, _batch(model, s), s.ray_batch_wait)
            handle = _deploy(app, name, model.model_id, s.ray_start_timeout)
            self._handles[model.model_id] = handle
            self._deployed.append(name)
            return handle

    def load(self, model_id: str, device: str | None = None) -> Model:
        model = self.host.model(model_id)
        self._handle(model)
        return model

    def placements(self, model_id: str) -> list[dict]:
        """Where the model's replicas run: a call to each of them, as Ray routes it."""
        handle = self._handle(self.host.model(model_id))
        calls = [handle.placement.remote() for _ in range(4 * self.settings.ray_replicas)]
        return [c.result(timeout_s=30) for c in calls]

    def shutdown(self, cancel: bool = True, timeout: float = 10.0) -> None:
        super().shutdown(cancel, timeout)
        import ray
        from ray import serve

        if not self.settings.ray_keep_deployments:
            for name in self._deployed:  # the deployments this server started
                try:
                    serve.delete(name)
                except Exception:  # the cluster may be gone already
                    log.warning("could not delete the Ray application %s", name, exc_info=True)
        self._handles.clear()
        self._deployed.clear()
        if self._started_ray:
            serve.shutdown()
        if self._joined:  # a driver left connected to a cluster that stops exits with it
            ray.shutdown()

    # ---- the dispatchers (the local engine's workers) --------------------------------------

    def worker_count(self, device: str) -> int:
        return self.settings.ray_in_flight

    def _may_serve(self, model: Model, device: str) -> bool:
        """While the model's replicas have room: calls beyond it would wait in Ray's router,
        which polls the replicas for each of them (11 calls/s instead of 38 on two cores)."""
        return self._inside.get((model.model_id, device), 0) < self.settings.ray_replicas * _ongoing(
            model, self.settings
        )

    def _batch_size(self, model: Model, queued: int, device: str) -> int:
        return 1  # one call per request: Ray Serve batches them on the replica

    def _unstick(self, device: str, worker: _Worker, now: float) -> None:
        """An overdue job ends now; its dispatcher cancels the call at its next event."""
        for job in worker.current:
            if not job.done and job._overdue(now, self.grace):
                job._end_overdue()

    def _run_batch(self, batch: list[Job], worker: _Worker) -> None:
        for job in batch:
            self._dispatch(job)

    def _dispatch(self, job: Job) -> None:
        started = time.monotonic()
        try:
            handle = self._handle(job.model)
        except ScorehostError as exc:
            job.finish(Status.FAILED, error=exc)
            return
        self._not_their_time(job, time.monotonic() - started)
        if (error := job._stop_error()) is not None:
            job.finish(_status_of(error), error=error)
            return
        job.status, job.started = Status.RUNNING, time.time()
        outcome = None
        for attempt in (1, 2):
            try:
                outcome = self._call(handle, job)
                break
            except ReplicaLost as exc:
                log.warning("the replica serving job %s went away (%s)", job.id, exc)
                if attempt == 2 or job.done:
                    outcome = {"error": _lost(job, exc)}
        if job.done or outcome is None:
            return
        if "error" in outcome:
            error = outcome["error"]
            job.finish(_status_of(error), error=error)
        else:
            from .rayreplica import VARIATIONS

            job.warnings.extend(outcome["warnings"])
            self._complete(job, VARIATIONS.validate_json(outcome["variations"]))

    def _not_their_time(self, job: Job, waited: float) -> None:
        """The time replicas took to start is not the job's, nor that of the model's jobs queued
        behind it (the local engine's first job gets its load time the same way)."""
        if waited < 0.05:
            return
        job.deadline += waited
        with self._cond:
            now = time.time()
            for queued in self._queues.get(job.device, ()):
                if queued.model is job.model:
                    queued.deadline += min(waited, now - queued.created)

    def _call(self, handle, job: Job) -> dict:
        """One streaming call: progress into the job, and the outcome (variations or error)."""
        import ray.exceptions as rx
        from ray.serve.exceptions import BackPressureError, RequestCancelledError

        seconds = max(0.0, job.deadline - time.monotonic())
        call = handle.options(stream=True).edit.remote(job.request.model_dump_json(), job.id, seconds)
        try:
            for event in call:
                if (error := job._stop_error()) is not None or job.done:
                    call.cancel()
                    return {"error": error or JobCancelled(f"job {job.id} was cancelled")}
                if "progress" in event:
                    job.fraction = max(job.fraction, float(event["progress"]))
                    job._notify()
                elif "variations" in event or "error" in event:
                    return event
        except BackPressureError as exc:
            return {"error": QueueFull(f"model {job.model.model_id} is busy ({exc}); try again shortly")}
        except (RequestCancelledError, rx.TaskCancelledError):
            return {"error": job._stop_error() or JobCancelled(f"job {job.id} was cancelled")}
        except (rx.RayActorError, rx.ActorUnavailableError) as exc:
            raise ReplicaLost(type(exc).__name__) from exc
        except rx.RayTaskError as exc:  # the replica's own code failed
            cause = exc.cause
            if isinstance(cause, ScorehostError):
                return {"error": cause}
            return {"error": model_error(job.model, cause or exc, "failed on its replica")}
        raise ReplicaLost("its stream ended without an answer")


def _batch(model: Model, settings: Settings) -> int:
    return max(1, min(settings.ray_max_batch, model.max_batch))


def _ongoing(model: Model, settings: Settings) -> int:
    """Calls a replica takes at once: a batch running and the next one filling."""
    return 2 * _batch(model, settings)


def _use_token_auth() -> None:
    """`ray start` (2.60) turns token authentication on and writes the token to
    ~/.ray/auth_token, but a driver uses it only with RAY_AUTH_MODE=token: set it when the
    user left it unset and has a token, as Ray's own CLI does."""
    import os
    from pathlib import Path

    has_token = "RAY_AUTH_TOKEN" in os.environ or (Path.home() / ".ray" / "auth_token").exists()
    if "RAY_AUTH_MODE" not in os.environ and has_token:
        os.environ["RAY_AUTH_MODE"] = "token"


def _deploy(app, name: str, model_id: str, timeout: float):
    """serve.run, within a time limit: replicas that cannot start (a cluster without the CPUs
    or GPUs they ask for) would otherwise keep the request waiting for ever."""
    from ray import serve

    outcome = {}

    def run() -> None:
        try:
            outcome["handle"] = serve.run(app, name=name, route_prefix=None)
        except Exception as exc:  # Ray reports a replica that failed to start this way
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"scorehost-deploy-{model_id}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        status = serve.status().applications.get(name)
        why = "; ".join(d.message for d in status.deployments.values() if d.message) if status else ""
        serve.delete(name, _blocking=False)
        raise ScorehostError(
            f"model {model_id}'s Ray replicas did not start within {timeout:g} s"
            + (f" ({why})" if why else "")
            + "; the cluster may lack the CPUs or GPUs they ask for (--ray-replicas, "
            "--ray-cpus-per-replica, --ray-gpus-per-replica)"
        )
    if "error" in outcome:
        exc = outcome["error"]
        raise ScorehostError(f"model {model_id} could not start on Ray: {type(exc).__name__}: {exc}")
    return outcome["handle"]


def _lost(job: Job, exc: Exception) -> ScorehostError:
    error = ScorehostError(
        f"the Ray replica serving model {job.model.model_id} stopped during the request ({exc}), "
        "twice; try again (Ray Serve starts new replicas)"
    )
    error.code = "replica_lost"
    return error


def app_name(model: Model) -> str:
    """The model's Ray Serve application: its id and a digest of the model object as it is
    sent to the replicas (class and settings, not weights: those load there), so servers with
    the same model share its deployment and a model configured otherwise gets its own."""
    import hashlib

    import cloudpickle

    digest = hashlib.sha256(cloudpickle.dumps(model)).hexdigest()[:10]
    return f"scorehost-{model.model_id}-{digest}"


def _running(name: str) -> bool:
    from ray import serve

    status = serve.status().applications.get(name)
    return status is not None and status.status == "RUNNING"
