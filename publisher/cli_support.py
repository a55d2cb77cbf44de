"""What every command module shares: the group's state (the config, read once) and the
decorator that turns typed errors into a one-line message and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from publisher.config import Config, load_config
from publisher.errors import ConfigError, PublisherError, UsageError

__all__ = ["State", "handle_errors", "pass_state", "pipe_closed"]

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    from publisher.redact import redact

    click.echo(f"jobpub: {redact(message)}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn typed errors into a one-line message and an exit code, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConfigError, UsageError) as exc:
            _fail(str(exc), 2)
        except PublisherError as exc:
            _fail(str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except BrokenPipeError:
            pipe_closed()
        except Exception as exc:
            if os.environ.get("JOBPUB_DEBUG"):
                raise
            ledger_problem = _ledger_error(exc)
            if ledger_problem:  # the database went away or refused: nothing else is wrong
                _fail(f"ledger: {ledger_problem} (nothing recorded is lost; run again)", 1)
            _fail(
                f"internal error: {type(exc).__name__}: {exc} (set JOBPUB_DEBUG=1 for a traceback)",
                3,
            )
        return None

    return wrapper  # type: ignore[return-value]


def pipe_closed() -> None:
    """The reader went away (``jobpub status | head -1``): normal, so exit quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # nothing more to flush at exit
    sys.exit(0)


def _ledger_error(exc: Exception) -> str | None:
    """The first line of a database error's reason (SQLAlchemy's wording, no URL)."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, sa_exc.SQLAlchemyError):
        return None
    reason = getattr(exc, "orig", None) or exc
    return (str(reason).strip().splitlines() or [type(exc).__name__])[0]


class State:
    """What the group passes to its commands."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


pass_state = click.make_pass_decorator(State)
