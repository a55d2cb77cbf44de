"""Who may use the web app: users with roles and argon2 password hashes in a users file
outside the repository (``[web] users_file`` or ``JOBPUB_USERS_FILE``), or one token from
``JOBPUB_WEB_TOKEN`` for a one-person setup; signed sessions; CSRF tokens; login attempts
rate-limited per client address."""

from __future__ import annotations

import hmac
import re
import secrets
import time
import tomllib
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from publisher.errors import ConfigError

__all__ = [
    "ROLES",
    "LoginLimiter",
    "User",
    "Users",
    "add_user",
    "client_address",
    "end_sessions",
    "remove_user",
    "set_password",
]

ROLES = ("recruiter", "approver")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    name: str
    role: str
    email: str = ""
    #: Which sessions of this user are valid: ``u<n>`` for a user of the users file (its
    #: session generation), ``t<n>`` for the token (the ledger keeps its generation).
    session: str = ""

    @property
    def author(self) -> str:
        """As git writes an author (a user without an e-mail gets a non-routable one)."""
        return f"{self.name} <{self.email or self.name + '@users.jobpub.invalid'}>"


class Users:
    """The users file (TOML, ``[[user]]`` name / role / hash / e-mail / session) and the
    optional token. The file is read again whenever it changed on disk, so a user removed,
    demoted or given a new password by ``jobpub users`` loses every earlier session at once,
    in a running ``jobpub serve`` too."""

    def __init__(self, path: Path | None, token: str | None = None) -> None:
        self.path, self.token = path, token
        self._users: dict[str, tuple[str, str, str, int]] = {}
        self._stamp: tuple[int, int, int] | None = None
        self.refresh()

    def refresh(self) -> None:
        """Read the users file again if it changed since it was read."""
        if self.path is None:
            return
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._users, self._stamp = {}, None
            return
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._stamp:
            return
        self._users = {
            str(r["name"]): (
                str(r["role"]),
                str(r["hash"]),
                str(r.get("email", "")),
                int(r.get("session", 0)),
            )
            for r in _rows(self.path)
        }
        self._stamp = stamp

    @property
    def empty(self) -> bool:
        return not self._users and not self.token

    def check(self, name: str, password: str, token_session: int = 0) -> User | None:
        """The user these credentials are, or None (the same work either way);
        ``token_session``: the token's session generation."""
        if self.token and hmac.compare_digest(password.encode(), self.token.encode()):
            return User(name or "admin", "approver", session=f"t{token_session}")
        self.refresh()
        role, stored, email, session = self._users.get(name, ("", "", "", 0))
        try:
            _hasher.verify(stored or _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, role, email, f"u{session}") if stored else None

    def valid(self, name: str, session: str, token_session: int = 0) -> bool:
        """Whether a session of ``name`` marked ``session`` still stands: the user is still
        in the file with the same generation (or it is the token's current one)."""
        if session.startswith("t"):
            return bool(self.token) and session == f"t{token_session}"
        self.refresh()
        found = self._users.get(name)
        return found is not None and session == f"u{found[3]}"

    def get(self, name: str) -> User:
        """``name`` as the users file has it now (a removed user keeps only the name)."""
        self.refresh()
        role, _, email, _ = self._users.get(name, ("", "", "", 0))
        return User(name, role, email)

    def names(self) -> list[tuple[str, str]]:
        self.refresh()
        return sorted((name, row[0]) for name, row in self._users.items())


_NAME = re.compile(r"[\w.-]{1,64}")
_EMAIL = re.compile(r"[^\s<>\"@]+@[^\s<>\"@]+")
_DUMMY = _hasher.hash(secrets.token_hex(8))  # verified against for unknown names


def _rows(path: Path) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the users file: {exc}", str(path)) from None
    rows = data.get("user", [])
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and "name" in r and "role" in r and "hash" in r for r in rows
    ):
        raise ConfigError("every [[user]] needs a name, a role and a hash", str(path))
    return rows


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    """The users file, written by a TOML writer (any value round-trips), atomically, and
    owner-only (0600, whatever mode the old file had)."""
    import tomli_w

    from publisher.files import write_atomic

    write_atomic(path, tomli_w.dumps({"user": rows}).encode("utf-8"), mode=0o600)


def _change(path: Path, name: str, change: Any) -> None:
    rows = _rows(path)
    found = [r for r in rows if r.get("name") == name]
    if not found:
        raise ConfigError(f"no user '{name}' in {path}")
    change(found[0])
    found[0]["session"] = int(found[0].get("session", 0)) + 1  # earlier sessions end
    _write(path, rows)


def add_user(path: Path, name: str, role: str, password: str, email: str = "") -> None:
    """Add or replace ``name`` in the users file (a replaced user's sessions end)."""
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}")
    if not _NAME.fullmatch(name) or (email and not _EMAIL.fullmatch(email)):
        raise ConfigError(
            "a user name is letters, digits, '.', '_' or '-'; an e-mail is name@domain"
        )
    rows = _rows(path)
    old = next((r for r in rows if r.get("name") == name), None)
    row: dict[str, Any] = {
        "name": name,
        "role": role,
        "hash": _hasher.hash(password),
        "session": int(old.get("session", 0)) + 1 if old else 0,
    }
    if email:
        row["email"] = email
    _write(path, [r for r in rows if r.get("name") != name] + [row])


def remove_user(path: Path, name: str) -> None:
    """Take ``name`` out of the users file: its sessions end at once."""
    rows = _rows(path)
    if not any(r.get("name") == name for r in rows):
        raise ConfigError(f"no user '{name}' in {path}")
    _write(path, [r for r in rows if r.get("name") != name])


def set_password(path: Path, name: str, password: str) -> None:
    """A new password for ``name``: its earlier sessions end."""
    _change(path, name, lambda row: row.update(hash=_hasher.hash(password)))


def end_sessions(path: Path, name: str) -> None:
    """End every session of ``name`` (logging out ends them on every device)."""
    _change(path, name, lambda row: None)


class LoginLimiter:
    """Failed logins, counted two ways. Per client address: at most ``attempts`` in
    ``window`` seconds, then that address waits (other addresses, and so other users behind
    the same trusted proxy, do not). Per user name: each failure makes the next attempt for
    that name wait longer (0.5 s, doubling, at most ``max_delay``), which slows a guesser
    without locking the user out, whoever sends the guesses."""

    def __init__(self, attempts: int = 5, window: float = 60.0, max_delay: float = 8.0) -> None:
        self.attempts, self.window, self.max_delay = attempts, window, max_delay
        self._failed: dict[str, deque[float]] = defaultdict(deque)
        self._misses: dict[str, int] = defaultdict(int)

    def allowed(self, client: str) -> bool:
        recent = self._failed[client]
        while recent and recent[0] < time.monotonic() - self.window:
            recent.popleft()
        return len(recent) < self.attempts

    def delay(self, name: str) -> float:
        """Seconds the next attempt for ``name`` waits before it is checked."""
        misses = self._misses.get(name, 0)
        return 0.0 if not misses else min(self.max_delay, 0.5 * 2 ** (misses - 1))

    def failed(self, client: str, name: str = "") -> None:
        self._failed[client].append(time.monotonic())
        self._misses[name] += 1

    def succeeded(self, name: str) -> None:
        self._misses.pop(name, None)


def client_address(peer: str | None, forwarded: str | None, trusted: list[str]) -> str:
    """Who is asking: the socket's peer, or — when the peer is a trusted proxy — the last
    address in X-Forwarded-For that is not a trusted proxy (what a client writes into the
    header itself stands to the left of what the proxies add, and is never taken)."""
    import ipaddress

    networks = [ipaddress.ip_network(item, strict=False) for item in trusted]

    def is_trusted(address: str) -> bool:
        try:
            found = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(found in network for network in networks)

    if not peer or not forwarded or not is_trusted(peer):
        return peer or "?"
    for address in reversed([a.strip() for a in forwarded.split(",") if a.strip()]):
        if not is_trusted(address):
            return address
    return peer
