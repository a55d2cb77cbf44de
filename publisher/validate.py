"""Validation of posting files: load, check every rule, place every problem in its file."""

from __future__ import annotations

import contextlib
import gc
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from publisher.board_rules import board_checker
from publisher.config import Config, apply_defaults
from publisher.loader import LoadError, Locator, load_document, read_text
from publisher.problems import Finding, Problem, did_you_mean, format_path
from publisher.rules import POSTING_RULES, TEXT_RULES, RuleContext, configured
from publisher.schema import (
    ID_RE,
    NO_CONTROLS,
    STORED,
    Apply,
    Company,
    Experience,
    Location,
    Posting,
    Salary,
)

if TYPE_CHECKING:
    from yaml.nodes import Node

__all__ = [
    "BoardCheck",
    "FileResult",
    "Report",
    "discover",
    "load_posting",
    "load_postings",
    "place",
    "validate_paths",
]

SUFFIXES = (".yaml", ".yml")
#: Files checked together, a step at a time (``load_postings``): 240 -> 172 us a file at 50,
#: 182 at 10, no better at 200 (measured in one process, README).
BATCH = 50
_T = TypeVar("_T")
BoardCheck = Callable[[Posting], Iterable[Problem]]

_NESTED: dict[str, type[BaseModel]] = {
    "company": Company,
    "locations": Location,
    "salary": Salary,
    "experience": Experience,
    "apply": Apply,
}


@dataclass
class FileResult:
    """One file's outcome: its posting when it is valid, and its problems."""

    path: Path
    posting: Posting | None = None
    problems: list[Problem] = field(default_factory=list)
    text: str | None = None
    nodes: Node | None = None  # the composed YAML, for the positions of its problems
    keys: list[str] | None = None  # its top-level keys, when it was loaded without nodes
    load_error: LoadError | None = None


@dataclass
class Report:
    """Everything ``jobpub validate`` prints."""

    files: int
    findings: list[Finding]
    postings: list[Posting] = field(default_factory=list)  # files without errors (keep=True)
    invalid: list[Path] = field(default_factory=list)  # files with errors

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)


def discover(paths: Sequence[Path]) -> list[Path]:
    """Posting files under ``paths``: folders are searched recursively (not into hidden
    folders or symbolic links to folders; hidden files left out), files taken as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(map(Path, _postings_in(str(path))))
        else:
            found.append(path)
    # (one folder's files are distinct: hashing 2,000 paths took ~3 ms)
    return list(dict.fromkeys(found)) if len(paths) > 1 else found


def _postings_in(folder: str) -> Iterator[str]:
    """The posting files in ``folder`` and below, in path order (each folder's entries by
    name, a folder's files before the entries that sort after its name)."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted((e for e in scan if not e.name.startswith(".")), key=lambda e: e.name)
    except PermissionError:  # as rglob: a folder that cannot be read holds no postings
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _postings_in(entry.path)
        elif entry.name.endswith(SUFFIXES) and entry.is_file():
            yield entry.path


def _fields_at(loc: tuple[str | int, ...]) -> list[str]:
    model: type[BaseModel] = _NESTED.get(str(loc[0]), Posting) if len(loc) > 1 else Posting
    return list(model.model_fields)


def _schema_problem(error: ErrorDetails) -> Problem:
    loc = tuple(error["loc"])
    where = format_path(loc)
    kind = error["type"]
    if kind == "missing":
        return Problem("schema", f"missing required field '{where}'", loc)
    if kind == "extra_forbidden":
        name = str(loc[-1])
        close = did_you_mean(name, _fields_at(loc))
        hint = f" (did you mean '{close}'?)" if close else ""
        return Problem("schema", f"unknown field '{where}'{hint}", loc, at_key=True)
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if kind == "string_type" and isinstance(value, int | float | bool):
        message += f" (got {value!r}: quote it to keep it as text)"
    elif kind in ("bool_type", "int_type", "float_type", "dict_type", "list_type") and isinstance(
        value, str | int | float | bool
    ):
        message += f" (got {value!r})"
    return Problem("schema", f"{where}: {message}" if where else message, loc)


def load_posting(
    path: Path, config: Config, ctx: RuleContext, board_check: BoardCheck | None = None
) -> FileResult:
    """Load and check one file; never raises for bad input."""
    return load_postings([path], config, ctx, board_check)[0]


def load_postings(
    paths: Sequence[Path], config: Config, ctx: RuleContext, board_check: BoardCheck | None = None
) -> list[FileResult]:
    """Load and check files, one step at a time over all of them (reading, parsing, the
    schema, then each rule): a step's code and data stay in the CPU's caches from one file
    to the next, which makes a file ~30 % cheaper to check than going through every step for
    each file in turn (README, "Validate"). A file is checked as if alone: what one file
    raises reports that file, and the others go on. Never raises for bad input."""
    results = [FileResult(path) for path in paths]
    for result in results:
        _guard_load(result, _read, result)
    parsed = [
        (result, _guard_load(result, _parse, result))
        for result in results
        if result.load_error is None
    ]
    checking = [
        (result, posting)
        for result, data in parsed
        if result.load_error is None
        and (posting := _guarded(result, _posting_of, result, data, config, ctx)) is not None
    ]
    for rule in POSTING_RULES:
        checking = [
            (result, posting)
            for result, posting in checking
            if _guarded(result, _add, result, rule, posting, ctx)
        ]
    if board_check is not None:
        checking = [
            (result, posting)
            for result, posting in checking
            if _guarded(result, _add, result, board_check, posting)
        ]
    for result, posting in checking:
        result.problems = configured(result.problems, config.rules)
        result.posting = posting
    return results


def _read(result: FileResult) -> None:
    result.text = read_text(result.path)


def _parse(result: FileResult) -> Any:
    data, result.nodes = load_document(result.text or "")
    if result.nodes is None and isinstance(data, dict):
        result.keys = list(data)
    return data


def _guard_load(result: FileResult, step: Callable[..., _T], *args: Any) -> _T | None:
    """``step(*args)``; what it raises becomes the file's load error (a copy: the one
    raised holds the frames it passed through, and this one among them)."""
    try:
        return step(*args)
    except LoadError as exc:
        result.load_error = LoadError(exc.message, exc.line, exc.column)
    except Exception as exc:
        result.load_error = LoadError(f"cannot read the file ({type(exc).__name__}: {exc})", 1, 1)
    return None


def _guarded(result: FileResult, step: Callable[..., _T], *args: Any) -> _T | None:
    """``step(*args)``; what it raises is reported as the file's problem (None returned)."""
    try:
        return step(*args)
    except Exception as exc:
        result.problems.append(
            Problem(
                "schema", f"could not be checked ({type(exc).__name__}: {exc}); please report it"
            )
        )
        return None


def _add(result: FileResult, check: Callable[..., Iterable[Problem]], *args: Any) -> bool:
    result.problems.extend(check(*args))
    return True


def _posting_of(result: FileResult, data: Any, config: Config, ctx: RuleContext) -> Posting | None:
    """The posting in ``data`` (its problems so far in ``result``), or None when it has
    none: then ``result`` holds all there is to say."""
    if data is None:
        result.problems.append(Problem("schema", "file is empty: expected posting fields"))
        return None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        result.problems.append(
            Problem("schema", f"the top level must be a mapping of posting fields, found {kind}")
        )
        return None
    for text_rule in TEXT_RULES:
        result.problems.extend(text_rule(data, result.text))
    try:
        plain = result.text is not None and "\\" not in result.text
        posting = apply_defaults(
            Posting.model_validate(data, context=NO_CONTROLS if plain else None), config
        )
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        result.problems.extend(_schema_problem(e) for e in errors)
        result.problems.extend(_rules_despite(data, errors, config, ctx))
        result.problems = configured(result.problems, config.rules)
        return None
    path = result.path
    if posting.id != path.stem:
        hint = (
            f"expected id: {path.stem}"
            if ID_RE.fullmatch(path.stem)
            else (
                f"'{path.stem}' cannot be an id: ids are lowercase letters, digits and hyphens; "
                f"rename the file to {posting.id}{path.suffix}"
            )
        )
        result.problems.append(
            Problem(
                "id-mismatch",
                f"id '{posting.id}' does not match the file name '{path.name}' ({hint})",
                ("id",),
            )
        )
    return posting


#: Stand-ins for required fields that did not parse, so the other fields' rules still run.
_STAND_INS: dict[str, Any] = {
    "id": "stand-in",
    "title": "Stand-in",
    "employment_type": "full_time",
    "workplace": "remote",
    "remote_eligibility": ["US"],
    "summary": "Stand-in.",
    "responsibilities": ["Stand-in"],
    "qualifications": ["Stand-in"],
    "apply": {"url": "https://stand-in.invalid"},
    "boards": {"stand-in": {}},
}


def _rules_despite(
    data: dict[str, Any], errors: list[ErrorDetails], config: Config, ctx: RuleContext
) -> list[Problem]:
    """The cross-field rules (salary, dates, remote eligibility, ...) over the fields that
    did parse: a file with a typo in one key still hears that its salary is upside down."""
    broken = {str(e["loc"][0]) for e in errors if e["loc"]}
    kept = {k: v for k, v in data.items() if k in Posting.model_fields and k not in broken}
    filled = {k for k in _STAND_INS if k not in kept}
    if kept.get("workplace") not in (None, "remote") and "locations" not in kept:
        return []  # on-site without parsed locations: nothing sound to check
    try:
        posting = apply_defaults(Posting.model_validate({**_STAND_INS, **kept}), config)
    except ValidationError:
        return []  # the parsed fields disagree among themselves: the schema errors say so
    found = [p for rule in POSTING_RULES for p in rule(posting, ctx)]
    missing = filled | broken
    return [
        p
        for p in found
        if not (p.path and str(p.path[0]) in missing)
        and p.rule != "schema"
        and not (_NEEDS.get(p.rule, set()) & missing)
    ]


#: Fields a rule judges: when one did not parse, the rule has nothing sound to say.
_NEEDS = {
    "pay-transparency": {"salary"},
    "benefits-required": {"benefits"},
    "disclosure-required": {"expires_at", "disclosures"},
}


@dataclass(frozen=True)
class Checked:
    """What validation keeps of a file: its id (for duplicate checks) and its findings."""

    path: Path
    posting_id: str | None
    findings: list[Finding]
    posting: Posting | str | None = None  # as JSON when it crosses a process boundary


def place(result: FileResult) -> list[Finding]:
    file = str(result.path)
    if result.load_error is not None:
        err = result.load_error
        return [Finding(file, err.line, err.column, "error", "yaml-syntax", err.message)]
    if not result.problems:
        return []
    locator = Locator(result.text or "", result.nodes, result.keys)
    lines = (result.text or "").splitlines()
    findings = []
    for problem in dict.fromkeys(result.problems):
        pos = locator.position(problem.path, problem.needle, problem.at_key)
        if pos.line and pos.line <= len(lines) and problem.rule in ignored(lines[pos.line - 1]):
            continue  # "# jobpub: ignore[rule]" on that line
        findings.append(
            Finding(
                file,
                pos.line,
                pos.column,
                problem.severity,
                problem.rule,
                problem.message,
                problem.board,
            )
        )
    return findings


_IGNORE = re.compile(r"#\s*jobpub:\s*ignore\[([^\]]*)\]")


def ignored(line: str) -> set[str]:
    """The rule ids a ``# jobpub: ignore[rule-id, ...]`` comment on ``line`` silences."""
    found = _IGNORE.search(line)
    return {r.strip() for r in found.group(1).split(",")} if found else set()


def _check_files(
    paths: Sequence[Path],
    config: Config,
    ctx: RuleContext,
    board_check: BoardCheck | None,
    keep: bool = False,
    as_json: bool = False,
) -> list[Checked]:
    checked = []
    results = (
        result
        for start in range(0, len(paths), BATCH)
        for result in load_postings(paths[start : start + BATCH], config, ctx, board_check)
    )
    for result in results:
        path = result.path
        posting_id = result.posting.id if result.posting is not None else None
        # JSON is ~10x cheaper to move between processes than a pickled model; only the
        # fields that were set, so the rebuilt model is as small as the original.
        posting: Posting | str | None = None
        if keep and result.posting is not None:
            posting = (
                result.posting.model_dump_json(exclude_unset=True) if as_json else result.posting
            )
        checked.append(Checked(path, posting_id, place(result), posting))
    return checked


def _duplicate_ids(checked: list[Checked]) -> list[Finding]:
    by_id: dict[str, list[Path]] = defaultdict(list)
    for item in checked:
        if item.posting_id is not None:
            by_id[item.posting_id].append(item.path)
    findings = []
    for posting_id, paths in by_id.items():
        for path in paths if len(paths) > 1 else ():
            others = ", ".join(str(p) for p in paths if p != path)
            pos = Locator(read_text(path)).position(("id",))
            findings.append(
                Finding(
                    str(path),
                    pos.line,
                    pos.column,
                    "error",
                    "duplicate-id",
                    f"id '{posting_id}' is also used by {others}",
                )
            )
    return findings


#: Files; below this, starting worker processes costs more than it saves. Measured on 2
#: cores with files checked in batches (README, "Where the worker pool pays"): validate
#: breaks even near 350 files (1.2x at 600, 1.5x at 800), a sync's load, which brings the
#: postings back, near 500 (0.85x at 400, 1.4x at 600).
PARALLEL_FROM = 500
#: Files in a share given to ``validate_paths(each=...)`` (at most).
SHARE = 200


#: What a pool worker checks files against (set in each worker when it starts).
_JOB: tuple[Config, RuleContext, BoardCheck | None, bool] | None = None


def _start_worker(*job: Any) -> None:
    """A pool worker keeps what it checks against (given at fork, not pickled for every
    share), and ends when the process that started it does (Linux): a ``jobpub run``
    SIGKILLed while validating must not leave its workers behind."""
    import ctypes
    import signal

    global _JOB
    _JOB = job
    # Checking files makes no reference cycles (none on 10,000 files, valid or not): the
    # cycle collector's passes over what a worker allocates are pure cost (~10 % of a
    # file's time), and a worker's memory goes when its validation ends.
    gc.disable()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


#: A checked file as it crosses back from a worker: plain tuples and strings pickle in a
#: fraction of the time dataclasses and paths take (a share of 63 files: ~1.7 ms -> ~0.3 ms).
_Sent = tuple[str | None, list[tuple[Any, ...]], Posting | str | None]


def _check_share(paths: Sequence[str]) -> list[_Sent]:
    """Check a share of files (sent as text: paths pickle slowly), in the given order."""
    assert _JOB is not None
    config, ctx, board_check, keep = _JOB
    return [
        (
            c.posting_id,
            [
                (f.file, f.line, f.column, f.severity, f.rule, f.message, f.board)
                for f in c.findings
            ],
            c.posting,
        )
        for c in _check_files(list(map(Path, paths)), config, ctx, board_check, keep, as_json=True)
    ]


def _received(sent: _Sent, path: Path) -> Checked:
    posting_id, findings, posting = sent
    if isinstance(posting, str):  # JSON back to a model, once
        posting = Posting.model_validate_json(posting, context=STORED)
    return Checked(path, posting_id, [Finding(*f) for f in findings], posting)


def _shares(files: list[Path], workers: int) -> list[list[Path]]:
    """Shares taken by whichever worker is free, smaller as fewer files are left (an
    eighth of the rest per worker, 8 at least): the workers end together even when one
    core is slower."""
    shares, start = [], 0
    while start < len(files):
        size = max(-(-(len(files) - start) // (workers * 8)), 8)
        shares.append(files[start : start + size])
        start += size
    return shares


def validate_paths(
    paths: Sequence[Path],
    config: Config,
    ctx: RuleContext,
    boards: bool = True,
    keep: bool = False,
    each: Callable[[Report], None] | None = None,
) -> Report:
    """Validate every posting file under ``paths`` (on all cores for large sets).

    ``keep``: also return the valid postings (``Report.postings``), for the engine.
    ``each``: called with a report of each share of the files as the workers finish it
    (while they go on with the rest), then the whole report is returned. A share's report
    cannot know of ids that files in other shares have too (``duplicate-id``).
    """
    files = discover(paths)
    workers = min(os.cpu_count() or 1, 8)
    board_check = board_checker(config) if boards else None
    if len(files) < PARALLEL_FROM or workers < 2 or not _can_fork():
        checked = _check_files(files, config, ctx, board_check, keep)
        if each is not None:
            each(_report(len(checked), checked, []))
    else:
        # The first file is checked here first: what it loads on first use (data tables,
        # lazy imports) is then inherited by every worker.
        checked, first = [], _check_files(files[:1], config, ctx, board_check, keep)
        # Shrinking shares end the workers together; a streamed load (``each``) takes
        # SHARE files at a time instead: its boards set the pace, and small last shares
        # raised a first sync's peak memory by ~15 MB (bench_sync, 10,000 postings).
        chunks = (
            _shares(files[1:], workers)
            if each is None
            else [files[start : start + SHARE] for start in range(1, len(files), SHARE)]
        )
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # The workers check without collections (_start_worker); until then, and here while
        # they work, collections leave what is already there alone (no copying).
        gc.freeze()
        try:
            with ProcessPoolExecutor(
                workers,
                mp_context=mp.get_context("fork"),
                initializer=_start_worker,
                initargs=(config, ctx, board_check, keep),
            ) as pool:
                sent = pool.map(_check_share, [list(map(str, share)) for share in chunks])
                for share, shared in zip(chunks, sent, strict=True):
                    part = first + [
                        _received(item, path) for item, path in zip(shared, share, strict=True)
                    ]
                    first = []
                    if each is not None:
                        each(_report(len(part), part, []))
                    checked += part
        finally:
            gc.unfreeze()
    return _report(len(files), checked, _duplicate_ids(checked))


def _can_fork() -> bool:
    # (multiprocessing and concurrent.futures, with logging, are imported for a pool only:
    # ~5 ms of a small validate's start)
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()


def _report(files: int, checked: list[Checked], more: list[Finding]) -> Report:
    findings = [f for item in checked for f in item.findings] + more
    findings.sort(key=Finding.sort_key)
    failed = {f.file for f in findings if f.severity == "error"}
    return Report(
        files,
        findings,
        [
            c.posting
            for c in checked
            if isinstance(c.posting, Posting) and str(c.path) not in failed
        ],
        [c.path for c in checked if str(c.path) in failed],
    )
