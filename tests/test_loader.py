"""The YAML loader: YAML 1.2 typing, refused features, positions."""

from __future__ import annotations

import pytest

from publisher.loader import MAX_DEPTH, LoadError, Locator, load_text


def test_yaml_1_2_scalars_are_not_coerced() -> None:
    data = load_text(
        "country: NO\nremote: yes\nflag: true\nzip: 012345\nquoted: '012345'\n"
        "date: 2026-01-05\nversion: 1.10\nnothing: ~\nhex: 0x1F\noctal: 0o17\n"
    )
    assert data == {
        "country": "NO",
        "remote": "yes",
        "flag": True,
        "zip": 12345,
        "quoted": "012345",
        "date": "2026-01-05",
        "version": 1.1,
        "nothing": None,
        "hex": 31,
        "octal": 15,
    }


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a'"),
        ("a: !!python/object:os.system x\n", 1, 4, "tag not allowed"),
        ("a: !custom x\n", 1, 4, "tag not allowed: '!custom'"),
        ("a: !!binary aGVsbG8=\n", 1, 4, "tag not allowed"),
        ("a: [1, 2\nb: 3\n", 2, 2, "did not find expected"),
        ("a: 1\n---\nb: 2\n", 2, 1, "single document"),
        ("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", 1, None, "nesting deeper"),
    ],
)
def test_refusals_carry_a_position(text: str, line: int, column: int | None, fragment: str) -> None:
    with pytest.raises(LoadError) as caught:
        load_text(text)
    assert fragment in caught.value.message
    assert caught.value.line == line
    if column is not None:
        assert caught.value.column == column


def test_billion_laughs_is_refused_without_expanding() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(LoadError) as caught:
        load_text("\n".join(lines) + "\n")
    assert "alias expansion" in caught.value.message
    assert caught.value.line is not None and 1 < caught.value.line <= 9


def test_small_aliases_are_allowed() -> None:
    data = load_text("base: &b [x, y]\ncopy: *b\n")
    assert data == {"base": ["x", "y"], "copy": ["x", "y"]}


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(LoadError, match="recursive alias"):
        load_text("a: &a [1, *a]\n")


def test_locator_walks_pydantic_locations() -> None:
    text = "a: 1\nlist:\n  - x: 1\n    y: |\n      first\n      second [Blank]\n"
    locator = Locator(text)
    assert locator.position(("list", 0, "x")).line == 3
    assert locator.position(("list", 0, "missing")).line == 3  # deepest existing parent
    pos = locator.position(("list", 0, "y"), needle="[Blank]")
    assert (pos.line, pos.column) == (6, 14)
    assert locator.position(("list", 0, "x"), at_key=True).column == 5


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("a: 1\nopenings: !!float x\n", 2, 11, "'x' is not a number (explicit tag !!float)"),
        ("a: 1\nflag: !!bool maybe\n", 2, 7, "'maybe' is not a boolean"),
        ("title: &a [*a]\n", 1, 8, "recursive alias"),
    ],
)
def test_explicit_tags_and_recursive_aliases_are_this_files_problem(
    text: str, line: int, column: int, fragment: str
) -> None:
    with pytest.raises(LoadError) as caught:
        load_text(text)
    assert fragment in caught.value.message
    assert (caught.value.line, caught.value.column) == (line, column)
