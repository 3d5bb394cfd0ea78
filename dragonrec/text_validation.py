"""Text that JSON can carry but our storage cannot, found before it reaches the database (a shared helper: the
catalog's writes and tracking's events both check it; it imports no app).

Why these two: PostgreSQL text and jsonb cannot hold U+0000 (a `DataError` at insert time), and a lone UTF-16
surrogate (`"\\ud800"` is valid JSON) has no UTF-8 encoding, so the driver fails before the row reaches the server.
"""

from __future__ import annotations

import re
from typing import Any

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
MAX_WALK = 10_000  # values visited per item; the parser bounds nesting depth, this bounds breadth


def text_problem(text: str) -> str:
    """Why this string cannot be stored, or "" when it can."""
    match = _BAD_TEXT.search(text)
    if match is None:
        return ""
    if match.group() == "\x00":
        return "contains a NUL character"
    return "contains a lone UTF-16 surrogate (not valid Unicode text)"


def bad_text_error(value: Any, *, path: str = "") -> str:
    """'<path>: <why>' for the first string (dict keys included) anywhere in `value` that cannot be stored, else "".

    Iterative, so a deep value costs no recursion; paths read like `context.page` or `context.tags[2]`.
    """
    stack: list[tuple[str, Any]] = [(path, value)]
    visited = 0
    while stack:
        where, current = stack.pop()
        visited += 1
        if visited > MAX_WALK:
            return f"{where or 'event'}: too many values"
        if isinstance(current, str):
            problem = text_problem(current)
            if problem:
                return f"{where or 'value'}: {problem}"
        elif isinstance(current, dict):
            for key, child in current.items():
                key_text = str(key)
                problem = text_problem(key_text)
                if problem:
                    return f"{where or 'event'}: a key {problem}"
                stack.append((f"{where}.{key_text}" if where else key_text, child))
        elif isinstance(current, list):
            stack.extend((f"{where}[{index}]", child) for index, child in enumerate(current))
    return ""


def printable(text: Any, *, limit: int = 64) -> str:
    """`text` made safe to echo back in a JSON response: NULs dropped, lone surrogates replaced, length bounded."""
    cleaned = _BAD_TEXT.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", str(text))
    return cleaned[:limit]
