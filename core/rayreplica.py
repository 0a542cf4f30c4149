"""The Ray Serve deployment that serves one model (`scorehost serve --engine ray`).

Each replica loads its model on its device once, at start. A request is one streaming call
(`edit`): the replica puts the job in Ray Serve's batch queue (`@serve.batch`), and while it
waits and runs, yields its progress (and a heartbeat when nothing moved, so the caller can
cancel or time out at once); last it yields the outcome: the model's variations and warnings,
or the error the job ended with. Requests queued together for the model are served in one
`inpaint_batch` call, in a thread (the replica's event loop keeps streaming meanwhile),
with the engine's own batch rules (core/engine.py run_batch): a job cancelled or past its
deadline ends alone, the rest of its batch is served again.

Cancellation is carried through: when the caller cancels the call (or goes away), Ray Serve
cancels the streaming task here, which cancels the job the model is checking, so the model
stops at its next check; a job still in the batch queue is dropped from it. The deadline
travels as seconds left (clocks differ between machines).

This module imports Ray; only the Ray engine imports it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from pydantic import TypeAdapter
from ray import serve

from .device import choose_device
from .engine import Job, batches, run_batch
from .errors import ScorehostError
from .model import Model
from .requests import EditRequest, Variation
from .threads import set_torch_threads

HEARTBEAT = 0.2  # seconds between events while nothing else moved
VARIATIONS = TypeAdapter(list[Variation])  # what a replica sends back, as JSON


class ModelReplica:
    """One replica of one model's deployment (made a deployment by rayengine.deployment)."""

    def __init__(self, model: Model, device: str | None, threads: int, max_batch: int, wait: float) -> None:
        self.model = model
        self.device = choose_device(device) if model.uses_accelerator else "cpu"
        self.threads = threads
        set_torch_threads(threads)
        model.load(self.device)
        self.serve_batch.set_max_batch_size(max_batch)  # the engine's, within the model's own
        self.serve_batch.set_batch_wait_timeout_s(wait)

    def placement(self) -> dict[str, Any]:
        """Where this replica runs (for `scorehost serve`'s start-up line and the tests)."""
        import os

        return {"device": self.device, "pid": os.getpid(), "node": _node()}

    async def edit(self, request_json: bytes, job_id: str, seconds: float) -> AsyncIterator[dict]:
        """One request (its JSON: pydantic reads and writes it far faster than pickle does a
        score's note objects) as a stream of events: progress, heartbeats, the outcome."""
        request = EditRequest.model_validate_json(request_json)
        options = self.model.Options.model_validate(request.options)
        job = Job(request, self.model, options, time.monotonic() + seconds, self.device, id=job_id)
        loop, moved = asyncio.get_running_loop(), asyncio.Event()
        job.on_change(lambda _: loop.call_soon_threadsafe(moved.set))  # from the model's thread
        task = asyncio.ensure_future(self.serve_batch(job))
        shown = 0.0
        try:
            while not task.done():
                waiting = asyncio.ensure_future(moved.wait())
                await asyncio.wait({task, waiting}, timeout=HEARTBEAT, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                moved.clear()
                if job.fraction != shown and not job.done:
                    shown = job.fraction
                    yield {"progress": shown}  # each step the model reports, as it comes
                elif not task.done():
                    yield {}  # a heartbeat: the caller may cancel or time out now
            yield task.result()
        except asyncio.CancelledError:  # the caller cancelled the call, or went away
            job.cancel()
            task.cancel()
            raise

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def serve_batch(self, jobs: list[Job]) -> list[dict]:
        return await asyncio.to_thread(self._serve, jobs)

    def _serve(self, jobs: list[Job]) -> list[dict]:
        set_torch_threads(self.threads)  # per thread in torch: this one runs the model
        answered: dict[str, list] = {}
        for pending in batches(self.model, jobs):
            while pending:  # jobs stopped through no fault of their own are served again
                outputs, pending = run_batch(self.model, pending)
                answered.update(outputs)
        return [_outcome(job, answered.get(job.id)) for job in jobs]


def _outcome(job: Job, variations: list | None) -> dict:
    if variations is not None:
        return {"variations": VARIATIONS.dump_json(variations), "warnings": job.warnings}
    error = job.error or ScorehostError(f"model {job.model.model_id} returned no result")
    return {"error": error}


def _node() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def deployment(name: str, replicas: int, cpus: float, gpus: float, max_ongoing: int, max_queued: int):
    """The deployment class for one model, with its replica count and resources."""
    return serve.deployment(
        ModelReplica,
        name=name,
        num_replicas=replicas,
        ray_actor_options={"num_cpus": cpus, "num_gpus": gpus},
        max_ongoing_requests=max_ongoing,
        max_queued_requests=max_queued,
        health_check_period_s=2,
        health_check_timeout_s=30,
    )
