"""Server settings: flags override environment (SCOREHOST_*) which overrides a TOML config file.

Settings holds what the server itself needs; each bridge declares its own settings
(Bridge.settings_model) and Settings.with_bridges adds them, so `scorehost serve` takes the
flags, environment variables and config keys of every registered bridge, third-party ones too.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import ScorehostError
from .scoreio import MAX_NOTES

if TYPE_CHECKING:
    from .bridge import Bridge


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCOREHOST_", extra="forbid")

    host: str = Field(
        default="127.0.0.1", description="Address the bridges bind; a non-loopback address needs a token."
    )
    token: str | None = Field(
        default=None, description="Shared secret clients must send (HTTP: Authorization: Bearer TOKEN)."
    )
    bridges: list[str] = Field(
        default=["http"],
        description="Bridge to start; repeat for several (see scorehost plugins).",
        json_schema_extra={"flag": "--bridge"},
    )
    device: str | None = Field(default=None, description="auto, cpu, cuda or cuda:N.")
    cpu_workers: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="CPU workers serving requests side by side; default one per physical core.",
    )
    cpu_threads: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="torch threads each CPU worker computes with; default the cores shared among the workers (1 with the default workers).",
    )
    cpu_spread: bool = Field(
        default=True,
        description="A request alone on the CPU (nothing queued, the other workers idle) computes with every worker's threads; a seed writes the same either way.",
    )
    omp_wait_policy: Literal["passive", "active", "default"] = Field(
        default="passive",
        description="How idle OpenMP threads wait: passive sleeps (stays fast when other programs use the CPU), active spins, default is libgomp's; an OMP_WAIT_POLICY variable wins.",
    )
    engine: Literal["local", "ray"] = Field(
        default="local",
        description="Where models run: local (in this process) or ray (a Ray Serve cluster: pip install 'scorehost[ray]'; docs/ray.md).",
    )
    ray_address: str | None = Field(
        default=None,
        description="With --engine ray: the cluster to join (auto, or HOST:PORT of its head); default a local Ray instance started in this process.",
    )
    ray_replicas: int = Field(
        default=1, ge=1, le=1024, description="With --engine ray: replicas of each model's deployment."
    )
    ray_cpus_per_replica: float = Field(
        default=1.0, ge=0, le=1024, description="With --engine ray: CPUs Ray reserves for each replica."
    )
    ray_gpus_per_replica: float = Field(
        default=0.0,
        ge=0,
        le=64,
        description="With --engine ray: GPUs Ray gives each replica (1 on GPU nodes; a fraction shares one).",
    )
    ray_max_batch: int = Field(
        default=8,
        ge=1,
        le=1024,
        description="With --engine ray: same-model requests a replica serves in one batch, at most.",
    )
    ray_batch_wait: float = Field(
        default=0.01,
        ge=0,
        le=10,
        description="With --engine ray: seconds a replica waits for a batch to fill.",
    )
    ray_max_queued: int = Field(
        default=64,
        ge=1,
        le=100_000,
        description="With --engine ray: requests waiting for a model's replicas at most; more are refused as busy.",
    )
    ray_start_timeout: float = Field(
        default=180.0,
        gt=0,
        le=3600,
        description="With --engine ray: seconds a model's replicas may take to start (load their weights) before its requests fail.",
    )
    ray_keep_deployments: bool = Field(
        default=False,
        description="With --engine ray: leave the model deployments this server started running when it stops (for other servers sharing the cluster).",
    )
    ray_in_flight: int = Field(
        default=32,
        ge=1,
        le=10_000,
        description="With --engine ray: requests this server has on the cluster at once; the rest wait in its queue.",
    )
    preload: list[str] = Field(
        default=[],
        description="Model to load at start, so the first request does not wait for its weights; repeat for several.",
    )
    queue_size: int = Field(
        default=64, ge=1, le=10_000, description="Jobs waiting at most; more are refused as busy."
    )
    timeout: float = Field(default=120.0, gt=0, le=3600, description="Default seconds a job may run.")
    finished_jobs_seconds: float = Field(
        default=3600.0, gt=0, description="Seconds a finished job's result is kept for clients to fetch."
    )
    finished_jobs_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1024 * 1024,
        description="Memory finished jobs may hold (about 600 bytes a note); past it the oldest are forgotten.",
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="Largest request body accepted."
    )
    max_notes: int = Field(default=MAX_NOTES, ge=1, description="Largest score (in notes) accepted.")
    allowed_dirs: list[Path] = Field(
        default=[],
        description="Folder requests may read scores from and write results to; repeat for several.",
        json_schema_extra={"flag": "--allow-dir", "path": "existing_dir"},
    )
    config_file: Path | None = Field(
        default=None,
        exclude=True,
        description="TOML file with any of these settings (flags and SCOREHOST_* variables override it).",
        json_schema_extra={"flag": "--config", "path": "file"},
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = init_settings.init_kwargs.get("config_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config:
            if not Path(config).is_file():
                raise ScorehostError(f"config file {config} not found")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    @classmethod
    def with_bridges(cls, bridges: Iterable[Bridge]) -> type[Settings]:
        """These settings and those each bridge declares, as one class (the same class for the
        same bridges, so pydantic builds it once)."""
        return _with_fields(tuple((b.name, settings_model_of(b)) for b in bridges))

    def check_safe(self) -> None:
        """Refuse to listen beyond this machine without a token."""
        if not is_loopback(self.host) and not self.token:
            raise ScorehostError(
                f"binding {self.host} exposes the server to the network; set a token (--token or SCOREHOST_TOKEN)"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_model_of(bridge: Bridge) -> type[BaseModel]:
    """What a bridge declares; a bridge that is not a Bridge subclass (the hook asks only for
    name, description, start and stop) declares nothing."""
    from .bridge import BridgeSettings

    return getattr(bridge, "settings_model", BridgeSettings)


def bridge_fields(bridge: str, model: type[BaseModel], taken: Iterable[str] = ()) -> dict[str, FieldInfo]:
    """The settings a bridge declares; a TypeError names one that is not the bridge's own (it
    must begin with the bridge's name) or that another part already declares."""
    prefix = bridge.replace("-", "_") + "_"
    taken = set(taken) | set(Settings.model_fields)
    for name in model.model_fields:
        if not name.startswith(prefix):
            raise TypeError(f"bridge {bridge!r}: its setting {name!r} must begin with {prefix!r}")
        if name in taken:
            raise TypeError(f"bridge {bridge!r}: setting {name!r} is declared already")
        if model.model_fields[name].is_required():
            # settings of every installed bridge are read, started or not: none may be required
            raise TypeError(f"bridge {bridge!r}: setting {name!r} needs a default")
    return dict(model.model_fields)


@lru_cache(maxsize=32)
def _with_fields(bridges: tuple[tuple[str, type[BaseModel]], ...]) -> type[Settings]:
    fields: dict[str, Any] = {}
    for name, model in bridges:
        declared = bridge_fields(name, model, fields)
        # a copy: pydantic may change a FieldInfo it builds a model with
        fields |= {field: (info.annotation, copy.copy(info)) for field, info in declared.items()}
    if not fields:
        return Settings
    return create_model("Settings", __base__=Settings, __module__=__name__, **fields)
