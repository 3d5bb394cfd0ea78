"""A small electronics shop for the teacher tests.

The fake LLM server (`tests/llm_server.py`, mode "good") scores a candidate 2 points per title word (3+ letters)
it shares with the history's titles. With HISTORY below: ARM 4 (dell, monitor), KEYBOARD 4 (logitech, wireless),
CABLE 0, SECOND_MONITOR 6 (dell, ultrasharp, monitor).
"""

from __future__ import annotations

from dragonrec.recommender.core.types import HistoryEvent, Preferences, Product
from dragonrec.recommender.teacher.prompt import HistoryItem

MONITOR = Product(1, "Dell UltraSharp monitor 27in", "Electronics > Monitors", "Dell", 329.0)
MOUSE = Product(2, "Logitech wireless mouse", "Electronics > Mice", "Logitech", 29.9)
ARM = Product(10, "Dell monitor arm", "Electronics > Monitor accessories", "Dell", 89.0)
KEYBOARD = Product(11, "Logitech wireless keyboard", "Electronics > Keyboards", "Logitech", 59.0)
CABLE = Product(12, "USB-C cable 2m", "Electronics > Cables", "Anker", 9.9)
SECOND_MONITOR = Product(13, "Dell UltraSharp monitor 24in", "Electronics > Monitors", "Dell", 249.0)

HISTORY: list[HistoryItem] = [(HistoryEvent(1, "purchase", 1000.0), MONITOR), (HistoryEvent(2, "view", 1100.0), MOUSE)]
PREFERENCES = Preferences(categories=("Electronics",), price_max=400.0)
CANDIDATES = [ARM, KEYBOARD, CABLE, SECOND_MONITOR]
EXPECTED_GOOD_SCORES = {ARM.id: 4.0, KEYBOARD.id: 4.0, CABLE.id: 0.0, SECOND_MONITOR.id: 6.0}
