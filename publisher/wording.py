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
from typing import TYPE_CHECKING

from publisher.problems import Path, Problem
from publisher.schema import Posting

if TYPE_CHECKING:
    from publisher.rules import RuleContext

__all__ = ["check_wording"]

RULE = "inclusive-language"
MAX_CODED = 5  # masculine-coded words named per posting (the first ones)
STRONGLY = 3  # masculine-coded words beyond the feminine-coded ones before it is reported


@cache
def _lists() -> tuple[list[tuple[re.Pattern[str], str, str]], re.Pattern[str],
                      re.Pattern[str]]:
    data = tomllib.loads(files("publisher.data").joinpath("wording.toml").read_text("utf-8"))
    phrases = [(re.compile(rf"(?i)(?<![\w-])(?:{pattern})(?![\w-])"), hint, kind)
               for kind, table in (("age-coded", data["age"]), ("a gendered job title",
                                                                data["titles"]))
               for pattern, hint in table.items()]

    def stems(words: list[str]) -> re.Pattern[str]:
        alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
        return re.compile(rf"(?i)(?<![\w-])(?:{alternatives})[\w-]*")

    return phrases, stems(data["masculine"]), stems(data["feminine"])


def _texts(posting: Posting) -> Iterator[tuple[Path, str]]:
    yield ("title",), posting.title
    yield ("summary",), posting.summary
    for name in ("responsibilities", "qualifications", "preferred_qualifications", "benefits"):
        for i, text in enumerate(getattr(posting, name)):
            yield (name, i), text
    if posting.work_environment:
        yield ("work_environment",), posting.work_environment


def check_wording(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    phrases, masculine, feminine = _lists()
    texts = list(_texts(posting))
    for path, text in texts:
        for pattern, hint, kind in phrases:
            for found in pattern.finditer(text):
                yield Problem(RULE, f"'{found.group(0)}' is {kind}: {hint}", path, "warning",
                              needle=found.group(0))
    coded = [(path, m.group(0)) for path, text in texts for m in masculine.finditer(text)]
    balance = sum(1 for _, text in texts for _ in feminine.finditer(text))
    if len(coded) - balance <= STRONGLY:
        return
    for path, word in coded[:MAX_CODED]:
        yield Problem(RULE, f"'{word}' is masculine-coded (Gaucher et al. 2011), and the "
                      f"posting is strongly masculine-coded ({len(coded)} such words to "
                      f"{balance} feminine-coded): say what the work needs in plainer terms",
                      path, "warning", needle=word)
