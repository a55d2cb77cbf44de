"""Files checked together, a step at a time (``load_postings``), get exactly what each gets
checked alone; what one file raises reports that file and spares the others."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import publisher.validate
from publisher.board_rules import board_checker
from publisher.config import Config
from publisher.problems import Finding, Problem
from publisher.schema import Posting
from publisher.validate import FileResult, load_posting, load_postings, place, validate_paths
from tests.factories import context, posting_text

CONFIG = Config()
CTX = context()
CHECK = board_checker(CONFIG)

#: Every way a file can end: valid, warned, each kind of error, unreadable.
FILES: dict[str, str | bytes | None] = {
    "a.yaml": posting_text("a"),
    "b.yaml": posting_text("b").replace("title: Data Analyst", 'title: ""'),
    "c.yaml": "id: [unclosed\n",
    "d.yaml": "",
    "e.yaml": "- a list\n",
    "f.yaml": posting_text("other"),
    "g.yaml": posting_text("g"),
    "h.yaml": b"id: h\ntitle: \xff\xfe\n",
    "i.yaml": None,  # a folder named like a posting
    "j.yaml": posting_text("j").replace("Example Corp is hiring", "[Company] is hiring"),
    "k.yaml": posting_text("k")
    .replace("min: 70000", "min: 95000")
    .replace("workplace:", "wrokplace: x\nworkplace:"),
    "l.yaml": posting_text("l")
    .replace("boards:\n", "boards:\n  google: {}\n")
    .replace("  url: https://jobs.example.com/data-analyst\n", "  url: http://[::1\n"),
    "m.yaml": posting_text("m").replace("title: Data Analyst", "title: &t Data Analyst"),
}


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    paths = []
    for name, content in FILES.items():
        path = tmp_path / name
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        paths.append(path)
    return paths


class Outcome(NamedTuple):
    path: Path
    problems: list[Problem]
    text: str | None
    keys: list[str] | None
    posting: dict[str, Any] | None
    error: tuple[str, int | None, int | None] | None
    findings: list[Finding]


def outcome(result: FileResult) -> Outcome:
    error = result.load_error
    return Outcome(
        result.path,
        result.problems,
        result.text,
        result.keys,
        result.posting.model_dump() if result.posting is not None else None,
        (error.message, error.line, error.column) if error is not None else None,
        place(result),
    )


def test_files_checked_together_get_what_each_gets_alone(files: list[Path]) -> None:
    alone = [outcome(load_posting(path, CONFIG, CTX, CHECK)) for path in files]
    together = [outcome(result) for result in load_postings(files, CONFIG, CTX, CHECK)]
    assert together == alone
    # and the files do end in every way they were written for
    ends = {
        o.path.name: (
            o.posting is not None,
            o.error is not None,
            sorted({p.rule for p in o.problems}),
        )
        for o in alone
    }
    assert ends == {
        "a.yaml": (True, False, ["board-rule"]),
        "b.yaml": (False, False, ["schema"]),
        "c.yaml": (False, True, []),
        "d.yaml": (False, False, ["schema"]),
        "e.yaml": (False, False, ["schema"]),
        "f.yaml": (True, False, ["board-rule", "id-mismatch"]),
        "g.yaml": (True, False, ["board-rule"]),
        "h.yaml": (False, True, []),
        "i.yaml": (False, True, []),
        "j.yaml": (True, False, ["board-rule", "placeholder"]),
        "k.yaml": (False, False, ["salary", "schema"]),
        "l.yaml": (False, False, ["schema"]),
        "m.yaml": (True, False, ["board-rule"]),  # (an anchor: loaded the strict way)
    }
    strict = ("c.yaml", "d.yaml", "e.yaml", "h.yaml", "i.yaml", "l.yaml", "m.yaml")
    assert [o.keys is None for o in alone] == [n in strict for n in FILES]


@pytest.mark.parametrize("batch", [1, 3, 50])
def test_a_report_does_not_depend_on_how_files_are_batched(
    files: list[Path], batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [path for path in files if path.is_file()]  # a folder is searched, not read
    alone = sorted(
        (f for path in files for f in place(load_posting(path, CONFIG, CTX, CHECK))),
        key=lambda f: f.sort_key(),
    )
    monkeypatch.setattr(publisher.validate, "BATCH", batch)
    report = validate_paths(files, CONFIG, CTX)
    assert report.findings == alone and report.files == len(FILES) - 1


def raising_for(posting_id: str) -> Any:
    def rule(posting: Posting, *args: Any) -> Iterator[Problem]:
        if posting.id == posting_id:
            raise RuntimeError("boom")
        yield from ()

    return rule


def test_a_rule_that_raises_reports_its_file_and_spares_the_others(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = [outcome(r) for r in load_postings(files, CONFIG, CTX, CHECK)]
    rules = publisher.validate.POSTING_RULES
    monkeypatch.setattr(
        publisher.validate, "POSTING_RULES", [*rules[:2], raising_for("a"), *rules[2:]]
    )

    def board_check(posting: Posting) -> Iterable[Problem]:
        if posting.id == "g":
            raise ValueError("bad board")
        return CHECK(posting)

    after = [outcome(r) for r in load_postings(files, CONFIG, CTX, board_check)]
    names = list(FILES)
    a, g = names.index("a.yaml"), names.index("g.yaml")
    assert [o for i, o in enumerate(after) if i not in (a, g)] == [
        o for i, o in enumerate(before) if i not in (a, g)
    ]
    for index, kind, message in ((a, "RuntimeError", "boom"), (g, "ValueError", "bad board")):
        broken = after[index]
        assert broken.posting is None and broken.error is None
        assert broken.problems[-1] == Problem(
            "schema", f"could not be checked ({kind}: {message}); please report it"
        )
        assert broken.findings[-1].rule == "schema" and broken.findings[-1].severity == "error"


def test_a_text_rule_that_raises_reports_its_file(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def text_rule(data: dict[str, Any], text: str | None) -> list[Problem]:
        if data.get("id") == "j":
            raise KeyError("x")
        return []

    monkeypatch.setattr(publisher.validate, "TEXT_RULES", [text_rule])
    results = {r.path.name: r for r in load_postings(files, CONFIG, CTX, CHECK)}
    assert results["j.yaml"].posting is None
    assert results["j.yaml"].problems == [
        Problem("schema", "could not be checked (KeyError: 'x'); please report it")
    ]
    assert results["a.yaml"].posting is not None and results["g.yaml"].posting is not None


def test_checking_files_leaves_no_reference_cycles(files: list[Path]) -> None:
    """Pool workers check with the cycle collector off (it found nothing to collect and
    cost ~10 % of a file's time): checking, placing and failing leave no cycles behind."""
    load_postings(files, CONFIG, CTX, CHECK)  # what loads on first use, loaded
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            results = load_postings(files, CONFIG, CTX, CHECK)
            findings = [place(result) for result in results]
            assert findings and results
            del results, findings
        assert gc.collect() == 0
    finally:
        gc.enable()
