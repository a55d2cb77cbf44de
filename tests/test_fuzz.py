"""Fuzzing with hypothesis (derandomized: the same examples on every run, a bounded number):
valid postings mutated field by field (removed keys, swapped types, huge and odd Unicode
strings) and as YAML text (anchors, merge keys, tags, several documents, impossible dates,
NUL bytes, truncation).

Properties: ``validate`` never raises and every finding has a rule id and a line;
``--format json`` is valid JSON; a valid posting maps to every board (deterministically) unless
a ``board-rule`` error rejects it for that board; feeds stay well-formed XML and pages carry
no markup from the posting, with JSON-LD that parses."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from defusedxml.ElementTree import fromstring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.adapter import FeedItem, FileAdapter
from publisher.board_rules import board_checker, check_board
from publisher.cli import cli
from publisher.config import Config
from publisher.problems import RULES
from publisher.registry import boards
from publisher.rules import RuleContext
from publisher.validate import load_posting, place
from tests.adapters.helpers import adapter_for
from tests.factories import NOW, posting_data

FUZZ = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
WHEN = datetime(2026, 12, 1, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"

ODD = st.sampled_from(
    [
        "\u202eevil right-to-left",
        "zero\u200bwidth\u200djoin",
        "e\u0301\u0301\u0301",
        "😀 👩\u200d💻 🇺🇸",
        "nul\x00byte",
        HOSTILE,
        "]]> end of CDATA",
        "&amp; & < > \" '",
        "\ufeffbom",
        "back\\slash",
        "{{name}}",
        "%s %n %x",
        "x" * 5000,
        "line\nbreak\r\n",
        "\x1b[31mred",
        "\ud7ff\ue000\uffff",
        "名前 الوظيفة Работа",
        "",
        " ",
        "NO",
        "012345",
        "2026-02-30",
        "~",
        "null",
        "- dash",
        "# hash",
        ": colon",
        "@at",
        "`tick`",
    ]
)
TEXT = st.one_of(
    ODD,
    st.text(max_size=80),
    st.builds(lambda odd, text: f"{text} {odd} {text}", ODD, st.text(max_size=20)),
)
ANY_VALUE = st.one_of(
    TEXT,
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.lists(TEXT, max_size=3),
    st.dictionaries(TEXT, TEXT, max_size=2),
)
TEXT_FIELDS = [
    "title",
    "summary",
    "eeo_statement",
    ("responsibilities", 0),
    ("qualifications", 0),
    ("benefits", 0),
    ("company", "name"),
    ("locations", 0, "city"),
]


CONFIG = Config(timezone="America/Denver")
CTX = RuleContext.of(CONFIG, NOW)
CHECK = board_checker(CONFIG)


def _set(data: dict[str, Any], where: str | tuple[Any, ...], value: Any) -> None:
    path = (where,) if isinstance(where, str) else where
    node: Any = data
    try:
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    except (KeyError, IndexError, TypeError):  # an earlier mutation removed or replaced it
        pass


@st.composite
def mutated_data(draw: st.DrawFn) -> dict[str, Any]:
    """A valid posting with text fields replaced, keys removed or values of another type."""
    data = posting_data()
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["text", "remove", "swap"]))
        if kind == "text":
            _set(data, draw(st.sampled_from(TEXT_FIELDS)), draw(TEXT))
        elif kind == "remove" and data:
            data.pop(draw(st.sampled_from(sorted(data))))
        elif data:
            data[draw(st.sampled_from(sorted(data)))] = draw(ANY_VALUE)
    return data


YAML_EDITS = [
    lambda t: t + "\n---\nid: second-document\n",
    lambda t: "base: &base {title: Anchored}\n" + t + "extra:\n  <<: *base\n",
    lambda t: t.replace("title: ", "title: !!python/object/apply:os.system ", 1),
    lambda t: t.replace("title: ", "title: !custom ", 1),
    lambda t: t.replace("title: ", "title: !!binary ", 1),
    lambda t: re.sub(r"publish_at: .*", "publish_at: 2026-02-30", t),
    lambda t: re.sub(r"expires_at: .*", "expires_at: 9999-99-99T99:99", t),
    lambda t: t.replace("\n", "\n\x00", 1),
    lambda t: t[: len(t) // 2],
    lambda t: t.replace("summary:", "summary: &s\n  - a\nsummary2: *s\nsummary:", 1),
    lambda t: t + "title: duplicate key\n",
    lambda t: "a: &a [*a]\n" + t,
    lambda t: "[" * 200 + t,
    lambda t: t.replace("  ", "\t", 1),
]


@st.composite
def posting_files(draw: st.DrawFn) -> str:
    text = yaml.safe_dump(draw(mutated_data()), allow_unicode=True, sort_keys=False)
    for _ in range(draw(st.integers(0, 2))):
        text = draw(st.sampled_from(YAML_EDITS))(text)
    return text


def _validate(text: str) -> tuple[Any, list[Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data-analyst.yaml"  # the id the postings have
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = load_posting(path, CONFIG, CTX, CHECK)
        return result, place(result)


@FUZZ
@given(posting_files())
def test_validate_never_raises_and_every_finding_has_a_rule_and_a_line(text: str) -> None:
    result, findings = _validate(text)
    assert result.posting is not None or findings  # an invalid file always says why
    for finding in findings:
        assert finding.rule in RULES, finding
        assert isinstance(finding.line, int) and finding.line >= 1, finding
        assert finding.message and "Traceback" not in finding.message


@settings(FUZZ, max_examples=40)
@given(posting_files())
def test_json_output_is_always_json(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data-analyst.yaml"  # the id the postings have
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        config = Path(folder) / "jobpub.toml"
        config.write_text('timezone = "America/Denver"\n')
        out = CliRunner().invoke(
            cli, ["--config", str(config), "validate", "--format", "json", str(path)]
        )
    assert out.exit_code in (0, 1), out.output
    report = json.loads(out.stdout, parse_constant=_not_json)  # NaN/Infinity are not JSON
    assert all(p["rule"] in RULES and p["line"] >= 1 for p in report["problems"])


def _not_json(constant: str) -> Any:
    raise AssertionError(f"{constant} is not JSON")


@settings(FUZZ, max_examples=60)
@given(mutated_data())
def test_a_valid_posting_maps_to_every_board_or_a_board_rule_says_why(data: dict[str, Any]) -> None:
    result, findings = _validate(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    if result.posting is None or any(f.severity == "error" for f in findings):
        return
    for name in sorted(boards()):
        adapter = adapter_for(name)
        posting = result.posting.model_copy(update={"boards": {name: {}}})
        refused = [p for p in check_board(posting, adapter) if p.severity == "error"]
        assert all(p.rule == "board-rule" for p in refused), refused
        if refused:
            continue
        first, again = adapter.to_payload(posting), adapter.to_payload(posting)
        assert json.dumps(first, sort_keys=True, default=str) == json.dumps(
            again, sort_keys=True, default=str
        ), name  # deterministic
        if isinstance(adapter, FileAdapter):
            _check_files(name, adapter.render_files([FeedItem(posting, WHEN, None)], [], WHEN))


def _check_files(board: str, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        assert b"<script>alert(1)" not in content, (board, name)
        if name.endswith((".xml", ".atom")):
            fromstring(content)  # well-formed
        if name.endswith(".html"):
            for block in re.findall(
                rb'<script type="application/ld\+json">(.*?)</script>', content, re.S
            ):
                json.loads(block)
