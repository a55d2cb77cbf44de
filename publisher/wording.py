"""``inclusive-language`` (warnings): age-coded phrases, gendered job titles and gender-coded
wording, each at its place in the text with a suggested alternative.

The lists are data (``publisher/data/wording.toml``, loaded once; the gender-coded stems are
gender-decoder's English lists of Gaucher, Friesen & Kay (2011), MIT licence, credited there).
Gender-coded words are reported when the posting is strongly masculine-coded (more than three
masculine-coded words beyond the feminine-coded ones, gender-decoder's "strongly" band); its
first masculine-coded words are then named, each at its place.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from itertools import islice
from typing import TYPE_CHECKING

from publisher.problems import Path, Problem
from publisher.schema import Posting

if TYPE_CHECKING:
    from publisher.rules import RuleContext

__all__ = ["check_wording"]

RULE = "inclusive-language"
MAX_CODED = 5  # masculine-coded words named per posting (the first ones)
STRONGLY = 3  # masculine-coded words beyond the feminine-coded ones before it is reported


WORD = re.compile(r"[\w-]+")
#: Byte -> itself lowercased when it may be part of a word (ASCII letters, digits, ``_``,
#: ``-``: what WORD matches in ASCII text), else a space.
_ASCII_WORDS = bytes(
    ord(chr(c).lower()) if c < 128 and (chr(c).isalnum() or chr(c) in "_-") else 0x20
    for c in range(256)
)


def _words(text: str) -> list[str]:
    """The words of ``text`` (what WORD finds), lowercased, in order."""
    if text.isascii():  # one pass of a byte table, then split: ~3x faster than the pattern
        return text.encode().translate(_ASCII_WORDS).decode().split()
    return WORD.findall(text.lower())


@cache
def _lists() -> tuple[
    re.Pattern[str], dict[str, tuple[str, str]], frozenset[str], tuple[str, ...], tuple[str, ...]
]:
    """The phrases as one pattern (a named group each: its hint and kind), and the
    masculine- and feminine-coded stems (a word is coded when it starts with one)."""
    data = tomllib.loads(files("publisher.data").joinpath("wording.toml").read_text("utf-8"))
    groups: list[str] = []
    hints: dict[str, tuple[str, str]] = {}
    for kind, table in (("age-coded", data["age"]), ("a gendered job title", data["titles"])):
        for pattern, hint in table.items():
            name = f"p{len(hints)}"
            hints[name] = (hint, kind)
            groups.append(f"(?P<{name}>{pattern})")
    phrases = re.compile(rf"(?i)(?<![\w-])(?:{'|'.join(groups)})(?![\w-])")
    # The word each phrase starts with ("max(imum)?" gives max and maximum): a posting with
    # none of these words has none of the phrases.
    starts = frozenset(
        word
        for table in (data["age"], data["titles"])
        for pattern in table
        for alternative in pattern.split("|")
        if (m := re.match(r"([a-z]+)(?:\(([a-z]+)\)\?)?", alternative))
        for word in (m.group(1), m.group(1) + (m.group(2) or ""))
    )
    return phrases, hints, starts, tuple(data["masculine"]), tuple(data["feminine"])


def _texts(posting: Posting) -> Iterator[tuple[Path, str]]:
    yield ("title",), posting.title
    yield ("summary",), posting.summary
    for name in ("responsibilities", "qualifications", "preferred_qualifications", "benefits"):
        for i, text in enumerate(getattr(posting, name)):
            yield (name, i), text
    if posting.work_environment:
        yield ("work_environment",), posting.work_environment


#: Words judged so far in this process, and those found coded (a set of postings reuses a few
#: thousand words: each is judged once; set operations then sort a posting's words in C).
_SEEN: set[str] = set()
_MASCULINE: set[str] = set()
_FEMININE: set[str] = set()


def _judge(words: set[str], masculine: tuple[str, ...], feminine: tuple[str, ...]) -> None:
    """Sort words not seen before into the coded sets (a masculine stem wins)."""
    for word in words - _SEEN:
        if word.startswith(masculine):
            _MASCULINE.add(word)
        elif word.startswith(feminine):
            _FEMININE.add(word)
    _SEEN.update(words)


def check_wording(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    phrases, hints, starts, masculine, feminine = _lists()
    texts = list(_texts(posting))
    # Judged over the distinct words of the whole posting (a set of postings reuses a few
    # thousand words: each is judged once); located only where something is found.
    words = _words("\n".join(t for _, t in texts))
    distinct = set(words)
    if not starts.isdisjoint(distinct):
        for path, text in texts:
            for found in phrases.finditer(text):
                hint, kind = hints[found.lastgroup or ""]
                yield Problem(
                    RULE,
                    f"'{found.group(0)}' is {kind}: {hint}",
                    path,
                    "warning",
                    needle=found.group(0),
                )
    _judge(distinct, masculine, feminine)
    male = sum(map(words.count, distinct & _MASCULINE))  # coded words are few
    balance = sum(map(words.count, distinct & _FEMININE))
    if male - balance <= STRONGLY:
        return
    coded = (
        (path, word)
        for path, text in texts
        for word in WORD.findall(text)
        if word.lower() in _MASCULINE
    )
    for path, word in islice(coded, MAX_CODED):  # (the texts after the last are not read)
        yield Problem(
            RULE,
            f"'{word}' is masculine-coded (Gaucher et al. 2011), and the "
            f"posting is strongly masculine-coded ({male} such words to "
            f"{balance} feminine-coded): say what the work needs in plainer terms",
            path,
            "warning",
            needle=word,
        )
