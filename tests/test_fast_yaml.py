"""The fast way of loading (yaml_rs) gives what the strict way (PyYAML) gives, or declines.

Generated YAML (block and flow collections, every quoting and block-scalar style, comments,
the scalars where YAML 1.1, 1.2 and yaml_rs part ways, odd characters) and posting files
mutated character by character: the fast way's values equal the strict way's, type for type,
or it declines; it never accepts what the strict way refuses. Positions found by composing
one top-level key's lines equal those found in the whole file.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.fast_yaml import DECLINED, fast_load
from publisher.loader import LoadError, Locator, Position, load_document
from publisher.rules import iter_strings
from tests.factories import posting_text

FUZZ = settings(
    derandomize=True,
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

PLAIN = [
    "a",
    "Data Analyst",
    "NO",
    "yes",
    "on",
    "y",
    "true",
    "True",
    "FALSE",
    "tRue",
    "null",
    "Null",
    "~",
    "012345",
    "0017",
    "00",
    "-0",
    "+12",
    "0o17",
    "0x1F",
    "0X1F",
    "0b101",
    "-0x1",
    "+0o7",
    "1_000",
    "1.",
    ".5",
    "-.5",
    "1e3",
    "1E+3",
    "1.5e",
    ".inf",
    "-.Inf",
    ".NaN",
    "inf",
    "1e400",
    "123456789012345678901234567890",
    "2026-12-01",
    "2026-02-30",
    "2026-12-01T09:00:00-07:00",
    "12:30:00",
    "1:20",
    "R&D",
    "Q&A",
    "why?",
    "a#b",
    "http://x.y/z?q=1#f",
    "C++",
    "C#",
    "x*",
    "50%",
    "-",
    "a: b",
    "@x",
    "`x`",
    "! x",
    "& x",
    "* x",
    "? x",
    "%x",
    "{x}",
    "[x]",
    "x]",
    "x,y",
    "é",
    "名前",
    "😀",
    "\u00a0x",
    "x\u3000y",
    "x\ty",
    "x\u0085y",
    "x\u2028y",
    "\ufeffx",
    "x\x00y",
    "x\x7fy",
    "<<",
    "=",
    "---",
    "...",
    "'",
    '"',
    "\\",
    "a  b",
    " a",
    "a ",
]
KEYS = [
    "a",
    "title",
    "b_c",
    "key with space",
    "1",
    "1.0",
    "true",
    "null",
    "~",
    ".nan",
    "x-y",
    "0x1",
    "1_0",
    "'q'",
    '"d"',
    "[a, b]",
    "{a: 1}",
    "? c",
    "&k a",
    "!t k",
    "é",
]
ESCAPES = [
    "\\x41",
    "\\u00e9",
    "\\U0001F600",
    "\\n",
    "\\t",
    "\\0",
    "\\a",
    "\\e",
    "\\N",
    "\\_",
    "\\L",
    "\\P",
    "\\/",
    '\\"',
    "\\\\",
    "\\q",
    "\\x4",
    "\\\n",
]


def quoted_single(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quoted_double(parts: list[str]) -> str:
    return '"' + "".join(parts).replace("\n", "\\n") + '"'


SCALAR = st.one_of(
    st.sampled_from(PLAIN),
    st.builds(quoted_single, st.sampled_from(PLAIN)),
    st.builds(
        quoted_double,
        st.lists(st.one_of(st.sampled_from(ESCAPES), st.sampled_from(PLAIN)), max_size=3),
    ),
    st.text(st.characters(codec="utf-8"), max_size=12),
)
BLOCK_HEADERS = ["|", "|-", "|+", ">", ">-", ">+", "|2", ">1-", "|+2"]
LINES = st.lists(
    st.one_of(
        st.sampled_from(["", "  ", "x", "  more", "a: b", "# c", "- d"]), st.sampled_from(PLAIN)
    ),
    min_size=1,
    max_size=4,
)


def block_scalar(header: str, lines: list[str], indent: int) -> str:
    pad = " " * indent
    return header + "\n" + "\n".join(pad + line if line else "" for line in lines)


@st.composite
def node(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> str:
    """A value as it follows ``key:`` (or ``-``) at ``indent``."""
    kinds = ["scalar", "block", "flow"] + (["map", "seq"] if depth < 3 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "scalar":
        return " " + draw(SCALAR)
    if kind == "block":
        return " " + block_scalar(draw(st.sampled_from(BLOCK_HEADERS)), draw(LINES), indent + 2)
    if kind == "flow":
        items = draw(st.lists(SCALAR, max_size=3))
        if draw(st.booleans()):
            return " [" + ", ".join(items) + "]"
        keys = draw(st.lists(st.sampled_from(KEYS), max_size=3))
        return " {" + ", ".join(f"{k}: {v}" for k, v in zip(keys, items, strict=False)) + "}"
    return "\n" + draw(block(indent + 2, depth + 1, kind))


@st.composite
def block(draw: st.DrawFn, indent: int = 0, depth: int = 0, kind: str = "map") -> str:
    pad = " " * indent
    entries = []
    for _ in range(draw(st.integers(1, 4))):
        if kind == "map":
            entries.append(f"{pad}{draw(st.sampled_from(KEYS))}:{draw(node(indent, depth))}")
        else:
            entries.append(f"{pad}-{draw(node(indent, depth))}")
        if draw(st.integers(0, 5)) == 0:
            entries.append(
                draw(
                    st.sampled_from(
                        ["", f"{pad}# a comment", "---", "...", "%YAML 1.2", f"{pad}  # indented"]
                    )
                )
            )
    return "\n".join(entries) + draw(st.sampled_from(["\n", "", "\n\n", "\r\n"]))


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0 nor True; nan is nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a == b and math.copysign(1, a) == math.copysign(1, b)) or (
            math.isnan(a) and math.isnan(b)
        )
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) and type(k) is str for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    return bool(a == b)


def agree(text: str) -> bool:
    """The fast way agrees with the strict way on ``text`` or declines it; True when it
    was taken."""
    fast = fast_load(text)
    try:
        strict = load_document(text, fast=False)[0]
    except LoadError:
        assert fast is DECLINED, f"the fast way took what the strict way refuses: {text!r}"
        return False
    assert fast is DECLINED or same(fast, strict), (text, fast, strict)
    return fast is not DECLINED


@FUZZ
@given(block(kind="map") | block(kind="seq"))
def test_generated_yaml_loads_alike_or_is_declined(text: str) -> None:
    agree(text)


#: Characters to put into a posting: the ones the gate looks at, and YAML's indicators.
MUTATIONS = st.sampled_from(
    [
        *"!&*?%:-#'\"[]{},|>@`\\\t\r\n _0xXbB ",
        "\x00",
        "\x7f",
        "\x85",
        "\u2028",
        "\ufeff",
        "\u00a0",
        "é",
        "---\n",
        "...\n",
        " !x",
        " &a",
        " *a",
        "**",
        "\n? ",
        "0b1",
        "-0x1",
        "1_0",
        ": ",
        "  ",
        "\n  ",
        "\n- ",
        "[|]",
        "{a: |}",
        ": |\n",
        "\n|\n",
    ]
)


@FUZZ
@given(st.lists(st.tuples(st.floats(0, 1), MUTATIONS), min_size=1, max_size=4))
def test_mutated_postings_load_alike_or_are_declined(edits: list[tuple[float, str]]) -> None:
    text = posting_text()
    for where, inserted in edits:
        at = int(where * len(text))
        text = text[:at] + inserted + text[at:]
    agree(text)


def test_a_plain_posting_goes_the_fast_way() -> None:
    text = posting_text()
    assert agree(text)
    data, nodes = load_document(text)
    assert nodes is None and same(data, load_document(text, fast=False)[0])


@pytest.mark.parametrize(
    "text",
    [
        "a: !custom x\n",
        "a: !!str 1\n",
        "a: &x 1\nb: *x\n",
        "a: *x\n",
        "a: 0b101\n",
        "a: -0x1\n",
        "a: 0X1F\n",
        "a: 1_000\n",
        "a: 1\n---\nb: 2\n",
        "%YAML 1.2\n---\na: 1\n",
        "[a, b]: c\n",
        "? [a]\n: b\n",
        ".nan: a\n.nan: b\n",
        "a: b\n: c\n",
        "a: x\ty\n",
        "a: x\u0085y\n",
        "a: x\u2028y\n",
        "\ufeffa: 1\n",
        "a: 1\r\nb: 2\r\n",
        "1: a\n1.0: b\n",
    ],
)
def test_what_the_parsers_read_differently_is_declined(text: str) -> None:
    assert fast_load(text) is DECLINED


def test_a_rust_panic_or_error_is_declined_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    import publisher.fast_yaml as module

    class Panic(BaseException):  # what pyo3 raises for a panic
        pass

    def panics(text: str, **_: Any) -> Any:
        raise Panic("thread panicked")

    monkeypatch.setattr(module.yaml_rs, "loads", panics)
    assert fast_load("a: 1\n") is DECLINED
    assert load_document("a: 1\n")[0] == {"a": 1}


def positions(locator: Locator, data: Any) -> list[Position]:
    found = []
    for path, text in iter_strings(data):
        needle = text.split()[-1] if text.split() else None
        found += [
            locator.position(path),
            locator.position(path, needle),
            locator.position(path, at_key=True),
        ]
    return found


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from(
                [
                    "\n# note\n",
                    "\n\n",
                    "  # tail",
                    "\nextra: [1,\n  2]\n",
                    "\nmore: |\n  x\n\n  y\n",
                    "\nflow: {a: b,\n  c: d}\n",
                    '\nq: "x\n  y"\n',
                    "\nf: {a: [b, c]}\n",
                    "\nlist:\n- x\n- y: |\n    z\n",
                ]
            ),
        ),
        max_size=3,
    )
)
def test_positions_from_one_key_match_the_whole_file(edits: list[tuple[float, str]]) -> None:
    text = posting_text()
    for where, inserted in edits:
        at = text.find("\n", int(where * len(text)))  # at a line's end
        text = text[:at] + inserted + text[at:] if at >= 0 else text + inserted + "\n"
    try:
        data, nodes = load_document(text)
    except LoadError:
        return
    if nodes is not None:
        return  # went the strict way (a flow collection over several lines)
    whole = Locator(text, yaml.compose(text))  # type: ignore[arg-type]
    assert positions(Locator(text, None, list(data)), data) == positions(whole, data)


@pytest.mark.parametrize(
    ("text", "key", "position"),
    [
        ("{a: 1,\nc: x}\n", "c", Position(2, 4)),  # as many column-0 lines as keys: flow
        ('a: "x\ny: z"\nc: x\n', "c", Position(3, 4)),  # a column-0 line inside quotes
    ],
)
def test_a_file_not_split_by_its_keys_is_composed_whole(
    text: str, key: str, position: Position
) -> None:
    keys = list(load_document(text, fast=False)[0])
    assert Locator(text, None, keys).position((key,)) == position
    assert Locator(text).position((key,)) == position
