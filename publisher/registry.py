"""The board registry: every board jobpub can publish to, loaded once.

Boards are plug-ins: a package declares its adapters in the ``jobpub.boards`` entry-point
group (name = the board's name, value = ``module:AdapterClass``), as jobpub declares its own
in ``pyproject.toml``; installing the package adds its boards. This is the only module of
the core that loads adapters; everything else asks :func:`boards`.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime, timedelta
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from publisher.adapter import BoardAdapter
from publisher.errors import ConfigError

if TYPE_CHECKING:
    from publisher.adapter import ClientSource
    from publisher.config import Config

__all__ = ["GROUP", "Adapters", "Board", "board_hint", "boards"]

GROUP = "jobpub.boards"


#: A board plug-in as the core sees it: its adapter class (the contract is declared once,
#: by :class:`publisher.adapter.BoardAdapter`; everything else the core asks of a board goes
#: through the adapter the class makes).
Board: TypeAlias = type[BoardAdapter[Any]]


class _Boards(MutableMapping[str, Board]):
    """Board name -> adapter class, sorted by name. A board's module is imported when the
    board is first asked for: a ``validate`` of postings for two boards loads those two
    (the 13 shipped boards' modules take 12-17 ms to import, a pre-commit hook pays it per
    commit). A broken plug-in is an error when its board is asked for (or listed). A board
    may be set in code too (a test's fake board)."""

    def __init__(self, points: Iterable[EntryPoint]) -> None:
        self._points = {point.name: point for point in points}  # (a later one of a name wins)
        self._classes: dict[str, Board] = {}

    def __getitem__(self, name: str) -> Board:
        cls = self._classes.get(name)
        if cls is None:  # (two threads may load it at once: the module is imported once)
            cls = self._classes[name] = _load(self._points[name])
            self._points.pop(name, None)
        return cls

    def __setitem__(self, name: str, cls: Board) -> None:
        self._classes[name] = cls
        self._points.pop(name, None)

    def __delitem__(self, name: str) -> None:
        if self._classes.pop(name, None) is None:
            del self._points[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._classes.keys() | self._points.keys()))

    def __len__(self) -> int:
        return len(self._classes.keys() | self._points.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._classes or name in self._points


def _load(point: EntryPoint) -> Board:
    try:
        cls = point.load()
    except Exception as exc:  # a broken plug-in names itself, never a traceback
        raise ConfigError(
            f"board plug-in {point.name} ({point.value}) cannot be "
            f"loaded: {type(exc).__name__}: {exc}"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, BoardAdapter)) or cls.name != point.name:
        raise ConfigError(
            f"board plug-in {point.name} ({point.value}) is not a "
            f"board adapter named '{point.name}'"
        )
    return cls


_loaded: MutableMapping[str, Board] | None = None


def boards() -> MutableMapping[str, Board]:
    """Board name -> its adapter class, sorted by name (the same mapping on every call)."""
    global _loaded
    if _loaded is None:
        _loaded = _Boards(list(entry_points(group=GROUP)) or _declared())
    return _loaded


def _declared() -> list[EntryPoint]:
    """The entry points a source tree that was never installed declares in its
    ``pyproject.toml`` (beside the ``publisher`` package); none when there is none."""
    path = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return []
    declared = project.get("entry-points", {}).get(GROUP, {})
    return [EntryPoint(name, value, GROUP) for name, value in sorted(declared.items())]


def board_hint(name: str) -> str:
    """What to say about an unknown board name: the closest board, else every board."""
    from publisher.problems import did_you_mean

    close = did_you_mean(name, boards())
    return f"did you mean '{close}'?" if close else f"known boards: {', '.join(boards())}"


class Adapters:
    """The one place adapters are built, with the one cache: per board, and per distinct
    set of a posting's overrides (merged over the board's config table).

    ``client_for(board)`` gives what the adapter calls the board with (the engine's client
    factory; none for validate and preview).
    """

    def __init__(
        self,
        config: Config,
        client_for: Callable[[str], ClientSource] | None = None,
        registry: Mapping[str, Board] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config, self.client_for, self.clock = config, client_for, clock
        self.registry = registry if registry is not None else boards()
        self._built: dict[tuple[str, str], BoardAdapter[Any]] = {}

    def get(self, name: str, overrides: Mapping[str, Any] | None = None) -> BoardAdapter[Any]:
        """Board ``name``'s adapter; ConfigError for an unknown board or bad settings."""
        key = (
            name,
            json.dumps(dict(overrides), sort_keys=True, default=str) if overrides else "{}",
        )
        adapter = self._built.get(key)
        if adapter is None:
            if name not in self.registry:
                raise ConfigError(
                    f"unknown board '{name}' (known boards: {', '.join(sorted(self.registry))})"
                )
            client = self.client_for(name) if self.client_for else None
            site = self.config.site.model_copy(
                update={
                    "name": self.config.site.name
                    or (self.config.company.name if self.config.company else None)
                }
            )
            adapter = self.registry[name].make(
                {**self.config.boards.get(name, {}), **(overrides or {})},
                client,
                self.clock,
                site=site,
                default_duration=timedelta(days=self.config.default_duration_days),
            )
            self._built[key] = adapter
        return adapter
