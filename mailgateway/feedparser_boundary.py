"""The stdlib MIME parser without a regular expression compiled for every multipart boundary.

Python 3.11's email.feedparser compiles `(?P<sep>--BOUNDARY)(?P<end>--)?(?P<ws>[ \\t]*)(?P<linesep>...)?$`
for each multipart it parses. Boundaries are random, so re's cache never hits: 0.2-0.26 ms of CPU per
multipart, 5 % of the gateway's work per mail. Later CPython versions match the same way as here: a
prefix test, then one regex compiled once for the rest of the line.

install() gives email.feedparser a stand-in for its `re` module whose compile() returns such a matcher
for exactly that pattern and defers to re.compile for anything else. The parser reads only the groups
'end' and 'linesep' of the match and its truth value, which the matcher gives identically
(tests/mailgateway/test_feedparser_boundary.py compares whole parses with and without it).
"""

from __future__ import annotations

import email.feedparser
import re

_HEAD = "(?P<sep>"
_TAIL = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_REST = re.compile(_TAIL[1:])
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


class _BoundaryMatcher:
    __slots__ = ("separator",)

    def __init__(self, separator: str):
        self.separator = separator

    def match(self, line: str):
        if not line.startswith(self.separator):
            return None
        return _REST.match(line, len(self.separator))


class _FeedparserRe:
    """email.feedparser's view of `re`: the module itself but for boundary patterns."""

    def __getattr__(self, name: str):
        return getattr(re, name)

    @staticmethod
    def compile(pattern, flags=0):
        if flags == 0 and isinstance(pattern, str) and pattern.startswith(_HEAD) and pattern.endswith(_TAIL):
            # The part between is re.escape(separator): a backslash before each escaped character.
            return _BoundaryMatcher(_UNESCAPE.sub(r"\1", pattern[len(_HEAD) : -len(_TAIL)]))
        return re.compile(pattern, flags)


def install() -> None:
    """Idempotent. On a Python whose parser no longer compiles that pattern, the stand-in simply defers
    every compile() to re."""
    if email.feedparser.re is re:
        email.feedparser.re = _FeedparserRe()
