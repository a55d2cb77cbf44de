"""Who may use the web app: users with roles and argon2 password hashes in a users file
outside the repository (``[web] users_file`` or ``JOBPUB_USERS_FILE``), or one token from
``JOBPUB_WEB_TOKEN`` for a one-person setup; signed sessions; CSRF tokens; login attempts
rate-limited per client address."""

from __future__ import annotations

import hmac
import os
import re
import secrets
import time
import tomllib
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from publisher.errors import ConfigError

__all__ = ["ROLES", "LoginLimiter", "User", "Users", "add_user"]

ROLES = ("recruiter", "approver")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    name: str
    role: str
    email: str = ""

    @property
    def author(self) -> str:
        """As git writes an author (a user without an e-mail gets a non-routable one)."""
        return f"{self.name} <{self.email or self.name + '@users.jobpub.invalid'}>"


class Users:
    """The users file (TOML, ``[[user]]`` name / role / hash) and the optional token."""

    def __init__(self, path: Path | None, token: str | None = None) -> None:
        self.path, self.token = path, token
        self._users: dict[str, tuple[str, str, str]] = {}
        if path is not None and path.exists():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"cannot read the users file: {exc}", str(path)) from None
            for row in data.get("user", []):
                self._users[str(row["name"])] = (str(row["role"]), str(row["hash"]),
                                                 str(row.get("email", "")))

    @property
    def empty(self) -> bool:
        return not self._users and not self.token

    def check(self, name: str, password: str) -> User | None:
        """The user these credentials are, or None (the same work either way)."""
        if self.token and hmac.compare_digest(password.encode(), self.token.encode()):
            return User(name or "admin", "approver")
        role, stored, email = self._users.get(name, ("", "", ""))
        try:
            _hasher.verify(stored or _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, role, email) if stored else None

    def get(self, name: str) -> User:
        """``name`` as the users file has it now (a removed user keeps only the name)."""
        role, _, email = self._users.get(name, ("", "", ""))
        return User(name, role, email)


_NAME = re.compile(r"[\w.-]{1,64}")
_EMAIL = re.compile(r"[^\s<>\"@]+@[^\s<>\"@]+")
_DUMMY = _hasher.hash(secrets.token_hex(8))  # verified against for unknown names


def add_user(path: Path, name: str, role: str, password: str, email: str = "") -> None:
    """Add or replace ``name`` in the users file (written with owner-only permissions)."""
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}")
    rows: list[dict[str, str]] = []
    if path.exists():
        rows = [r for r in tomllib.loads(path.read_text(encoding="utf-8")).get("user", [])
                if r.get("name") != name]
    if not _NAME.fullmatch(name) or (email and not _EMAIL.fullmatch(email)):
        raise ConfigError("a user name is letters, digits, '.', '_' or '-'; an e-mail is "
                          "name@domain")
    rows.append({"name": name, "role": role, "hash": _hasher.hash(password), "email": email})
    text = "".join(f'[[user]]\nname = "{r["name"]}"\nrole = "{r["role"]}"\n'
                   + (f'email = "{r["email"]}"\n' if r.get("email") else "")
                   + f'hash = "{r["hash"]}"\n\n' for r in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


class LoginLimiter:
    """At most ``attempts`` failed logins per client in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 60.0) -> None:
        self.attempts, self.window = attempts, window
        self._failed: dict[str, deque[float]] = defaultdict(deque)

    def allowed(self, client: str) -> bool:
        recent = self._failed[client]
        while recent and recent[0] < time.monotonic() - self.window:
            recent.popleft()
        return len(recent) < self.attempts

    def failed(self, client: str) -> None:
        self._failed[client].append(time.monotonic())
