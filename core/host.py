"""The pluggy host: built-in plugins, third-party plugins from the 'scorehost' entry-point group,
and the models and bridges they register.

SCOREHOST_PLUGINS limits which third-party plugins load: unset loads all of them, an empty
value loads the built-ins only, and a comma-separated list loads those entry-point names.
"""

from __future__ import annotations

import importlib
import logging
import os
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from . import hookspecs
from .errors import UnknownModel
from .model import Model

if TYPE_CHECKING:
    from .bridge import Bridge
    from .settings import Settings

T = TypeVar("T")

log = logging.getLogger(__name__)

DEFAULT_PLUGINS: tuple[str, ...] = (
    "scorehost.plugins.deepbach",
    "scorehost.plugins.mmm",
    "scorehost.bridges.http",
    "scorehost.bridges.musescore",
    "scorehost.bridges.osc",
    "scorehost.bridges.midi",
)
ENTRY_POINT_GROUP = "scorehost"
ENV_VAR = "SCOREHOST_PLUGINS"


class Host:
    def __init__(self, builtins: tuple[str, ...] = DEFAULT_PLUGINS, env: dict[str, str] | None = None):
        self.pm = pluggy.PluginManager("scorehost")
        self.pm.add_hookspecs(hookspecs)
        self.broken: dict[str, str] = {}  # plugin name -> why it failed to load
        self._models: dict[str, Model] | None = None
        self._bridges: dict[str, Any] | None = None
        for module_name in builtins:
            self._register_module(module_name, module_name)
        self._load_entry_points(os.environ if env is None else env)

    def _register_module(self, name: str, module_name: str) -> None:
        try:
            module = importlib.import_module(module_name)
            self.pm.register(module, name=name)
        except Exception as exc:  # a broken plugin must not take the host down
            log.warning("plugin %s failed to load: %s", name, exc)
            self.broken[name] = f"{type(exc).__name__}: {exc}"

    def _load_entry_points(self, env) -> None:
        allowed = env.get(ENV_VAR)
        names = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if names is not None and ep.name not in names:
                continue
            if self.pm.get_plugin(ep.name) is not None:
                continue
            try:
                self.pm.register(ep.load(), name=ep.name)
            except Exception as exc:
                log.warning("plugin %s failed to load: %s", ep.name, exc)
                self.broken[ep.name] = f"{type(exc).__name__}: {exc}"

    # ---- plugins --------------------------------------------------------------------------

    def plugins(self) -> list[dict[str, Any]]:
        listed = []
        for plugin in self.pm.get_plugins():
            name = self.pm.get_name(plugin)
            dist = next((d for p, d in self.pm.list_plugin_distinfo() if p is plugin), None)
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            listed.append(
                {
                    "name": name,
                    "version": dist.version if dist is not None else scorehost_version(),
                    "hooks": hooks,
                    "builtin": name in DEFAULT_PLUGINS,
                }
                | ({"error": self.broken[name]} if name in self.broken else {})
            )
        registered = {p["name"] for p in listed}
        listed += [
            {"name": n, "error": why, "hooks": []} for n, why in self.broken.items() if n not in registered
        ]
        return sorted(listed, key=lambda p: p["name"])

    # ---- models ---------------------------------------------------------------------------

    def models(self) -> dict[str, Model]:
        if self._models is None:
            found: dict[str, Model] = {}

            def register(model: Model) -> None:
                if not isinstance(model, Model) or not model.model_id:
                    raise TypeError(f"register() takes a Model with a model_id, not {model!r}")
                if model.model_id in found:
                    log.warning("model %s registered twice; keeping the first", model.model_id)
                    return
                found[model.model_id] = model

            self._call_each("register_models", register=register)
            self._models = found
        return self._models

    def model(self, model_id: str) -> Model:
        models = self.models()
        if model_id not in models:
            known = ", ".join(sorted(models)) or "none"
            raise UnknownModel(f"unknown model {model_id!r} (available: {known})", "model")
        return models[model_id]

    # ---- bridges --------------------------------------------------------------------------

    def bridges(self) -> dict[str, Bridge]:
        if self._bridges is None:
            from .settings import bridge_fields, settings_model_of

            found: dict[str, Bridge] = {}
            declared: set[str] = set()

            def register(bridge: Bridge) -> None:
                if bridge.name in found:
                    log.warning("bridge %s registered twice; keeping the first", bridge.name)
                    return
                # its settings must be its own, so a bridge cannot take over another's flags
                declared.update(bridge_fields(bridge.name, settings_model_of(bridge), declared))
                found[bridge.name] = bridge

            self._call_each("register_bridges", register=register)
            self._bridges = found
        return self._bridges

    def bridges_offering(self, capability: type[T]) -> list[T]:
        """The registered bridges that offer a capability (a Protocol of core.bridge, such as
        LiveFill), so bridges find each other by what they do, not by name."""
        return [b for b in self.bridges().values() if isinstance(b, capability)]

    def settings_class(self) -> type[Settings]:
        """The server's settings with those of every registered bridge."""
        from .settings import Settings

        return Settings.with_bridges(self.bridges().values())

    def _call_each(self, hook_name: str, **kwargs) -> None:
        """Call a hook plugin by plugin, in registration order, so built-ins claim ids first;
        a plugin that raises is reported as broken and the others still register."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                # As pluggy does: an implementation takes only the arguments it names, so hooks
                # can gain arguments without breaking older plugins.
                impl.function(**{name: kwargs[name] for name in impl.argnames if name in kwargs})
            except Exception as exc:
                log.warning("plugin %s failed in %s: %s", impl.plugin_name, hook_name, exc)
                self.broken[impl.plugin_name] = f"{hook_name}: {type(exc).__name__}: {exc}"


def scorehost_version() -> str:
    """The installed scorehost's version (built-in plugins have it as theirs)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scorehost")
    except PackageNotFoundError:
        return "unknown"
