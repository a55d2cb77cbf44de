"""The fast path of loading: yaml_rs (Rust, saphyr) for files both parsers read alike.

PyYAML's C parser still builds every node as a Python object and its constructor runs in
Python: ~200 µs for a posting, the largest share of ``jobpub validate``. yaml_rs builds the
Python values in Rust in ~20 µs. It reads YAML 1.2 as jobpub's loader does (``NO`` and
``yes`` stay text, ``012345`` is 12345, dates stay text with ``parse_datetime=False``,
duplicate keys are refused), but it differs elsewhere: it ignores unknown tags, reads
several documents, takes ``0b101``, ``-0x1``, ``0X1F`` and ``1_000`` as numbers, builds
collection keys as tuples, ends a block scalar at the end of a file without a line break or
without content with one, and takes ``|`` as text inside flow collections (found by
``tests/test_fast_yaml.py``). Flow collections over several lines go the strict way too.

So it is used only for text that has none of those features (:func:`_special`), and its
result only when every mapping key is text: anything else, and any file yaml_rs refuses,
goes the strict way (:func:`publisher.loader.load_document`), whose answer and message
stand. A file loaded here has no node tree: positions of its problems are found by composing
it with PyYAML when there are any (:class:`publisher.loader.Locator` does so on demand).

``tests/test_fast_yaml.py`` checks on generated YAML that both ways give the same values
(type for type) or the fast way declines.

Only the main thread uses it: yaml_rs 0.1.6 crashed the process (a segmentation fault inside
its extension) when called from the thread a sync loads postings in, after earlier syncs in
the same process (``tests/engine/test_lifecycle.py``, reproducibly); another thread reads
the strict way. ``validate`` and its pool's workers read in their main threads.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any

__all__ = ["DECLINED", "fast_load"]

try:
    import yaml_rs
except ImportError:  # pragma: no cover - a platform without its wheel: the strict way only
    yaml_rs = None  # type: ignore[assignment]

DECLINED: Any = object()
_MAIN = threading.main_thread()


@cache
def _odd_character() -> re.Pattern[str]:
    """Characters the two parsers treat differently (tabs, CR, controls, NEL, LS/PS, BOM:
    line breaks and refusals differ); needed only when ``str.isprintable`` says no, and
    compiled then (its ranges take ~5 ms)."""
    return re.compile(
        "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    )


#: Tags and anchors start a token (after a space, a line break or a flow sign, or at the
#: start); so do complex keys (``? key``). (An alias, ``*name``, needs an anchor: yaml_rs
#: refuses one without, and ``**bold**`` stays text.) Each pattern starts with its literal,
#: which the regex engine finds fast.
_INDICATORS = (
    re.compile(r"!(?<![^ \n\[{,]!)"),
    re.compile(r"&(?<![^ \n\[{,]&)"),
    re.compile(r"\?(?<![^ \n\[{,]\?)(?=[ \n,\]}]|\Z)"),
)
#: Numbers only YAML 1.1 or yaml_rs reads: 0b101, -0x1, +0o7, 0X1F, 1_000 (each search
#: starts at a literal character, which the regex engine finds fast).
_NUMBER = re.compile(r"0(?:[XOBb]|(?<=[-+]0)[xo])")
_UNDERSCORE = re.compile(r"_(?:[0-9]|(?<=[0-9]_))")
#: A block scalar header on the last line with text: yaml_rs reads ``a: |`` there as "\n"
#: (and ``|`` text that ends without a line break with one).
_HEADER_AT_END = re.compile(r"[|>][-+0-9]{0,2} *(?:#.*)?\Z")
#: What may follow a block scalar's ``|`` or ``>`` on its line.
_HEADER_REST = re.compile(r"[-+1-9]{0,2}(?: +#.*| *)")


def _line_span(text: str, at: int) -> tuple[int, int]:
    """Where the line holding ``text[at]`` starts and ends (before its line break)."""
    end = text.find("\n", at)
    return text.rfind("\n", 0, at) + 1, end if end >= 0 else len(text)


def _flow_over_lines(text: str) -> bool:
    """Whether a flow collection may go on past its line: a line that opens one must close
    as many, and hold no quote or comment (which could hide a bracket)."""
    for opener in "[{":
        at = text.find(opener)
        while at >= 0:
            start, end = _line_span(text, at)
            line = text[start:end]
            if (
                line.count("[") != line.count("]")
                or line.count("{") != line.count("}")
                or "'" in line
                or '"' in line
                or "#" in line
            ):
                return True
            at = text.find(opener, end)  # the rest of this line is judged
    return False


def _odd_block_scalar(text: str) -> bool:
    """Whether a ``|`` or ``>`` starts a token anywhere but as a block scalar's header after
    ``key:`` or ``-`` on a line without brackets (yaml_rs takes ``[|]`` and ``{a: |}`` as
    text, and ``|`` at the start of a line)."""
    for mark in "|>":
        at = text.find(mark)
        while at >= 0:
            if at == 0 or text[at - 1] in " \n[{,":
                start, end = _line_span(text, at)
                if (
                    text[at - 2 : at] not in (": ", "- ")
                    or any(c in text[start:end] for c in "[]{}")
                    or not _HEADER_REST.fullmatch(text, at + 1, end)
                ):
                    return True
            at = text.find(mark, at + 1)
    return False


def _special(text: str) -> bool:
    """Whether ``text`` may use something the two parsers read differently."""
    if not text.replace("\n", " ").isprintable() and _odd_character().search(text):
        return True
    if text.startswith(("---", "...", "%")) or "\n---" in text or "\n..." in text or "\n%" in text:
        return True  # several documents, directives
    if any(
        mark in text and pattern.search(text)
        for mark, pattern in zip("!&?", _INDICATORS, strict=True)
    ):
        return True
    if ("|" in text or ">" in text) and (
        not text.endswith("\n")
        or _HEADER_AT_END.search(text.rstrip().rpartition("\n")[2])
        or _odd_block_scalar(text)
    ):
        return True  # block scalars at the end of the text or where they cannot be
    if ("[" in text or "{" in text) and _flow_over_lines(text):
        return True
    return _NUMBER.search(text) is not None or (
        "_" in text and _UNDERSCORE.search(text) is not None
    )


def fast_load(text: str) -> Any:
    """The file's values, or :data:`DECLINED` when it must go the strict way."""
    if yaml_rs is None or threading.current_thread() is not _MAIN or _special(text):
        return DECLINED
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except (KeyboardInterrupt, SystemExit):  # pragma: no cover
        raise
    except BaseException:  # a Rust panic is a BaseException (pyo3): declined too
        return DECLINED
    return data if _keys_are_text(data) else DECLINED


def _keys_are_text(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            try:
                "".join(item)  # in C: a TypeError at the first key that is not text
            except TypeError:
                return False
            stack += item.values()
        elif type(item) is list:
            stack += item
    return True
