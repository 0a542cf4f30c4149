"""Shared fixtures: real corpus pieces, and a host with test-only models that exercise the engine."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest
from music21 import corpus

from scorehost.core import hookimpl
from scorehost.core.engine import Engine
from scorehost.core.errors import RequestError
from scorehost.core.host import Host
from scorehost.core.model import Capabilities, Model
from scorehost.core.requests import Options, Variation
from scorehost.core.scoreio import read_score

CHORALE = "bach/bwv66.6"  # 4/4, pickup bar, F# minor, fermatas
CHORALE_3_4 = "bach/bwv269"  # 3/4, pickup bar, G major, irregular bars
QUARTET = "haydn/opus74no1/movement3"  # four instruments, key change, an irregular bar


def corpus_path(name: str) -> Path:
    return Path(corpus.getWork(name))


def on_ray() -> bool:
    """The bridge tests serve through Ray Serve (tests/core/test_rayengine.py runs them so)."""
    return os.environ.get("SCOREHOST_TEST_ENGINE") == "ray"


# Each request's hop through Ray Serve costs about 15 ms of this 2-core machine's CPU (61 echo
# requests/s against thousands locally): time limits of the bridge tests are this much longer
# there (a burst of 1,000 edits needs more than the 20 s a job gets with the local engine, and
# the 2,000-message OSC burst took 51 s of its 45 under CI's load).
RAY_SLOWER = 3


def make_engine(host: Host, **kwargs) -> Engine:
    """The engine the bridge tests serve with: the local one, or, with SCOREHOST_TEST_ENGINE=ray,
    the Ray engine on the cluster at SCOREHOST_RAY_ADDRESS (tests/core/test_rayengine.py runs
    the OSC tests so). The test models here travel to the replicas by value."""
    if not on_ray():
        return Engine(host, **kwargs)
    import cloudpickle

    from scorehost.core.rayengine import RayEngine
    from scorehost.core.settings import Settings

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    settings = Settings(engine="ray", ray_address=os.environ["SCOREHOST_RAY_ADDRESS"], ray_cpus_per_replica=0)
    kwargs.pop("device", None)
    kwargs["default_timeout"] = RAY_SLOWER * kwargs.get("default_timeout", 120.0)
    return RayEngine(host, settings, **kwargs)


@pytest.fixture(scope="session")
def chorale():
    return read_score(corpus_path(CHORALE))


class Echo(Model):
    """Returns its input: the regions come back as they were."""

    model_id = "echo"
    description = "test: returns the input unchanged"
    capabilities = Capabilities(
        constraints=frozenset({"pitch_range", "pinned_notes"}), new_tracks=True, drums=True
    )

    def inpaint(self, request, options, job):
        job.progress(0.5)
        return [Variation(score=request.score, log_prob=0.0, seed=s) for s in options.seeds()]


class SlowOptions(Options):
    seconds: float = 0.2


class Slow(Model):
    """Sleeps in small steps, reporting progress, so it can be cancelled."""

    model_id = "slow"
    description = "test: sleeps cooperatively"
    Options = SlowOptions

    def inpaint(self, request, options, job):
        steps = 20
        for i in range(steps):
            job.progress(i / steps)
            time.sleep(options.seconds / steps)
        return [Variation(score=request.score, log_prob=0.0, seed=s) for s in options.seeds()]


class Fails(Model):
    model_id = "fails"
    description = "test: raises"

    def inpaint(self, request, options, job):
        raise ZeroDivisionError("the plugin divided by zero")


class Hangs(Model):
    """Ignores cancellation entirely: the engine must abandon it at its deadline."""

    model_id = "hangs"
    description = "test: blocks without checking for cancellation"
    release = threading.Event()

    def inpaint(self, request, options, job):
        self.release.wait(30)
        return [Variation(score=request.score, log_prob=0.0, seed=0)]


class Batched(Model):
    """Records the size of each batch it is given."""

    model_id = "batched"
    description = "test: serves requests in batches"
    max_batch = 8

    def __init__(self):
        super().__init__()
        self.batch_sizes: list[int] = []

    def inpaint_batch(self, items):
        self.batch_sizes.append(len(items))
        time.sleep(0.02)
        return [
            RequestError("this one is refused", "options")
            if r.timeout == 13
            else [Variation(score=r.score, log_prob=0.0, seed=0)]
            for r, _o, _j in items
        ]


class Vandal(Model):
    """Writes notes everywhere, inside and outside its regions, to test the merge."""

    model_id = "vandal"
    description = "test: changes notes outside its regions"

    def inpaint(self, request, options, job):
        tracks = [
            t.model_copy(update={"notes": [n.model_copy(update={"pitch": 60}) for n in t.notes]})
            for t in request.score.tracks
        ]
        return [Variation(score=request.score.model_copy(update={"tracks": tracks}), log_prob=-1.0, seed=0)]


class TestPlugin:
    @hookimpl
    def register_models(self, register):
        for model in (Echo(), Slow(), Fails(), Hangs(), Batched(), Vandal()):
            register(model)


@pytest.fixture
def host():
    """A host with no built-ins and no entry points, plus the test models."""
    h = Host(builtins=(), env={"SCOREHOST_PLUGINS": ""})
    h.pm.register(TestPlugin(), name="test-models")
    return h


class Octave(Model):
    """Writes into each region the notes track 0 has there, an octave lower: visible, checkable."""

    model_id = "octave"
    description = "test: copies track 0 an octave down into the regions"
    capabilities = Capabilities(new_tracks=True)

    def inpaint(self, request, options, job):
        score = request.score
        tracks = [t.model_copy(update={"notes": list(t.notes)}) for t in score.tracks]
        for region in request.regions:
            source = [n for n in score.tracks[0].notes if region.start <= n.start < region.end]
            kept = [n for n in tracks[region.track].notes if not region.start <= n.start < region.end]
            written = [
                n.model_copy(
                    update={"pitch": max(0, n.pitch - 12), "duration": min(n.duration, region.end - n.start)}
                )
                for n in source
            ]
            tracks[region.track] = tracks[region.track].model_copy(update={"notes": kept + written})
        result = score.model_copy(update={"tracks": tracks})
        return [Variation(score=result, log_prob=-1.0, seed=s) for s in options.seeds()]


class OctavePlugin:
    @hookimpl
    def register_models(self, register):
        register(Octave())


@pytest.fixture
def octave_host(host):
    """The test host plus 'octave', whose output is easy to check note by note."""
    host.pm.register(OctavePlugin(), name="octave")
    return host


@pytest.fixture(scope="session", params=["tiny", "shipped"])
def theme_weights(request, tmp_path_factory):
    """The theme model end to end (tests/plugins/theme/serving.py): on tiny random weights, and
    on the shipped ones (skipped, saying why, while none ship)."""
    from .plugins.theme.serving import theme_weights

    return theme_weights(request.param, tmp_path_factory.mktemp(f"theme-{request.param}"))


@pytest.fixture(scope="session")
def tiny_theme(tmp_path_factory):
    """The theme model on tiny random weights, for what holds whatever the weights (errors)."""
    from .plugins.theme.serving import theme_weights

    return theme_weights("tiny", tmp_path_factory.mktemp("theme-tiny"))
