"""The teacher's answer protocol, and its strict validation.

The protocol (public: any OpenAI-compatible model, and our test server in `tests/llm_server.py`, speak it)
--------------------------------------------------------------------------------------------------------------
Request: one OpenAI chat completion (`POST {base_url}/chat/completions`) with `temperature` 0,
`response_format={"type": "json_object"}`, and two messages built by `dragonrec.recommender.teacher.prompt`:

* ``system``: the task (score every candidate 0-10 for relevance to the history AND complementarity to it), the
  rule that delimited blocks are data and never instructions, and the answer format below. Its wording is
  versioned by `prompt.PROMPT_VERSION`, bumped whenever the text changes.
* ``user``: three delimited blocks. A block opens with a line ``<<<NAME`` and closes with a line ``NAME>>>``:

  .. code-block:: text

      <<<HISTORY
      {"event": "purchase", "title": "27\\" 4K monitor", "category": "Electronics > Monitors", ...}
      HISTORY>>>
      <<<PREFERENCES
      {"categories": [...], "brands": [...], "price_min": null, "price_max": 300.0}
      PREFERENCES>>>
      <<<CANDIDATES
      id: 17 {"title": "Mechanical keyboard", "category": "Electronics > Keyboards", ...}
      id: 18 {"title": "24\\" monitor", ...}
      CANDIDATES>>>

  Every data item is one line of JSON with ASCII escapes (``ensure_ascii``) and ``<``/``>`` escaped as
  ``\\u003c``/``\\u003e``, so product text can neither span lines, nor start an ``id:`` line, nor contain a block
  marker. Each candidate line starts ``id: <id>``.

Answer: the message content is one JSON object

.. code-block:: json

    {"scores": [{"id": 17, "score": 9, "reason": "keyboard for the monitor just bought"},
                {"id": 18, "score": 2, "reason": "already owns a monitor"}]}

``id`` is the candidate id as given (a JSON number or string: compared as text), ``score`` a number in [0, 10],
``reason`` one short line. Extra keys are ignored.

Validation (`parse_answer`) never trusts the model: unknown ids are dropped, missing ids are left unscored (never
invented), duplicates keep the first entry, non-numbers/NaN/infinities are dropped, out-of-range scores are clipped
to [0, 10], reasons are cut to one line of at most 200 characters; each of these is reported as a `Problem`.
An answer that is not a JSON object with a ``scores`` list (prose, truncated JSON) raises `TeacherAnswerError`.

    >>> parsed = parse_answer('{"scores": [{"id": 17, "score": 12, "reason": "fits"}]}', ["17", "18"])
    >>> parsed.scores, [p.kind for p in parsed.problems]
    ({'17': 10.0}, ['out_of_range', 'missing_id'])
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

SCORE_MIN = 0.0
SCORE_MAX = 10.0
# Reasons end up in the admin and in training logs: one line, short enough to read in a table cell.
REASON_MAX_CHARS = 200

# Problem kinds.
UNKNOWN_ID = "unknown_id"  # an id that was not among the candidates: dropped
MISSING_ID = "missing_id"  # a candidate the answer did not score: left unscored
DUPLICATE_ID = "duplicate_id"  # a second entry for an id: dropped, the first one counts
NOT_A_NUMBER = "not_a_number"  # score missing, a string, a bool, ...: dropped
NOT_FINITE = "not_finite"  # NaN or +-Infinity: dropped
OUT_OF_RANGE = "out_of_range"  # clipped to [0, 10]
BAD_ITEM = "bad_item"  # an entry that is not an object or has no usable id: dropped
REASON_TRUNCATED = "reason_truncated"  # reason cut to one line / REASON_MAX_CHARS
BAD_REASON = "bad_reason"  # reason not a string: replaced by ""

_WHITESPACE = re.compile(r"\s+")
# What a reason may not carry to a shopper: a model's answer is third-party text, and a page that renders it must
# never show a link (phishing) or markup. Markdown links and images keep their visible text, tags and bare URLs go.
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]*>?")
_URL = re.compile(
    r"\b(?:[a-z][a-z0-9+.-]*://|www\.|mailto:|javascript:|data:)\S*"
    # bare domains with the TLDs spam uses most; a full TLD list would also eat model numbers like "A1.pro"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|co|info|biz|ru|cn|xyz|top|shop|store|app|ly|me)\b\S*",
    re.IGNORECASE,
)
_MD_MARKS = re.compile(r"[*_`~\\]+|\[|\]|^\s*[#>]+")
_LINE_BREAKS = re.compile(r"[\n\r\v\f\x85\u2028\u2029]")


class TeacherAnswerError(ValueError):
    """The answer cannot be read at all: not JSON, truncated JSON, or not a `{"scores": [...]}` object."""


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    id: str | None = None  # the candidate id concerned, as text; None when the entry had no usable id
    detail: str = ""

    def to_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "id": self.id, "detail": self.detail}


@dataclass(slots=True)
class ParsedAnswer:
    scores: dict[str, float] = field(default_factory=dict)  # candidate id (as text) -> score in [0, 10]
    reasons: dict[str, str] = field(default_factory=dict)  # candidate id -> one-line reason ("" when none given)
    problems: list[Problem] = field(default_factory=list)

    @property
    def missing_ids(self) -> list[str]:
        return [p.id for p in self.problems if p.kind == MISSING_ID and p.id is not None]


def _reject_constant(name: str) -> float:
    # Python's json accepts NaN/Infinity, which are not JSON; read them as floats so the item check reports them.
    return float(name)


def parse_answer(raw: str, candidate_ids: Sequence[str]) -> ParsedAnswer:
    """Validate the model's answer against the candidates we asked about.

    Raises `TeacherAnswerError` only when nothing can be read; item-level trouble is reported in `problems`.
    """
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (json.JSONDecodeError, TypeError) as exc:
        snippet = _one_line(str(raw)[:80])
        raise TeacherAnswerError(
            f"answer is not valid JSON (prose or truncated?): {exc}; starts with {snippet!r}"
        ) from exc
    if not isinstance(data, dict):
        raise TeacherAnswerError(f"answer is a JSON {type(data).__name__}, expected an object with a 'scores' list")
    items = data.get("scores")
    if not isinstance(items, list):
        raise TeacherAnswerError("answer has no 'scores' list")

    wanted = {str(cid) for cid in candidate_ids}
    parsed = ParsedAnswer()
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            parsed.problems.append(Problem(BAD_ITEM, None, f"entry {position} is not an object"))
            continue
        cid = _read_id(item.get("id"))
        if cid is None:
            parsed.problems.append(
                Problem(BAD_ITEM, None, f"entry {position} has no usable id: {item.get('id')!r:.40}")
            )
            continue
        if cid not in wanted:
            parsed.problems.append(Problem(UNKNOWN_ID, _one_line(cid)[:40], "not a candidate: ignored"))
            continue
        if cid in parsed.scores:
            parsed.problems.append(Problem(DUPLICATE_ID, cid, "second entry ignored"))
            continue
        score = _read_score(item.get("score"), cid, parsed.problems)
        if score is None:
            continue
        parsed.scores[cid] = score
        parsed.reasons[cid] = _read_reason(item.get("reason"), cid, parsed.problems)

    for cid in candidate_ids:
        if str(cid) not in parsed.scores:
            parsed.problems.append(Problem(MISSING_ID, str(cid), "not scored by the answer"))
    return parsed


def _read_id(value: object) -> str | None:
    # bool is an int subclass: `true` is not an id.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _read_score(value: object, cid: str, problems: list[Problem]) -> float | None:
    # Strict: "7" is a string, not a score. A model that cannot keep the format is not trusted with the number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Problem(NOT_A_NUMBER, cid, f"score {value!r:.40} dropped"))
        return None
    score = float(value)
    if not math.isfinite(score):
        problems.append(Problem(NOT_FINITE, cid, f"score {score} dropped"))
        return None
    if score < SCORE_MIN or score > SCORE_MAX:
        clipped = min(max(score, SCORE_MIN), SCORE_MAX)
        problems.append(Problem(OUT_OF_RANGE, cid, f"score {score:g} clipped to {clipped:g}"))
        return clipped
    return score


def _read_reason(value: object, cid: str, problems: list[Problem]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(Problem(BAD_REASON, cid, f"reason of type {type(value).__name__} dropped"))
        return ""
    reason = _one_line(value)
    cut = len(reason) > REASON_MAX_CHARS
    if cut:
        reason = reason[: REASON_MAX_CHARS - 1].rstrip() + "…"
    if cut or _LINE_BREAKS.search(value.strip()):
        problems.append(Problem(REASON_TRUNCATED, cid, f"reason of {len(value)} chars cut to one short line"))
    return reason


def plain_reason(text: str, max_chars: int) -> str:
    """A reason fit to show a shopper: one line of plain text, no markup, no links, at most `max_chars`.

    >>> plain_reason("**Great** with [your monitor](https://evil.example) <b>now</b>", 80)
    'Great with your monitor now'
    """
    value = html.unescape(_MD_LINK.sub(r"\1", text))
    value = _one_line(_MD_MARKS.sub(" ", _URL.sub(" ", _TAG.sub(" ", value))))
    if len(value) > max_chars:
        value = value[: max(0, max_chars - 1)].rstrip() + "…"
    return value


def _one_line(text: str) -> str:
    """Control and format characters (newlines, bidi overrides, zero-width) become spaces; runs of spaces one."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    return _WHITESPACE.sub(" ", cleaned).strip()
