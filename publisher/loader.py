"""Loading posting files: fast, strict YAML with positions on demand.

Most files are read by yaml_rs (:mod:`publisher.fast_yaml`), which gives the same values;
the rest, and every file it refuses, by libyaml (PyYAML's C parser) with a YAML 1.2
core-schema resolver, whose values and messages are the contract: only
``true``/``false`` are booleans, ``NO`` and ``yes`` stay strings, ``012345`` is not octal and
unquoted dates stay strings for the schema to parse. Only plain YAML types are constructed;
any other tag (``!!python/object``, ``!!binary``, ``!custom``) is refused, as are duplicate
keys, files over :data:`MAX_BYTES`, non-UTF-8 bytes and alias expansion past
:data:`MAX_NODES` (a "billion laughs" bomb).

Line and column numbers come from the node tree the file was composed into by libyaml (kept
by :func:`load_document`, or composed when first asked): :class:`Locator` walks a pydantic
``loc`` through it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import BaseConstructor, ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from publisher.fast_yaml import DECLINED, fast_load

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "LoadError",
    "Locator",
    "load_document",
    "load_text",
    "read_text",
]

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml: ~5x slower

    class _Parser(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)


class LoadError(Exception):
    """The file cannot be loaded as a posting: reported under ``yaml-syntax``."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class _Resolver(BaseResolver):
    """YAML 1.2 core schema resolution."""


for _tag, _regexp, _first in [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
]:
    _Resolver.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regexp), list(_first))


class _Constructor(BaseConstructor):
    """Builds only str, int, float, bool, null, lists and dicts; refuses duplicate keys."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        value = str(self.construct_scalar(node)).replace("_", "")
        try:
            if value.startswith("0o"):
                return int(value[2:], 8)
            return int(value, 16) if value.startswith("0x") else int(value, 10)
        except ValueError:
            raise ConstructorError(
                None, None, f"{value!r} is not an integer", node.start_mark
            ) from None

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            raise ConstructorError(
                None, None, f"expected a mapping, found {type(node).__name__}", node.start_mark
            )
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found an unhashable key",
                    key_node.start_mark,
                )
            if key in mapping:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _checked(method: Any, kind: str) -> Any:
    """A scalar constructor whose bad input (``!!float x``, ``!!bool maybe``) is a
    ConstructorError at the value, not a ValueError from deep inside PyYAML."""

    def construct(self: BaseConstructor, node: Node) -> Any:
        try:
            return method(self, node)
        except (ValueError, KeyError, TypeError):
            value = node.value if isinstance(node, ScalarNode) else type(node).__name__
            raise ConstructorError(
                None,
                None,
                f"{value!r} is not a {kind} (explicit tag "
                f"{node.tag.replace('tag:yaml.org,2002:', '!!')})",
                node.start_mark,
            ) from None

    return construct


for _tag, _method in [
    ("null", SafeConstructor.construct_yaml_null),
    ("bool", _checked(SafeConstructor.construct_yaml_bool, "boolean (true or false)")),
    ("int", _Constructor.construct_yaml_int),
    ("float", _checked(SafeConstructor.construct_yaml_float, "number")),
    ("str", SafeConstructor.construct_yaml_str),
    ("seq", SafeConstructor.construct_yaml_seq),
    ("map", SafeConstructor.construct_yaml_map),
]:
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _method)
_Constructor.add_constructor(None, SafeConstructor.construct_undefined)  # type: ignore[type-var]
# construct_yaml_bool/float look these tables up on self
_Constructor.bool_values = SafeConstructor.bool_values  # type: ignore[attr-defined]
_Constructor.inf_value = SafeConstructor.inf_value  # type: ignore[attr-defined]
_Constructor.nan_value = SafeConstructor.nan_value  # type: ignore[attr-defined]


class _Loader(_Parser, _Constructor, _Resolver):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


class _Composer(_Parser):
    """Composes the node tree for positions only: no tags resolved (2.5x faster)."""

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        return ""

    def descend_resolver(self, current_node: Node | None, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def read_text(path: Path) -> str:
    """Read a posting file as UTF-8 text, refusing large or non-UTF-8 files."""
    try:
        with path.open("rb") as handle:
            # Sized by the file (read(MAX_BYTES + 1) would allocate a megabyte per file);
            # what the size cannot tell (a pipe, a growing file) is read up to the limit.
            size = os.fstat(handle.fileno()).st_size
            raw = handle.read(size + 1 if 0 < size <= MAX_BYTES else MAX_BYTES + 1)
            if len(raw) == size + 1:
                raw += handle.read(MAX_BYTES - size)
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise LoadError(f"file is larger than {MAX_BYTES // 1024} KiB; refusing to parse it", 1, 1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LoadError(
            f"file is not UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8", line, column
        ) from None


def _mark_error(exc: yaml.YAMLError, text: str) -> LoadError:
    if isinstance(exc, yaml.reader.ReaderError):
        index = min(exc.position, len(text))
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        return LoadError(
            f"character {exc.character!r} is not allowed in YAML "
            "(control characters and binary data are refused)",
            line,
            column,
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context else str(problem)
    if isinstance(exc, ConstructorError) and "could not determine a constructor" in message:
        message = message.replace(
            "could not determine a constructor for the tag", "tag not allowed:"
        )
    message = message.replace("\n", " ")
    if mark is None:
        return LoadError(message)
    return LoadError(message, mark.line + 1, mark.column + 1)


def load_text(text: str) -> Any:
    """Parse one YAML document; refuse alias bombs and overly deep nesting."""
    return load_document(text)[0]


def load_document(text: str, fast: bool = True) -> tuple[Any, Node | None]:
    """:func:`load_text`, also returning the composed node tree (for :class:`Locator`: the
    positions of a file's problems then cost no second parse), or ``None`` for a file that
    went the fast way (:mod:`publisher.fast_yaml`: the locator composes it if asked).
    ``fast=False``: PyYAML only."""
    large = _may_be_large(text)
    if fast and not large:
        data = fast_load(text)
        if data is not DECLINED:
            return data, None
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise _mark_error(exc, text) from None
    except RecursionError:
        raise LoadError(f"nesting deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    problem = _check_size(data) if large else None
    if problem is not None:
        line, column = Locator(text, root).first_oversized()
        raise LoadError(problem, line, column)
    return data, root


# Cheap text checks that decide whether the (slower) node-count walk is needed: expansion
# needs an anchor, and nesting past MAX_DEPTH needs many brackets, deep indentation or a
# long run of block-sequence dashes.
# Each pattern starts with a literal, which the regex engine finds fast; one starting with
# an alternation or a repeated group is tried at every character (~80-100 µs a posting,
# paid by every file with an "&" or 32 dashes — list items, dates and ids soon make them).
_ANCHOR = re.compile(r"&(?<![^\s\[{,:-]&)[^\s&]")  # & after a space, a flow sign or ^
_DEEP_INDENT = re.compile(rf"^ {{{MAX_DEPTH},}}\S", re.MULTILINE)
_DEEP_DASHES = re.compile(rf"-[ \t]+(?:-[ \t]+){{{MAX_DEPTH // 2 - 1},}}")


def _may_be_large(text: str) -> bool:
    brackets = text.count("[") + text.count("{")
    return (
        brackets >= MAX_DEPTH
        or ("&" in text and _ANCHOR.search(text) is not None)
        or (" " * MAX_DEPTH in text and _DEEP_INDENT.search(text) is not None)
        or (text.count("-") >= MAX_DEPTH // 2 and _DEEP_DASHES.search(text) is not None)
    )


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    return value if isinstance(value, list) else []


def _check_size(root: Any) -> str | None:
    """Count nodes as if every alias were expanded, without expanding anything."""
    size: dict[int, int] = {}
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    on_path: set[int] = set()
    while stack:
        value, depth, done = stack.pop()
        if not isinstance(value, dict | list):
            continue
        key = id(value)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size.get(id(c), 1) for c in _children(value))
            if size[key] > MAX_NODES:
                return (
                    f"alias expansion exceeds {MAX_NODES:,} nodes (a 'billion laughs' "
                    "bomb?); refusing the file"
                )
            continue
        if key in on_path:
            return "recursive alias: a node contains itself"
        if key in size:
            continue
        if depth > MAX_DEPTH:
            return f"nesting deeper than {MAX_DEPTH} levels"
        on_path.add(key)
        stack.append((value, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(value))
    return None


@dataclass(frozen=True)
class Position:
    """A 1-based line and column."""

    line: int
    column: int


class Locator:
    """Finds the position of a pydantic ``loc`` (or a text inside a value) in a YAML file."""

    def __init__(
        self, text: str, root: Node | None = None, keys: Sequence[str] | None = None
    ) -> None:
        """``keys``: the top-level keys of the file as loaded, in order, for a file loaded
        without a node tree: a position under one of them then composes only its lines."""
        self.text = text
        self._root = root
        self._composed = root is not None
        self._keys = keys
        self._starts: list[int] | None = None
        self._lines: list[str] = []
        self._sections: dict[str, tuple[int, Locator] | None] = {}

    @property
    def root(self) -> Node | None:
        if not self._composed:
            self._composed = True
            self._root = _compose(self.text)
        return self._root

    def _walk(self, loc: tuple[str | int, ...]) -> tuple[Node | None, Node | None]:
        """Return (key node, value node) of the deepest node on ``loc`` that exists."""
        key_node: Node | None = None
        node = self.root
        for part in loc:
            if isinstance(node, MappingNode):
                found = next(
                    (
                        (k, v)
                        for k, v in node.value
                        if isinstance(k, ScalarNode) and k.value == str(part)
                    ),
                    None,
                )
                if found is None:
                    if part == "[key]":
                        return key_node, None
                    return key_node, node
                key_node, node = found
            elif isinstance(node, SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    return key_node, node
                key_node, node = None, node.value[part]
            else:
                break
        return key_node, node

    def position(
        self, loc: tuple[str | int, ...], needle: str | None = None, at_key: bool = False
    ) -> Position:
        """Position of ``loc``; of ``needle`` inside its value when given."""
        part = self._section(str(loc[0])) if loc and not self._composed else None
        if part is not None:
            lines, section = part
            pos = section.position(loc, needle, at_key)
            return Position(pos.line + lines, pos.column)
        if self.root is None:
            return Position(1, 1)
        key_node, node = self._walk(loc)
        if needle and node is not None:
            start, end = node.start_mark.index, node.end_mark.index
            found = self.text.find(needle, start, max(end, start + len(needle)))
            if found >= 0:
                return self._index_position(found)
        target = (
            key_node
            if (at_key or node is None or not isinstance(node, ScalarNode)) and key_node is not None
            else node
        )
        if target is None:
            return Position(1, 1)
        return Position(target.start_mark.line + 1, target.start_mark.column + 1)

    def _section(self, key: str) -> tuple[int, Locator] | None:
        """The lines of top-level ``key`` as a locator of their own, with the number of lines
        before them, or ``None``.

        The file is loaded as a mapping with keys ``self._keys``. When as many lines start at
        column 0 (not blank, not a comment), the mapping is a block one and those lines are
        its keys, in order: each key's lines run to the next one's. (Each key of a block
        mapping starts a line at column 0; another line there would have to be inside a flow
        collection or a quoted text, and would make one line too many.) The lines must still
        compose as a mapping of that one key."""
        if self._keys is None:
            return None
        if self._starts is None:
            self._lines = self.text.split("\n")
            starts = [i for i, line in enumerate(self._lines) if line[:1] not in _NO_ENTRY]
            self._starts = starts if len(starts) == len(self._keys) else []
        if key not in self._sections:
            self._sections[key] = None
            if self._starts and key in self._keys:
                index = list(self._keys).index(key)
                start = self._starts[index]
                end = self._starts[index + 1] if index + 1 < len(self._starts) else len(self._lines)
                text = "\n".join(self._lines[start:end])
                root = _compose_part(text)
                section = Locator(text, root)
                if (
                    isinstance(root, MappingNode)
                    and len(root.value) == 1
                    and isinstance(root.value[0][0], ScalarNode)
                    and root.value[0][0].value == key
                ):
                    self._sections[key] = (start, section)
        return self._sections[key]

    def _index_position(self, index: int) -> Position:
        line_start = self.text.rfind("\n", 0, index) + 1
        return Position(self.text.count("\n", 0, index) + 1, index - line_start + 1)

    def first_oversized(self) -> tuple[int | None, int | None]:
        """Position of the innermost collection that is too deep or expands too far."""
        root = self.root
        if root is None:
            return None, None
        sizes: dict[int, int] = {}
        on_path: set[int] = set()

        def visit(node: Node, depth: int) -> Node | None:
            if depth > MAX_DEPTH or id(node) in on_path:  # too deep, or contains itself
                return node
            if not isinstance(node, MappingNode | SequenceNode):
                return None
            if id(node) in sizes:
                return None
            on_path.add(id(node))
            total = 1
            for child in _node_children(node):
                hit = visit(child, depth + 1)
                if hit is not None:
                    return hit
                total += sizes.get(id(child), 1)
            on_path.discard(id(node))
            sizes[id(node)] = total
            return node if total > MAX_NODES else None

        try:
            hit = visit(root, 1)
        except RecursionError:
            hit = None
        if hit is None:
            return None, None
        return hit.start_mark.line + 1, hit.start_mark.column + 1


def _compose(text: str) -> Node | None:
    """The node tree of ``text`` for positions (None when it does not compose)."""
    loader = _Composer(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


#: One key's lines recur across postings (a location, a company, a title): composed once.
_compose_part = lru_cache(maxsize=512)(_compose)


#: How a line that starts no top-level block entry starts: blank, indented, a comment.
_NO_ENTRY = ("", " ", "#")


def _node_children(node: MappingNode | SequenceNode) -> Iterator[Node]:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value
    else:
        yield from node.value
