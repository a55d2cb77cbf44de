"""The board registry: every board jobpub can publish to, loaded once.

Boards are plug-ins: a package declares its adapters in the ``jobpub.boards`` entry-point
group (name = the board's name, value = ``module:AdapterClass``), as jobpub declares its own
in ``pyproject.toml``; installing the package adds its boards. This is the only module of
the core that loads adapters; everything else asks :func:`boards`.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from publisher.adapter import BoardAdapter
from publisher.errors import ConfigError

__all__ = ["GROUP", "boards"]

GROUP = "jobpub.boards"

_loaded: dict[str, type[BoardAdapter[Any]]] | None = None


def boards() -> dict[str, type[BoardAdapter[Any]]]:
    """Board name -> adapter class, sorted by name (the same dict on every call)."""
    global _loaded
    if _loaded is None:
        found: dict[str, type[BoardAdapter[Any]]] = {}
        for point in entry_points(group=GROUP):
            try:
                cls = point.load()
            except Exception as exc:  # a broken plug-in names itself, never a traceback
                raise ConfigError(f"board plug-in {point.name} ({point.value}) cannot be "
                                  f"loaded: {type(exc).__name__}: {exc}") from None
            if not (isinstance(cls, type) and issubclass(cls, BoardAdapter)) \
                    or cls.name != point.name:
                raise ConfigError(f"board plug-in {point.name} ({point.value}) is not a "
                                  f"board adapter named '{point.name}'")
            found[point.name] = cls
        if not found:  # running from a source tree that was never installed
            from adapters import ADAPTERS

            found = dict(ADAPTERS)
        _loaded = dict(sorted(found.items()))
    return _loaded
