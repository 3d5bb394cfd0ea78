"""The hourly online update: warm-start from the active student, fine-tune on what happened since its data
cutoff, add new products, and hand the candidate to the one model lifecycle (registry.lifecycle), which promotes it
only when both the held-out gate and an off-policy estimate on recent logged lists say it is not worse.

    >>> version = student_update()           # None when nothing happened since the last update
    >>> version.kind, version.status, version.decision

The fine-tuning is `ml.online.online_update`, the function the closed-loop simulator's `update_policy` calls,
fed the same way: every shopper's recent sequence (next-item targets) and one `RewardExample` per rewarded item of
a served list (the history the list was made from, the item, its logged propensity, whether it was bought).
Half of every next-item batch (`replay_share`) is replayed from the shoppers active in the month before the
window, so the candidate does not forget what the last hour did not show.

Two things are kept out of the fine-tuning so the checks stay honest:
- the gate shoppers' last events (registry.is_gate_shopper): the gate scores the candidate and the active version
  on exactly those, as the nightly retrain's gate does;
- the rewards of a salted-hash share of served lists (`offpolicy_share`): the off-policy check's log
  (services.offpolicy_check).

Along its seams: `data` (what an update learns from) and `update` (the run).
"""

from __future__ import annotations

from dragonrec.recommender.services.offpolicy_check import (
    OFFPOLICY_SALT,
    LoggedList,
    is_offpolicy_list,
    offpolicy_estimate,
    offpolicy_log,
    offpolicy_passes,
    online_settings,
    page_orders,
)
from dragonrec.recommender.services.online.data import (
    data_cutoff,
    new_products,
    nothing_new,
    recent_sequences,
    reward_examples,
)
from dragonrec.recommender.services.online.update import student_update

__all__ = [
    "OFFPOLICY_SALT",
    "LoggedList",
    "data_cutoff",
    "is_offpolicy_list",
    "new_products",
    "nothing_new",
    "offpolicy_estimate",
    "offpolicy_log",
    "offpolicy_passes",
    "online_settings",
    "page_orders",
    "recent_sequences",
    "reward_examples",
    "student_update",
]
