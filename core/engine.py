"""The job engine: workers per device, a bounded queue, cancellation, deadlines, batching.

A request is checked when it is submitted (so a bad one is refused at once), then queued.
A worker of the model's device runs it, batching queued jobs for the same model when the
model can serve several at once. A CUDA device has one worker (batches fill the GPU); the
CPU has as many as its policy says (core/threads.py: one per physical core by default, each
running torch on its own thread), which share the queue and its batches between them. Its
promises:

- only live jobs hold a queue slot (a cancelled or timed-out one gives its slot back);
- a plugin exception, a missed deadline or a cancellation ends that job alone: the other
  jobs of its batch are served again;
- a model that ignores its job's deadline or cancellation for longer than the grace is
  abandoned: its worker is replaced, and the model serves no other job until the stuck
  thread returns (so at most one abandoned thread per model and device);
- a model is loaded once per device, under a lock of its own, outside any job's deadline
  (or at start, with preload);
- a model without its own inpaint_batch is served one job after another, each job running
  only when its turn comes;
- a model runs in one worker at a time unless it declares itself concurrent.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from .device import choose_device
from .errors import (
    JobCancelled,
    JobTimeout,
    QueueFull,
    RequestError,
    ScorehostError,
    pydantic_message,
)
from .host import Host
from .model import Model
from .regions import constraint_violations, merge_result, spans_by_track
from .requests import EditRequest, EditResult, Options, Variation, check_request
from .scoreio import MAX_NOTES
from .spelling import spell_written
from .threads import CpuPolicy, OtherLoad, cpu_policy, set_torch_threads, set_wait_policy

log = logging.getLogger(__name__)


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"


FINISHED = {Status.DONE, Status.FAILED, Status.CANCELLED, Status.TIMEOUT}
NOTE_BYTES = 600  # what a note of a kept score takes in memory, about


@dataclass
class Job:
    """One request's life. Its methods are safe to call from any thread."""

    request: EditRequest
    model: Model
    options: Options
    deadline: float
    device: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: Status = Status.QUEUED
    fraction: float = 0.0
    result: EditResult | None = None
    error: ScorehostError | None = None
    warnings: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancelled_at: float | None = None  # monotonic time cancel() was first asked
    _cancel: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)
    _listeners: list[Callable[[Job], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _size: int | None = None

    # ---- the model's side (JobContext) ------------------------------------------------------

    def progress(self, fraction: float) -> None:
        self.check()
        self.fraction = min(1.0, max(self.fraction, float(fraction)))
        self._notify()

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise JobTimeout(self._timeout_message())
        if self._cancel.is_set():
            raise JobCancelled(f"job {self.id} was cancelled")

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    # ---- the client's side ----------------------------------------------------------------

    def cancel(self) -> bool:
        """Ask the job to stop; True if it had not finished yet."""
        if self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
        self._cancel.set()
        if self.status == Status.QUEUED:
            self.finish(Status.CANCELLED, error=JobCancelled(f"job {self.id} was cancelled"))
        return self.status not in FINISHED or self.status == Status.CANCELLED

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def ended(self, timeout: float | None = None) -> bool:
        """Block until finished or `timeout` seconds; True if it has finished."""
        return self._done.wait(timeout)

    def wait(self, timeout: float | None = None) -> EditResult:
        """Block until finished; return the result or raise the job's error."""
        if not self._done.wait(timeout):
            raise JobTimeout(f"job {self.id} is still {self.status}")
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def on_change(self, listener: Callable[[Job], None]) -> None:
        """Call listener(job) on progress and when the job finishes (from the worker's thread)."""
        self._listeners.append(listener)

    def size(self) -> int:
        """About how many bytes the job holds: its request's score and its result's scores, at
        the ~600 bytes a note takes as Python objects (measured with tracemalloc), and a
        little for the rest. Kept once it is finished, as it no longer changes."""
        if self._size is not None:
            return self._size
        scores = [self.request.score, *(v.score for v in (self.result.variations if self.result else []))]
        size = 4096 + NOTE_BYTES * sum(s.note_count() for s in scores)
        if self.done:
            self._size = size
        return size

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model.model_id,
            "status": str(self.status),
            "progress": round(self.fraction, 4),
            "error": None if self.error is None else {"code": self.error.code, "message": str(self.error)},
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
        }

    # ---- the engine's side ----------------------------------------------------------------

    def finish(
        self, status: Status, result: EditResult | None = None, error: ScorehostError | None = None
    ) -> bool:
        """Set the final state once; later calls (a stuck worker returning late) are ignored."""
        with self._lock:
            if self._done.is_set():
                return False
            self.status, self.result, self.error = status, result, error
            self.finished = time.time()
            if status == Status.DONE:
                self.fraction = 1.0
            self._done.set()
        self._notify()
        return True

    def _stop_error(self) -> ScorehostError | None:
        """The error this job should end with now (cancelled or past its deadline), if any."""
        try:
            self.check()
        except ScorehostError as exc:
            return exc
        return None

    def _overdue(self, now: float, grace: float) -> bool:
        """Running past its deadline, or cancelled, for longer than the grace a model gets."""
        if now > self.deadline + grace:
            return True
        return self.cancelled_at is not None and now > self.cancelled_at + grace

    def _end_overdue(self) -> None:
        """End a job the model kept running past its deadline or cancellation."""
        self._cancel.set()
        error = self._stop_error() or JobTimeout(self._timeout_message())
        self.finish(_status_of(error), error=error)

    def _timeout_message(self) -> str:
        limit = self.request.timeout
        return f"job {self.id} ran past its time limit" + (f" of {limit:g} s" if limit else "")

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # a failing listener (a closed socket) must not hurt the job
                log.exception("job listener failed")


# A lone job spreads over the idle workers' cores while other programs kept less than half of
# each of those cores busy lately.
SPREAD_BELOW = 0.5


class _Worker:
    """A thread that serves the queue of one device."""

    def __init__(self, engine: Engine, device: str, number: int = 0):
        self.engine, self.device = engine, device
        self.current: list[Job] = []
        self.abandoned = False
        self.loading = False  # a load() is running: deadlines do not run meanwhile
        self.threads: int | None = None  # torch's thread count in this thread, once torch is in
        self.thread = threading.Thread(target=self._run, name=f"scorehost-{device}-{number}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.abandoned:
            batch = self.engine._take(self.device)
            if batch is None:
                return
            self.current = batch
            try:
                self.engine._run_batch(batch, self)
            finally:
                self.engine._leave(batch[0].model, self.device, back_in_service=self.abandoned)
                self.current = []

    def set_threads(self, spread: bool = False) -> None:
        """The policy's threads, or with spread every CPU worker's (see Engine._spread)."""
        cpu = self.engine.cpu
        wanted = cpu.threads * cpu.workers if spread else cpu.threads
        if self.threads != wanted and set_torch_threads(wanted):
            self.threads = wanted


class Engine:
    def __init__(
        self,
        host: Host,
        device: str | None = None,
        queue_size: int = 64,
        default_timeout: float = 120.0,
        grace: float = 2.0,
        max_notes: int = MAX_NOTES,
        keep_finished: int = 1000,
        keep_seconds: float = 3600.0,
        keep_bytes: int = 256 * 1024 * 1024,
        cpu: CpuPolicy | None = None,
    ):
        self.host = host
        # CPU workers and their torch threads; the wait policy must be set before torch loads
        self.cpu = cpu or cpu_policy()
        set_wait_policy(self.cpu.wait)
        # what other programs keep busy: read only where a lone job could spread
        self._load = OtherLoad() if self.cpu.spread and self.cpu.workers > 1 else None
        self._wanted_device = device
        self._device: str | None = None
        self.queue_size = queue_size
        self.default_timeout = default_timeout
        self.grace = grace  # seconds a model gets to notice cancellation before it is abandoned
        self.max_notes = max_notes
        # Finished jobs are kept for clients to fetch, within a count, an age and a size.
        self.keep_finished = keep_finished
        self.keep_seconds = keep_seconds
        self.keep_bytes = keep_bytes
        self.jobs: dict[str, Job] = {}
        self._queues: dict[str, deque[Job]] = {}
        self._cond = threading.Condition()
        self._workers: dict[str, list[_Worker]] = {}
        self._inside: dict[tuple[str, str], int] = {}  # (model, device) -> workers serving it
        self._closed = False
        self._loaded: set[tuple[str, str]] = set()
        self._load_locks: dict[tuple[str, str], threading.Lock] = {}
        # (model, device) -> the abandoned thread still inside it: that model serves no other
        # job until the thread returns, which also bounds abandoned threads to one per model.
        self._out_of_service: dict[tuple[str, str], threading.Thread] = {}
        self._supervisor = threading.Thread(target=self._supervise, name="scorehost-supervisor", daemon=True)
        self._supervisor.start()

    @property
    def device(self) -> str:
        """The device accelerated models run on, chosen on first need: choosing it may import
        torch, which a request refused at its check never needs."""
        if self._device is None:
            self._device = choose_device(self._wanted_device)
        return self._device

    # ---- submitting -----------------------------------------------------------------------

    def prepare(self, request: EditRequest) -> tuple[Model, Options]:
        """Check a request fully, without queueing it: raises RequestError naming the problem."""
        check_request(request, self.max_notes)
        model = self.host.model(request.model)
        try:
            options = model.Options.model_validate(request.options)
        except ValidationError as exc:
            raise RequestError(pydantic_message(exc), "options") from exc
        model.check(request, options)
        return model, options

    def submit(self, request: EditRequest) -> Job:
        model, options = self.prepare(request)
        timeout = request.timeout or self.default_timeout
        device = self.device if model.uses_accelerator else "cpu"
        job = Job(
            request=request,
            model=model,
            options=options,
            deadline=time.monotonic() + timeout,
            device=device,
        )
        with self._cond:
            if self._closed:
                raise QueueFull("the server is shutting down")
            waiting = self._waiting()
            if waiting >= self.queue_size:
                raise QueueFull(f"the queue is full ({waiting} jobs waiting); try again shortly")
            self._forget_oldest_finished()
            self.jobs[job.id] = job
            self._queues.setdefault(device, deque()).append(job)
            self._ensure_worker(device)
            self._cond.notify_all()
        return job

    def _waiting(self) -> int:
        """Jobs holding a queue slot: finished ones (cancelled or timed out while they waited)
        are dropped first. Called with _cond held."""
        for device, queue in self._queues.items():
            if any(j.done for j in queue):
                self._queues[device] = deque(j for j in queue if not j.done)
        return sum(len(q) for q in self._queues.values())

    def load(self, model_id: str, device: str | None = None) -> Model:
        """Load a model onto a device once; loads of different models run at the same time."""
        model = self.host.model(model_id)
        device = device or (self.device if model.uses_accelerator else "cpu")
        key = (model.model_id, device)
        with self._cond:
            lock = self._load_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._loaded:
                model.load(device)
                self._loaded.add(key)
        return model

    def describe(self, model_id: str) -> str:
        """Where a model runs, for `scorehost serve`'s start-up lines."""
        return str(self.host.model(model_id).device)

    def preload(self, model_ids: list[str]) -> None:
        """Load these models now (at serve start), so no request waits for their weights."""
        for model_id in model_ids:
            self.load(model_id)

    def run(self, request: EditRequest, timeout: float | None = None) -> EditResult:
        """Submit and wait: the synchronous path for the CLI and simple clients."""
        job = self.submit(request)
        return job.wait(timeout)

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def cancel(self, job_id: str) -> bool:
        job = self.jobs.get(job_id)
        return job.cancel() if job else False

    def forget(self, job_id: str) -> None:
        """Drop a finished job from memory (bridges call this once a client fetched it)."""
        with self._cond:
            job = self.jobs.get(job_id)
            if job is not None and job.done:
                del self.jobs[job_id]

    def _forget_oldest_finished(self) -> None:
        """Forget finished jobs older than keep_seconds, then the oldest while more than
        keep_finished are kept or they hold more than keep_bytes, so a long-running server
        does not grow (24 large finished jobs took one from 276 MB to 3 GB). Called with _cond
        held, as every change to self.jobs is."""
        finished = sorted((j for j in self.jobs.values() if j.done), key=lambda j: j.finished or 0)
        now = time.time()
        count, held = len(finished), sum(j.size() for j in finished)
        for job in finished:  # oldest first
            old = now - (job.finished or now) > self.keep_seconds
            if not (old or count > self.keep_finished or held > self.keep_bytes):
                break
            del self.jobs[job.id]
            count, held = count - 1, held - job.size()

    def shutdown(self, cancel: bool = True, timeout: float = 10.0) -> None:
        """Stop taking jobs; cancel (or finish) what is queued and running, then stop workers."""
        with self._cond:
            self._closed = True
            pending = [j for q in self._queues.values() for j in q]
            self._cond.notify_all()
        for job in pending:
            job.cancel()
        workers = [w for group in list(self._workers.values()) for w in group]
        if cancel:
            for worker in workers:
                for job in worker.current:
                    job.cancel()
        if self._load is not None:
            self._load.stop()
        end = time.monotonic() + timeout
        for worker in workers:
            worker.thread.join(max(0.0, end - time.monotonic()))

    # ---- the workers' side ----------------------------------------------------------------

    def worker_count(self, device: str) -> int:
        """Workers a device gets: the CPU policy's on the CPU, one on an accelerator."""
        return self.cpu.workers if device == "cpu" else 1

    def _ensure_worker(self, device: str) -> None:
        """Keep a device's workers at their count: abandoned or ended ones are replaced.
        Called with _cond held."""
        workers = [w for w in self._workers.get(device, []) if w.thread.is_alive() and not w.abandoned]
        taken = {w.thread.name for w in workers}
        number = 0
        while len(workers) < self.worker_count(device):
            while f"scorehost-{device}-{number}" in taken:
                number += 1
            workers.append(_Worker(self, device, number))
            taken.add(workers[-1].thread.name)
        self._workers[device] = workers

    def _take(self, device: str) -> list[Job] | None:
        """Next batch for a device: the oldest live job whose model is in service (and free,
        unless it is concurrent), plus queued ones for the same model: with several workers, a
        share of them, so that the other workers get theirs."""
        with self._cond:
            while True:
                queue = self._queues.setdefault(device, deque())
                while queue and queue[0].done:  # cancelled while waiting
                    queue.popleft()
                first = next((j for j in queue if not j.done and self._may_serve(j.model, device)), None)
                if first is not None:
                    break
                if self._closed:
                    return None
                self._cond.wait(0.05 if queue else 0.5)
            batch = [first]
            if first.model.max_batch > 1:
                same = [j for j in queue if j.model is first.model and not j.done]
                batch = same[: self._batch_size(first.model, len(same), device)]
            for job in batch:
                queue.remove(job)
            key = (first.model.model_id, device)
            self._inside[key] = self._inside.get(key, 0) + 1
            return batch

    def _batch_size(self, model: Model, queued: int, device: str) -> int:
        """How many of a model's queued jobs a worker takes at once: with several workers, a
        share of them, so that the other workers get theirs."""
        return min(model.max_batch, math.ceil(queued / self.worker_count(device)))

    def _may_serve(self, model: Model, device: str) -> bool:
        """In service, and not inside another worker unless it is concurrent. With _cond held."""
        if not self._in_service(model, device):
            return False
        return model.concurrent or not self._inside.get((model.model_id, device))

    def _leave(self, model: Model, device: str, back_in_service: bool) -> None:
        """A worker is out of the model; an abandoned one's return puts the model back in service."""
        with self._cond:
            key = (model.model_id, device)
            self._inside[key] = self._inside.get(key, 1) - 1
            if back_in_service:  # the stuck model returned at last: it may serve again
                self._out_of_service.pop(key, None)
            self._cond.notify_all()

    def _in_service(self, model: Model, device: str) -> bool:
        """False while an abandoned thread is still inside this model. Called with _cond held."""
        thread = self._out_of_service.get((model.model_id, device))
        if thread is not None and not thread.is_alive():
            del self._out_of_service[(model.model_id, device)]
            thread = None
        return thread is None

    def _requeue(self, jobs: list[Job]) -> None:
        """Put jobs that were stopped through no fault of their own back at the queue's head."""
        with self._cond:
            for job in reversed([j for j in jobs if not j.done]):
                job.status, job.started = Status.QUEUED, None
                self._queues.setdefault(job.device, deque()).appendleft(job)
                self._ensure_worker(job.device)
            self._cond.notify_all()

    def _run_batch(self, batch: list[Job], worker: _Worker) -> None:
        model = batch[0].model
        worker.loading = True
        loading_started = time.monotonic()
        try:
            self.load(model.model_id, batch[0].device)
        except ScorehostError as exc:
            _end_all(batch, exc)
            return
        except Exception as exc:
            self._fail(batch, model, exc, "could not load")
            return
        finally:
            worker.loading = False
        worker.set_threads(spread=self._spread(worker))
        for job in batch:  # the time a load took is not the job's
            job.deadline += time.monotonic() - loading_started
        for calls in batches(model, batch):
            self._serve(model, calls)

    def _spread(self, worker: _Worker) -> bool:
        """Whether the worker's batch may compute on every worker's threads: it is all the CPU
        has to do (nothing queued, no other worker busy) and other programs left the idle
        workers' cores idle lately (under a DAW's load, two threads fighting it for the cores
        were slower than one: 2.07 s against 1.64 s for 8 bars, docs/benchmarks.md)."""
        cpu = self.cpu
        if not cpu.spread or cpu.workers < 2 or worker.device != "cpu" or not self._alone(worker):
            return False
        others = self._load.cores() if self._load is not None else None
        return others is not None and others < SPREAD_BELOW * (cpu.workers - 1) * cpu.threads

    def _alone(self, worker: _Worker) -> bool:
        """The worker's batch is all the CPU has to do: nothing queued, no other worker busy."""
        with self._cond:
            if any(not j.done for j in self._queues.get(worker.device, ())):
                return False
            return not any(w.current for w in self._workers.get(worker.device, []) if w is not worker)

    def _serve(self, model: Model, batch: list[Job]) -> None:
        outputs, again = run_batch(model, batch)
        self._requeue(again)
        for job in batch:
            if job.id in outputs:
                self._complete(job, outputs[job.id])

    def _fail(self, jobs: list[Job], model: Model, exc: Exception, what: str) -> None:
        log.exception("model %s %s", model.model_id, what)
        _end_all(jobs, model_error(model, exc, what))

    def _complete(self, job: Job, variations: list[Variation]) -> None:
        try:
            job.check()
            merged = []
            for variation in variations:
                score = merge_result(job.request.score, variation.score, job.request.regions)
                # what the model wrote is spelled for the key and the harmony; the rest as given
                score = spell_written(score, spans_by_track(job.request.regions))
                problems = constraint_violations(job.request, score)
                if problems:
                    raise ScorehostError(f"model {job.model.model_id} broke a constraint: {problems[0]}")
                merged.append(variation.model_copy(update={"score": score}))
            if not merged:
                raise ScorehostError(f"model {job.model.model_id} returned no result")
        except ScorehostError as exc:
            job.finish(_status_of(exc), error=exc)
            return
        now = time.time()
        started = job.started or now
        timings = {
            "queued": started - job.created,
            "run": now - started,
            "total": now - job.created,
        }
        result = EditResult(
            model=job.model.model_id, variations=merged, warnings=job.warnings, timings=timings
        )
        job.finish(Status.DONE, result=result)

    def _supervise(self) -> None:
        """Time out jobs past their deadline; replace a worker stuck in a model that ignores
        its job's deadline or cancellation for longer than the grace."""
        expired = time.monotonic()
        while True:
            time.sleep(0.05)
            now = time.monotonic()
            with self._cond:
                workers = [(d, w) for d, group in self._workers.items() for w in group]
                if self._closed and not any(w.thread.is_alive() for _, w in workers):
                    return
                if now - expired > 1.0:  # old finished jobs go even when nothing is submitted
                    self._forget_oldest_finished()
                    expired = now
                for device, queue in self._queues.items():
                    for job in list(queue):
                        if not job.done and now > job.deadline:
                            job.finish(Status.TIMEOUT, error=JobTimeout(self._queued_timeout(job, device)))
                for device, worker in workers:
                    if not worker.abandoned and not worker.loading:
                        self._unstick(device, worker, now)

    def _unstick(self, device: str, worker: _Worker, now: float) -> None:
        """End the overdue jobs of a stuck worker, requeue the rest of its batch, take the model
        out of service until the thread returns, and start a new worker. With _cond held."""
        running = [j for j in worker.current if j.status == Status.RUNNING and not j.done]
        overdue = [j for j in running if j._overdue(now, self.grace)]
        for job in worker.current:  # in a sequential batch, not yet started: just ends
            if job.status == Status.QUEUED and not job.done and (error := job._stop_error()):
                job.finish(_status_of(error), error=error)
        if not overdue:
            return
        model = overdue[0].model
        for job in overdue:
            job._end_overdue()
        log.warning("worker for %s stuck in %s; starting a new one", device, model.model_id)
        worker.abandoned = True
        self._out_of_service[(model.model_id, device)] = worker.thread
        self._workers[device] = [w for w in self._workers[device] if w is not worker]
        self._requeue(worker.current)  # _cond is re-entrant
        if any(not j.done for j in self._queues.get(device, ())):
            self._ensure_worker(device)

    def _queued_timeout(self, job: Job, device: str) -> str:
        message = job._timeout_message()
        if not self._in_service(job.model, device):
            message += (
                f" while model {job.model.model_id} was still busy with a request it was stopped from"
                " (it ignores cancellation); try again once it returns"
            )
        return message


def run_batch(model: Model, batch: list[Job]) -> tuple[dict[str, list[Variation]], list[Job]]:
    """One inpaint_batch call over a batch's live jobs (wherever the model runs: an engine's
    worker, a Ray replica): the variations of the jobs it answered, by job id, and the jobs to
    serve again. Every other job is finished: stopped (cancelled or past its deadline) before
    or during the call, failed with the model's error, or failed alone by an item's error."""
    live = []
    for job in batch:
        error = job._stop_error()
        if error is None:
            job.status, job.started = Status.RUNNING, time.time()
            live.append(job)
        else:
            job.finish(_status_of(error), error=error)
    if not live:
        return {}, []
    try:
        outputs = model.inpaint_batch([(j.request, j.options, j) for j in live])
    except (JobCancelled, JobTimeout) as exc:
        # One job's cancellation or deadline ended the whole call: that job ends, the
        # others of the batch are served again.
        stopped = {j.id: j._stop_error() for j in live}
        if not any(stopped.values()):
            stopped = {j.id: exc for j in live}
        for job in live:
            if stopped[job.id] is not None:
                job.finish(_status_of(stopped[job.id]), error=stopped[job.id])
        return {}, [j for j in live if stopped[j.id] is None]
    except ScorehostError as exc:
        _end_all(live, exc)
        return {}, []
    except Exception as exc:
        log.exception("model %s failed", model.model_id)
        _end_all(live, model_error(model, exc, "failed"))
        return {}, []
    answered = {}
    for job, variations in zip(live, outputs, strict=True):
        if isinstance(variations, ScorehostError):  # one item of the batch failed alone
            job.finish(_status_of(variations), error=variations)
        else:
            answered[job.id] = variations
    return answered, []


def batches(model: Model, jobs: list[Job]) -> list[list[Job]]:
    """The inpaint_batch calls a batch of jobs is served in: one, or one per job for a model
    without its own inpaint_batch (served one after another, each job running only when its
    turn comes)."""
    if type(model).inpaint_batch is Model.inpaint_batch:
        return [[job] for job in jobs]
    return [jobs]


def model_error(model: Model, exc: Exception, what: str) -> ScorehostError:
    error = ScorehostError(f"model {model.model_id} {what}: {type(exc).__name__}: {exc}")
    error.code = "model_error"
    return error


def _end_all(jobs: list[Job], error: ScorehostError) -> None:
    for job in jobs:
        job.finish(_status_of(error), error=error)


def _status_of(error: ScorehostError) -> Status:
    if isinstance(error, JobCancelled):
        return Status.CANCELLED
    if isinstance(error, JobTimeout):
        return Status.TIMEOUT
    return Status.FAILED
