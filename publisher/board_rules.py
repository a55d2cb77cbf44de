"""Checks a posting against the rules each of its boards declares (``board-rule``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from publisher.adapter import BoardAdapter
from publisher.config import Config
from publisher.errors import ConfigError
from publisher.problems import Problem
from publisher.render import content_text, description_text
from publisher.schema import Posting

__all__ = ["board_checker", "check_board"]


def _rule(board: str, message: str, *path: str | int) -> Problem:
    return Problem("board-rule", message, tuple(path), board=board)


def check_board(posting: Posting, adapter: BoardAdapter[Any]) -> Iterator[Problem]:
    """Every violation of ``adapter``'s declared rules (all of them, not the first)."""
    name, rules = adapter.name, adapter.rules
    if rules.title_max is not None and len(posting.title) > rules.title_max:
        yield _rule(
            name,
            f"title is {len(posting.title)} characters; the board allows {rules.title_max}",
            "title",
        )
    if rules.description_min is not None:
        # Rendering only strips syntax, so Markdown three times the minimum always passes.
        raw = (
            len(posting.summary)
            + sum(map(len, posting.responsibilities))
            + sum(map(len, posting.qualifications))
        )
        content = content_text(posting) if raw < 3 * rules.description_min else None
        if content is not None and len(content) < rules.description_min:
            yield _rule(
                name,
                f"description is {len(content)} characters (brief, "
                "responsibilities and qualifications); the board needs at least "
                f"{rules.description_min}",
                "summary",
            )
    if rules.description_max is not None or rules.description_max_bytes is not None:
        text = description_text(posting)
        if rules.description_max is not None and len(text) > rules.description_max:
            yield _rule(
                name,
                f"description is {len(text)} characters; the board allows {rules.description_max}",
                "summary",
            )
        size = len(text.encode())
        if rules.description_max_bytes is not None and size > rules.description_max_bytes:
            yield _rule(
                name,
                f"description is {size} bytes; the board allows {rules.description_max_bytes}",
                "summary",
            )
    if rules.salary_required and posting.salary is None:
        yield _rule(name, "the board requires a salary", "id")
    if rules.apply_url_required and posting.apply.url is None:
        yield _rule(name, "the board requires apply.url (an e-mail is not enough)", "apply")
    if rules.employment_types is not None and posting.employment_type not in rules.employment_types:
        allowed = ", ".join(sorted(rules.employment_types))
        yield _rule(
            name,
            f"employment_type {posting.employment_type} is not supported (supported: {allowed})",
            "employment_type",
        )
    if rules.workplaces is not None and posting.workplace not in rules.workplaces:
        yield _rule(name, f"workplace {posting.workplace} is not supported", "workplace")
    if rules.countries is not None:
        for index, location in enumerate(posting.locations):
            if location.country not in rules.countries:
                yield _rule(
                    name,
                    f"country {location.country} is not served by the board",
                    "locations",
                    index,
                    "country",
                )
    if rules.max_locations is not None and len(posting.locations) > rules.max_locations:
        yield _rule(
            name,
            f"{len(posting.locations)} locations; the board takes at most {rules.max_locations}",
            "locations",
        )
    yield from (
        Problem(p.rule, p.message, p.path, p.severity, name, p.needle, p.at_key)
        for p in adapter.extra_checks(posting)
    )


def _together(posting: Posting, adapter: BoardAdapter[Any], built: Any) -> Iterator[Problem]:
    """Rules between the boards of one posting: boards that exclude each other, and a job
    page that must be the one the posting's page board publishes."""
    name, rules = adapter.name, adapter.rules
    for other in sorted(rules.excludes & set(posting.boards)):
        yield _rule(
            name,
            f"the posting names both {name} and {other}: the board would get "
            "the job twice; keep one",
            "boards",
            name,
        )
    mine = getattr(adapter.settings, "job_url", None)
    if not rules.same_job_page or not mine:
        return
    for other in posting.boards:
        try:
            page = built.get(other, posting.boards[other])
        except ConfigError:
            continue
        site = getattr(page.settings, "site_url", None) if page.kind == "page" else None
        if site and site.format(id=posting.id) != mine.format(id=posting.id):
            yield _rule(
                name,
                f"its job_url gives {mine.format(id=posting.id)}, but {other} "
                f"publishes the job page at {site.format(id=posting.id)}: they "
                "must be the same page",
                "boards",
                name,
            )


def board_checker(config: Config) -> Callable[[Posting], list[Problem]]:
    """A function checking a posting's boards: known names, valid overrides, board rules."""
    from publisher.registry import Adapters, board_hint
    from publisher.registry import boards as _boards

    built = Adapters(config)

    def check(posting: Posting) -> list[Problem]:
        problems: list[Problem] = []
        for name, overrides in posting.boards.items():
            if name not in _boards():
                problems.append(
                    Problem(
                        "schema",
                        f"unknown board '{name}' ({board_hint(name)})",
                        ("boards", name),
                        at_key=True,
                    )
                )
                continue
            try:
                adapter = built.get(name, overrides)
            except ConfigError as exc:
                problems.append(
                    Problem("schema", exc.message, ("boards", name), board=name, at_key=True)
                )
                continue
            problems.extend(check_board(posting, adapter))
            problems.extend(_together(posting, adapter, built))
        return problems

    return check
