"""Request-rate limits per API scope, counted per shopper and per client address in the Redis cache.

A view opts in with `throttle_scope = "<scope>"`; its limits are REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
entries named "<scope>.shopper" and "<scope>.address" ("600/min"; a missing or empty rate means no limit).
Over a limit, DRF answers 429 with Retry-After.

Why not DRF's SimpleRateThrottle: it keeps every request's timestamp in one cached list that each request reads,
rewrites and races on (3000/min is a 3000-float pickle per request, and concurrent requests lose each other's
writes). A window counter is one atomic INCR on a key that expires `period` after the client's first request;
its cost is that a client can spend up to twice the rate across two back-to-back windows, which is fine for a
limit meant to stop floods, not to meter honest clients.

Counted budgets (`budgets_take`): where a request's cost is not 1 (a batch of 500 events costs 500, a purchase costs
one of the shopper's hourly purchases and its value), the caller names each item's costs and one Lua script grants
items in order while every budget they draw on has room, adds what it granted and sets each new window's expiry:
one Redis round trip for a whole batch, atomic against concurrent requests, and nothing counted for what was refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.cache import cache, caches
from django.core.cache.backends.base import default_key_func
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' -> (600, 60); the period is read from its first letter, like DRF's."""
    number, _, period = rate.partition("/")
    return int(number), PERIODS[period.strip()[0].lower()]


def shopper_ident_for(*, user_id: int | None, session_id: str) -> str:
    """The rate-limit identity of a user (else an anonymous session id); "" for nobody."""
    if user_id:
        return f"u:{user_id}"
    if not session_id:
        return ""
    # hashed: session ids are client text of any shape, a cache key should not be
    return "s:" + hashlib.blake2b(session_id.encode("utf-8", "replace"), digest_size=12).hexdigest()


def _ttl(key: str) -> int | None:
    """Seconds until the window closes (django-redis' `ttl`; another cache backend gets the whole period)."""
    ttl = getattr(cache, "ttl", None)
    try:
        return int(ttl(key)) if ttl is not None else None
    except Exception:
        return None


class ScopedRateThrottle(BaseThrottle):
    kind = ""

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def ident(self, request: Request, view: Any) -> str:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None)
        rate = (api_settings.DEFAULT_THROTTLE_RATES or {}).get(f"{scope}.{self.kind}") if scope else None
        if not rate:
            return True
        ident = self.ident(request, view)
        if not ident:
            return True
        limit, period = parse_rate(rate)  # type: ignore[arg-type]  # drf-stubs type rates as numbers, not "600/min"
        # The window opens at the client's first request and closes `period` later (the key's expiry).
        key = f"dragonrec:throttle:{scope}:{self.kind}:{ident}"
        try:
            cache.add(key, 0, timeout=period)
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: a new window, and this request opens it
            return True
        except Exception:  # the cache being down must not take the API with it: fail open
            logger.warning("throttle counter unavailable; not limiting", exc_info=True)
            return True
        if count is None or int(count) <= limit:
            return True
        ttl = _ttl(key)
        self.retry_after = float(ttl if ttl and 0 < ttl <= period else period)
        return False

    def wait(self) -> float | None:
        return self.retry_after


class ShopperRateThrottle(ScopedRateThrottle):
    """'<scope>.shopper': one shopper (user, else session id) cannot flood, whatever address they come from."""

    kind = "shopper"

    def ident(self, request: Request, view: Any) -> str:
        # The view names its shopper (tracking.authentication.ShopperMixin.rate_limit_ident): identity is tracking's,
        # and a shared helper at the package root imports no app. A view that names nobody: address limit only.
        ident_of = getattr(view, "rate_limit_ident", None)
        return str(ident_of(request)) if ident_of is not None else ""


class AddressRateThrottle(ScopedRateThrottle):
    """'<scope>.address': one client address cannot flood by inventing session ids. The address is REMOTE_ADDR,
    or the X-Forwarded-For entry REST_FRAMEWORK["NUM_PROXIES"] hops back when behind trusted proxies."""

    kind = "address"

    def ident(self, request: Request, view: Any) -> str:
        return self.get_ident(request) or ""


# ------------------------------------------------------------------------------------------------ counted budgets


class Budget(NamedTuple):
    """A counter: at most `limit` units per window of `period` seconds (opened by the first unit counted).

    The counter is the key `name` itself, or with a `field`, that field of the key `name`: the counters of one
    shopper (events, purchases, purchase value) are three fields of one key, written by one command for the three
    (as three keys, a batch of 100 shoppers cost Redis 300 keys created, each with its expiry). Each field keeps its
    own window (its end beside its count, unix seconds by Redis' clock) whatever the others do; the key lives until
    the last of them ends (the scripts' `_COUNTERS`). A named tuple: ingest builds ~300 a batch, each made and
    hashed in C (a frozen dataclass took three times as long)."""

    name: str  # "events:address:10.0.0.1" or "shopper:u:42": the key in the cache, less its prefix
    limit: int
    period: int
    field: str = ""  # "events": the counter is this field of the key `name` (no spaces)

    @property
    def cache_key(self) -> str:
        """The counter's key for the cache API (which adds the cache's prefix itself; a field has a key of its own
        there); under the prefix retention sweeps."""
        return f"dragonrec:throttle:{self.name}:{self.field}" if self.field else f"dragonrec:throttle:{self.name}"

    @property
    def key(self) -> str:
        """The key in Redis itself (a field's: the key of its fields)."""
        return cache.make_key(f"dragonrec:throttle:{self.name}")


@dataclass(frozen=True)
class Refusal:
    """Why an item was not granted: the first of its budgets without room, and when that window closes."""

    budget: Budget
    retry_after: int


Cost = tuple[Budget, int]  # a budget and the units an item draws from it

# The counter scripts' common part. KEYS: the distinct keys. ARGV[1]: ONE string, the kinds of counter, "field
# limit period" each (field "-": the key itself is the counter); ARGV[2]: ONE string, per counter "k j" (its key's
# index in KEYS, its kind's): two arguments rather than four per counter (redis-py packs each argument on its own,
# and Lua parsed four tokens a counter in a quarter of the script's time). It reads every key with one MGET (in
# parts: Lua's unpack() is bounded by its C stack), what each counter holds in its open window (`used`; 0 when none
# is open), and defines count(units), which adds units[i] (whole, not negative) to counter i: a counter without an
# open window opens one. A key of its own is a number with the window's expiry (SET .. EX); a key of fields holds
# "field count end" for each field whose window is open (end: unix seconds, Redis' clock) and lives until the last
# of them ends, rewritten by one SET .. EX when any changes. A hash would take a read, a write and an expiry per
# shopper (HGETALL, HSET, EXPIRE); this takes one SET (and a share of the MGET). Units are written with "%d" (Lua
# would print 1e+14 otherwise).
_COUNTERS = """
local call = redis.call
local now = tonumber(call('TIME')[1])
local ck, kind, key, field, limit, period, nc = {}, {}, {}, {}, {}, {}, 0
-- per kind, its period and a new window's end as text too: numbers written as text cost Lua a sprintf each
local kfield, klimit, kperiod, kperiod_text, kend_text, nk = {}, {}, {}, {}, {}, 0
for f, l, p in string.gmatch(ARGV[1], '(%S+) (%d+) (%d+)') do
  nk = nk + 1; kfield[nk] = f ~= '-' and f; klimit[nk] = tonumber(l); kperiod[nk] = tonumber(p)
  kperiod_text[nk] = p; kend_text[nk] = string.format('%d', now + kperiod[nk])
end
for k, j in string.gmatch(ARGV[2], '(%d+) (%d+)') do
  nc = nc + 1; k = tonumber(k); j = tonumber(j)
  ck[nc] = k; kind[nc] = j; key[nc] = KEYS[k]; field[nc] = kfield[j]; limit[nc] = klimit[j]; period[nc] = kperiod[j]
end
local raw = {}
for s = 1, #KEYS, 4000 do
  local part = call('MGET', unpack(KEYS, s, math.min(s + 3999, #KEYS)))
  for j = 1, #part do raw[s + j - 1] = part[j] end
end
local packs, used, open, ends = {}, {}, {}, {}
for i = 1, nc do
  local f, value = field[i], raw[ck[i]]
  if f then
    local pack = packs[ck[i]]
    if not pack then
      pack = {}
      if value then
        for name, c, e in string.gmatch(value, '(%S+) (%d+) (%d+)') do pack[name] = {tonumber(c), tonumber(e), c, e} end
      end
      packs[ck[i]] = pack
    end
    local counter = pack[f]
    open[i] = counter ~= nil and counter[2] > now
    ends[i] = counter and counter[2] or 0
    used[i] = open[i] and counter[1] or 0
  else
    open[i] = value and true or false
    used[i] = tonumber(value or '0') or 0
  end
end
-- a field's counter: {count, window end, their texts (nil: write the number), the window's period as text}
local dirty = {}
local function save()
  for k in pairs(dirty) do
    local parts, last, ex = {}, now, nil
    for name, counter in pairs(packs[k]) do
      local e = counter[2]
      if e > now then
        parts[#parts + 1] = name .. ' ' .. (counter[3] or string.format('%d', counter[1])) .. ' '
          .. (counter[4] or string.format('%d', e))
        if e > last then last = e; ex = counter[5] end
      end
    end
    if #parts > 0 then
      call('SET', KEYS[k], table.concat(parts, ' '), 'EX', ex or string.format('%d', last - now))
    else
      call('DEL', KEYS[k])
    end
  end
end
-- texts: units[i] as text, where the caller has it (nil: written from the number)
local function count(units, texts)
  for i = 1, nc do
    local u = units[i]
    if u > 0 then
      if field[i] then
        local pack = packs[ck[i]]
        if open[i] then
          local counter = pack[field[i]]
          counter[1] = used[i] + u; counter[3] = nil
        else
          pack[field[i]] = {u, now + period[i], texts and texts[i], kend_text[kind[i]], kperiod_text[kind[i]]}
        end
        dirty[ck[i]] = true
      elseif open[i] then
        call('INCRBY', key[i], string.format('%d', u))
        -- an old window is asked (a counter left without an expiry would never reset)
        if call('TTL', key[i]) < 0 then call('EXPIRE', key[i], period[i]) end
      else
        call('SET', key[i], texts and texts[i] or string.format('%d', u), 'EX', kperiod_text[kind[i]])
      end
    end
  end
  save()
end
"""

# Grant items in order while every counter they draw on has room. ARGV[3]: ONE string of space-separated integers:
# the item count, then for each item its cost count and (counter index, units) pairs (one argument, not one per
# number: redis-py packed each of a 500-event batch's ~2,500 arguments one by one). Returns two such strings (one
# reply each, not one per item): per item 0 (granted) or the index of the first full counter, and per counter the
# seconds left in its window (-3 for a counter that refused nothing: its TTL is not read).
_TAKE = (
    _COUNTERS
    + """
local stream = string.gmatch(ARGV[3], '%-?%d+')
local n = tonumber(stream())
local added, refused, full_counters = {}, {}, {}
for i = 1, nc do added[i] = 0 end
for item = 1, n do
  local m = tonumber(stream())
  local costs, full = {}, 0
  for c = 1, m do
    local k, units = tonumber(stream()), tonumber(stream())
    costs[c] = {k, units}
    if full == 0 and used[k] + added[k] + units > limit[k] then full = k end
  end
  if full == 0 then
    for c = 1, m do added[costs[c][1]] = added[costs[c][1]] + costs[c][2] end
  end
  refused[item] = full
  if full > 0 then full_counters[full] = true end
end
count(added)
local ttls = {}
for i = 1, nc do
  if not full_counters[i] then ttls[i] = -3  -- read only where an item was refused
  elseif field[i] then ttls[i] = open[i] and ends[i] - now or period[i]
  else ttls[i] = call('TTL', key[i]) end
end
return {table.concat(refused, ' '), table.concat(ttls, ' ')}
"""
)

# The usual batch fits: every counter has room for the whole batch's units on it, and then the item-by-item walk
# above grants every item (units are never negative, so every prefix fits too). This script decides that and grants
# it in one pass over the counters: ARGV[3] ONE string, each counter's total units, none negative. 1: all granted
# and counted; 0: some counter lacks room, nothing was written, and the caller runs _TAKE, which decides item by
# item. For a 500-event batch of 100 shoppers (~300 counters) this skips walking the ~2,500-number stream in Lua,
# about half of _TAKE's time.
_TAKE_ALL = (
    _COUNTERS
    + """
local units, texts, n = {}, {}, 0
for u in string.gmatch(ARGV[3], '%d+') do n = n + 1; units[n] = tonumber(u); texts[n] = u end
for i = 1, nc do
  if used[i] + units[i] > limit[i] then return 0 end
end
count(units, texts)
return 1
"""
)


def rate_budget(scope: str, kind: str, ident: str) -> Budget | None:
    """The REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] entry "<scope>.<kind>" as a budget for `ident`; None when the
    rate is missing or empty (no limit) or nobody is named."""
    rate = (api_settings.DEFAULT_THROTTLE_RATES or {}).get(f"{scope}.{kind}")
    if not rate or not ident:
        return None
    limit, period = parse_rate(rate)  # type: ignore[arg-type]  # drf-stubs type rates as numbers, not "600/min"
    return Budget(f"{scope}:{kind}:{ident}", limit, period)


def budgets_take(items: Sequence[Sequence[Cost]]) -> list[Refusal | None]:
    """Grant `items` in order, each only if every budget it draws on still has room for its units; count what was
    granted. One entry per item: None (granted) or the Refusal. The cache being down grants everything (like the
    request throttles: an outage must not take ingestion with it), with a warning."""
    # items of one shopper share one cost list (events_record builds it once): walk each distinct list once
    distinct = {id(costs): costs for costs in items}.values()
    budgets = list(dict.fromkeys(budget for costs in distinct for budget, _ in costs))
    if not budgets:
        return [None] * len(items)
    index = {budget: i for i, budget in enumerate(budgets)}
    try:
        refused, ttls = _take_redis(budgets, index, items)
    except NotImplementedError:  # not django-redis: the same rules through the cache API, without atomicity
        refused, ttls = _take_cache(budgets, index, items)
    except Exception:
        logger.warning("event budget counters unavailable; not limiting", exc_info=True)
        return [None] * len(items)
    out: list[Refusal | None] = []
    for full in refused:
        if not full:
            out.append(None)
            continue
        budget = budgets[full - 1]
        ttl = ttls[full - 1]
        out.append(Refusal(budget, int(ttl) if ttl and 0 < ttl <= budget.period else budget.period))
    return out


# ARGV[3]: the units to give back to each counter. A counter whose window closed meanwhile is left alone (its
# window, the one that counted the units, is gone; the new one never counted them), so no counter goes below what
# was really stored in its window.
_GIVE_BACK = (
    _COUNTERS
    + """
local i = 0
for u in string.gmatch(ARGV[3], '%d+') do
  i = i + 1
  if open[i] and field[i] then
    local counter = packs[ck[i]][field[i]]
    -- never below 0 (a window opened by another request since the units were counted never counted them; the
    -- count is read back as digits only)
    counter[1] = math.max(0, used[i] - tonumber(u)); counter[3] = nil  -- its text is stale now
    dirty[ck[i]] = true
  elseif open[i] then
    call('DECRBY', key[i], u)
  end
end
save()
return i
"""
)


def budgets_give_back(items: Sequence[Sequence[Cost]]) -> None:
    """Undo `budgets_take`'s counting of `items` it granted but that were not stored after all (ingest counts a
    batch before its write, and learns from the write which ids were stored already). One round trip; the cache
    being down gives nothing back, with a warning (as taking grants everything then)."""
    totals: dict[Budget, int] = {}
    for costs in items:
        for budget, units in costs:
            totals[budget] = totals.get(budget, 0) + int(units)
    totals = {budget: units for budget, units in totals.items() if units > 0}
    if not totals:
        return
    from django_redis import get_redis_connection

    try:
        try:
            client = get_redis_connection("default")
        except NotImplementedError:  # not django-redis: the cache API (no atomicity there either)
            for budget, units in totals.items():
                with contextlib.suppress(ValueError):  # a closed window: nothing to give back
                    cache.decr(budget.cache_key, units)
            return
        keys, counters = _counters(list(totals))
        client.register_script(_GIVE_BACK)(keys=keys, args=[*counters, " ".join(map(str, totals.values()))])
    except Exception:
        logger.warning("event budget counters unavailable; nothing given back", exc_info=True)


def budget_used(budget: Budget) -> int:
    """What `budget`'s open window has counted (0: none open); for operators and tests."""
    from django_redis import get_redis_connection

    client = get_redis_connection("default")
    if not budget.field:
        return int(client.get(budget.key) or 0)
    words = (client.get(budget.key) or b"").decode().split()  # "field count end" per field
    counters = {words[i]: (int(words[i + 1]), int(words[i + 2])) for i in range(0, len(words), 3)}
    count, end = counters.get(budget.field, (0, 0))
    return count if end > int(client.time()[0]) else 0


def _take_redis(
    budgets: list[Budget], index: dict[Budget, int], items: Sequence[Sequence[Cost]]
) -> tuple[list[int], list[int]]:
    from django_redis import get_redis_connection

    client = get_redis_connection("default")
    keys, counters = _counters(budgets)
    totals = _totals(budgets, index, items)
    if totals is not None and _take_all(client, keys, counters, totals):
        return [0] * len(items), [-3] * len(budgets)
    refused, ttls = client.register_script(_TAKE)(keys=keys, args=[*counters, _take_stream(index, items)])
    return [int(r) for r in refused.split()], [int(t) for t in ttls.split()]


def _take_all(client: Any, keys: list[str], counters: list[str], totals: Sequence[int]) -> bool:
    """_TAKE_ALL: count every total when every budget has room for it; False, nothing counted, otherwise."""
    return bool(client.register_script(_TAKE_ALL)(keys=keys, args=[*counters, " ".join(map(str, totals))]) == 1)


def budgets_take_all(totals: Sequence[Cost]) -> bool:
    """Count the whole of `totals` (units per budget, each budget once, none negative) when every budget has room
    for its total, in one round trip; False, nothing counted, when any lacks room (then only `budgets_take`'s
    item-by-item walk says which items fit). What a batch whose items all fit costs, without naming each item's
    costs (ingest's fast lane: a shopper's events are one total). The cache being down grants everything, with a
    warning, as `budgets_take` does; a cache other than django-redis: False."""
    if not totals:
        return True
    from django_redis import get_redis_connection

    try:
        client = get_redis_connection("default")
    except NotImplementedError:
        return False
    try:
        keys, counters = _counters([budget for budget, _ in totals])
        return _take_all(client, keys, counters, [int(units) for _, units in totals])
    except Exception:
        logger.warning("event budget counters unavailable; not limiting", exc_info=True)
        return True


def _counters(budgets: Sequence[Budget]) -> tuple[list[str], list[str]]:
    """The counter scripts' KEYS (each key once: a shopper's one key for its three counters) and ARGV[1] and [2]:
    the kinds of counter ("field limit period", each once: a batch's 300 counters are three kinds) and per budget
    "k j" (its key's index in KEYS, its kind's)."""
    names: dict[str, int] = {}
    kinds: dict[tuple[int, int, str], int] = {}  # (limit, period, field): a Budget's tail
    spec = " ".join(
        [f"{names.setdefault(b.name, len(names) + 1)} {kinds.setdefault(b[1:], len(kinds) + 1)}" for b in budgets]
    )
    return _redis_keys(list(names)), [" ".join(f"{f or '-'} {limit} {period}" for limit, period, f in kinds), spec]


def _redis_keys(names: Sequence[str]) -> list[str]:
    """Each budget name's key in Redis: the cache's prefix and version before it, written once for all (Django's
    default key function; a project's own is called per key)."""
    backend = caches["default"]
    if getattr(backend, "key_func", None) is not default_key_func:
        return [backend.make_key(f"dragonrec:throttle:{name}") for name in names]
    prefix = backend.make_key("dragonrec:throttle:")
    return [prefix + name for name in names]


def _totals(budgets: list[Budget], index: dict[Budget, int], items: Sequence[Sequence[Cost]]) -> list[int] | None:
    """The units all `items` draw from each budget (None when an item gives units back: then only the item-by-item
    walk is exact)."""
    shared: dict[int, tuple[Sequence[Cost], int]] = {}  # items of one shopper share one cost list: count them
    for costs in items:
        seen = shared.get(id(costs))
        shared[id(costs)] = (costs, seen[1] + 1 if seen else 1)
    totals = [0] * len(budgets)
    for costs, count in shared.values():
        for budget, units in costs:
            if units < 0:
                return None
            totals[index[budget]] += int(units) * count
    return totals


def _take_stream(index: dict[Budget, int], items: Sequence[Sequence[Cost]]) -> str:
    """_TAKE's ARGV[3]: the item count, then per item its cost count and (counter index, units) pairs."""
    stream: list[int] = [len(items)]
    encoded: dict[int, list[int]] = {}  # items of one shopper share one cost list: encode it once
    for costs in items:
        part = encoded.get(id(costs))
        if part is None:
            part = encoded[id(costs)] = [len(costs)]
            for budget, units in costs:
                part += [index[budget] + 1, int(units)]
        stream += part
    return " ".join(map(str, stream))


# ------------------------------------------------------------------------------------------------ one round trip
# The recommendation endpoints count a request on all its ScopedRateThrottle windows with the counted-budget script,
# queued on the pipeline that also carries the rest of the request's Redis reads (tracking.shopper_views): the same
# limits, one round trip instead of two per window. A request counts as one unit on each; a refused one is not
# counted (it was counted before, which changes nothing a client can notice: it is refused either way).


def request_throttles_queue(pipe: Any, request: Request, view: Any, throttles: Sequence[Any]) -> tuple[list[Any], int]:
    """Queue the counting of this request on its ScopedRateThrottle windows onto `pipe`; returns what
    `request_throttles_resolve` needs and how many replies were queued (0 or 1)."""
    budgets: list[tuple[Any, Budget]] = []
    scope = getattr(view, "throttle_scope", None)
    for throttle in throttles:
        if isinstance(throttle, ScopedRateThrottle) and scope:
            budget = rate_budget(scope, throttle.kind, throttle.ident(request, view))
            if budget is not None:
                budgets.append((throttle, budget))
    if not budgets:
        return [], 0
    keys, counters = _counters([b for _, b in budgets])
    item = " ".join(f"{i + 1} 1" for i in range(len(budgets)))
    pipe.eval(_TAKE, len(keys), *keys, *counters, f"1 {len(budgets)} {item}")
    return budgets, 1


def request_throttles_resolve(budgets: list[Any], replies: list[Any] | None) -> list[float | None]:
    """The waits of the windows that refused the request (empty: allowed). Redis unreachable: allowed."""
    if not budgets or not replies:
        return []
    refused, ttls = (reply.split() for reply in replies[0])
    full = int(refused[0])
    if not full:
        return []
    throttle, budget = budgets[full - 1]
    ttl = int(ttls[full - 1])
    throttle.retry_after = float(ttl if 0 < ttl <= budget.period else budget.period)
    return [throttle.retry_after]


def _take_cache(
    budgets: list[Budget], index: dict[Budget, int], items: Sequence[Sequence[Cost]]
) -> tuple[list[int], list[int]]:
    stored = cache.get_many([b.cache_key for b in budgets])
    used = [int(stored.get(b.cache_key) or 0) for b in budgets]
    added = [0] * len(budgets)
    refused: list[int] = []
    for costs in items:
        full = next(
            (index[b] + 1 for b, units in costs if used[index[b]] + added[index[b]] + units > b.limit),
            0,
        )
        if not full:
            for budget, units in costs:
                added[index[budget]] += units
        refused.append(full)
    for budget, units in zip(budgets, added, strict=True):
        if units:
            cache.add(budget.cache_key, 0, timeout=budget.period)
            cache.incr(budget.cache_key, units)
    return refused, [b.period for b in budgets]
