"""Text from the data, shown as the text it is wherever the page renders Markdown.

Streamlit renders Markdown in titles, captions, alerts, subheaders and widget labels: a
district named ``**x**`` would show bold, ``[点此](javascript:alert(1))`` would become a link,
``$x$`` a formula and ``:red[x]`` red text. :func:`md` writes a value so that CommonMark (and
Streamlit's extensions of it) shows it character for character: every ASCII punctuation
character gets a backslash, which CommonMark guarantees to show as that character and
nothing else, so no emphasis, link, image, HTML, math, directive, heading or list can start.

Escapes do not stop one thing: after parsing, Streamlit's Markdown (GitHub's autolinks)
turns any text that reads as a web address or an e-mail address (``https://…``, ``www.…``,
``name@host.cn``) into a link, escaped or not. So :func:`md` also puts an invisible word
joiner (U+2060) where those patterns need two characters side by side: between ``:`` and
``//``, between ``www`` and ``.``, after ``@``. The text looks the same and reads as text.

Two more things keep a hostile value from disturbing what surrounds it: a right-to-left
override (U+202E) or other bidirectional control in a value is closed at its end (the value
is isolated, so it cannot reverse the text after it), and line breaks become spaces (a
caption stays one paragraph). :func:`short` cuts a very long value for display; the full
value stays where the planner can read it (the table, the tooltip's title).

Text the map's script shows is set as text in the browser (``display/map.js``), and HTML
built on the server uses :func:`html.escape`: neither needs this module.
"""

from __future__ import annotations

import re
import string

__all__ = ["BIDI_CONTROLS", "SHORT_CHARS", "WORD_JOINER", "isolate", "md", "short", "unlinked"]

#: Characters that start or end a bidirectional embedding, override or isolate.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_FSI, _PDI = "\u2068", "\u2069"
_ISOLATES = ("\u2066", "\u2067", "\u2068")
_PUNCTUATION = {ord(c): "\\" + c for c in string.punctuation}
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
#: Invisible, and no place for a line break: it only keeps its neighbours apart.
WORD_JOINER = "\u2060"
#: Where an autolink needs two characters side by side: ``:`` ``//``, ``www`` ``.``, ``@`` and what follows.
_LINK_JOINTS = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)

#: Longest value (in characters) shown whole in captions, option lists and labels.
SHORT_CHARS = 80


def isolate(value: str) -> str:
    """``value`` unchanged, or, when it holds bidirectional controls, wrapped in a first-strong
    isolate (U+2068 … U+2069) closed as often as the value opened isolates, so that no
    override or embedding reaches the text after it."""
    if not BIDI_CONTROLS.intersection(value):
        return value
    body = value.replace(_PDI, "")
    opened = sum(body.count(c) for c in _ISOLATES)
    return _FSI + body + _PDI * (opened + 1)


def unlinked(value: str) -> str:
    """``value`` with a word joiner wherever a web or e-mail address would start a link."""
    return _LINK_JOINTS.sub(WORD_JOINER, value)


def md(value: object) -> str:
    """``value`` as Markdown that renders as exactly its text (see the module's docstring).

    Parameters
    ----------
    value : object
        Any value; shown as ``str(value)``.

    Returns
    -------
    str
        The text with every ASCII punctuation character backslash-escaped, line breaks as
        spaces, bidirectional controls isolated and addresses kept from becoming links.
    """
    return unlinked(isolate(_BREAKS.sub(" ", str(value)))).translate(_PUNCTUATION)


def short(value: object, limit: int = SHORT_CHARS) -> str:
    """``value`` as text of at most ``limit`` characters: longer ones are cut and end in "…"."""
    s = str(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"
