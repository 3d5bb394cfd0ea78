import { attributionContext, createAttributionStore, type AttributionStore } from "./attribution";
import { readCsrfToken } from "./cookies";
import { EventQueue } from "./queue";
import { defaultStorage, readJson, removeKey, writeJson } from "./storage";
import type {
  Attribution,
  DocumentLike,
  EventType,
  FetchLike,
  StorageLike,
  TrackedEvent,
  WindowLike,
} from "./types";
import { uuid4 } from "./uuid";

export interface TrackerOptions {
  /** Where batches are POSTed. Same origin, so the shopper cookie goes along. Default `/api/events/`. */
  endpoint?: string;
  /** Events per request; a full batch is sent at once. Default 50 (the server takes up to 500). */
  batchSize?: number;
  /** A partial batch waits at most this long after its first event. Default 2000 ms. */
  flushIntervalMs?: number;
  /** Failed attempts in a row before the tracker stops retrying on its own (events stay queued). Default 10. */
  maxRetries?: number;
  /** Full-jitter backoff: the n-th retry waits random() * min(backoffMaxMs, backoffBaseMs * 2^(n-1)). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Queue bound; beyond it the oldest events are dropped (reason `queue_full`). Default 1000. */
  maxQueueSize?: number;
  /** Body cap for the `pagehide` request: browsers allow 64 KiB of keepalive/beacon data in flight. */
  keepaliveMaxBytes?: number;
  /** Persistent queue; default `localStorage`, `null` keeps the queue in memory only. */
  storage?: StorageLike | null;
  storageKey?: string;
  /** Where clicked-recommendation attribution is remembered; default `localStorage`. */
  attributionStorage?: StorageLike | null;
  fetch?: FetchLike;
  /** Used on `pagehide` when `fetch(…, {keepalive: true})` is unavailable. Default `navigator.sendBeacon`. */
  sendBeacon?: ((url: string, data: Blob) => boolean) | null;
  /** Whether `fetch` supports `keepalive`; detected from `Request.prototype` by default. */
  keepalive?: boolean;
  /** Value of the `X-CSRFToken` header; default reads the `csrftoken` cookie. */
  getCsrfToken?: () => string | null | undefined;
  /** Called once for every event that will never be delivered, with the reason. */
  onDrop?: (event: TrackedEvent, reason: string) => void;
  now?: () => number;
  random?: () => number;
  /** Default `navigator.onLine` (true when unknown). */
  isOnline?: () => boolean;
  /** Listened to for `pagehide`, `online` and `offline`; default `window`, `null` for none. */
  window?: WindowLike | null;
  /** Listened to for `visibilitychange`; default `document`, `null` for none. */
  document?: DocumentLike | null;
  /** Nothing is sent before this settles (e.g. the first API call that issues the shopper cookie)... */
  waitFor?: Promise<unknown>;
  /** ...or before this much time has passed since the tracker was created. Default 10 000 ms. */
  waitForTimeoutMs?: number;
  /** How long one tab's claim to send the shared queue lasts (see docs/tracking.md, "Several tabs"). */
  leaseMs?: number;
  logger?: Pick<Console, "warn">;
}

export interface TrackProps {
  productId?: number;
  quantity?: number;
  value?: string | number | null;
  context?: Record<string, unknown>;
}

export interface PurchaseItem {
  productId: number;
  quantity?: number;
  /** Line value (price x quantity), a decimal string or a number (rounded to 2 places). */
  value?: string | number | null;
  /** Overrides the remembered attribution of this product. */
  attribution?: Attribution | null;
}

export interface ListImpression {
  requestId: string;
  list: Attribution["list"];
  productIds: number[];
}

export interface Tracker {
  track(type: EventType, props?: TrackProps): TrackedEvent;
  /** GA4 `view_item`. */
  view(productId: number, context?: Record<string, unknown>): TrackedEvent;
  /** GA4 `search`. Returns null for an empty query. */
  search(query: string): TrackedEvent | null;
  /** GA4 `add_to_cart`; without `attribution`, the remembered click on this product (if any) is used. */
  addToCart(productId: number, quantity?: number, attribution?: Attribution | null): TrackedEvent;
  removeFromCart(productId: number, quantity?: number): TrackedEvent;
  /** GA4 `purchase`: one event per line, sharing `context.order_id`. */
  purchase(items: PurchaseItem[], attribution?: Attribution | null): TrackedEvent[];
  /** GA4 `view_item_list`: one `impression` event per `requestId`, however often it is called. */
  listImpression(list: ListImpression): TrackedEvent | null;
  /** GA4 `select_item`: also remembers the attribution for a later add_to_cart / purchase. */
  click(productId: number, attribution: Attribution): TrackedEvent;
  /** Sends everything queued now (respecting backoff and offline); resolves when done or paused. Never rejects. */
  flush(): Promise<void>;
  /** Number of events not yet confirmed by the server (all tabs). */
  pending(): number;
  readonly attribution: AttributionStore;
  /** Removes listeners and timers (tests, hot reload). Queued events stay in storage. */
  destroy(): void;
}

type Outcome = { kind: "done" } | { kind: "split" } | { kind: "retry"; retryAfterMs?: number };

const DEFAULTS = {
  endpoint: "/api/events/",
  batchSize: 50,
  flushIntervalMs: 2000,
  maxRetries: 10,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  maxQueueSize: 1000,
  // 64 KiB is the keepalive quota per page; stay under it with room for headers.
  keepaliveMaxBytes: 60_000,
  storageKey: "dragonrec:queue",
  // Longer than any sane request, short enough that a crashed tab does not hold the queue for long.
  leaseMs: 10_000,
  // A hung first request must not hold the events (and every flush() caller) forever.
  waitForTimeoutMs: 10_000,
};

// Context is capped at 4 KB server-side; 100 ids of a list fit comfortably.
const MAX_IMPRESSION_IDS = 100;

function formatValue(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return Number.isFinite(value) ? value.toFixed(2) : null;
  return value;
}

function utf8Length(s: string): number {
  return typeof TextEncoder !== "undefined" ? new TextEncoder().encode(s).length : s.length * 3;
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function detectKeepalive(): boolean {
  return typeof Request !== "undefined" && "keepalive" in Request.prototype;
}

function defaultBeacon(): ((url: string, data: Blob) => boolean) | null {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return nav && typeof nav.sendBeacon === "function" ? nav.sendBeacon.bind(nav) : null;
}

/**
 * Creates the DragonRec tracker: a batched, persistent, retrying event queue (Segment analytics-next's batched
 * dispatcher, Snowplow's outQueue) with no dependency on React or anything else.
 *
 * ```ts
 * const tracker = createTracker();
 * tracker.view(42);
 * tracker.click(7, { requestId: list.request_id, position: 1, list: "home" });
 * tracker.addToCart(7, 1); // carries request_id / position of the click above
 * ```
 */
export function createTracker(options: TrackerOptions = {}): Tracker {
  const opts = { ...DEFAULTS, ...stripUndefined(options) };
  const now = options.now ?? (() => Date.now());
  const random = options.random ?? Math.random;
  const fetchFn: FetchLike | undefined =
    options.fetch ?? (typeof fetch === "function" ? (input, init) => fetch(input, init) : undefined);
  const storage = options.storage === undefined ? defaultStorage("localStorage") : options.storage;
  const getCsrfToken = options.getCsrfToken ?? readCsrfToken;
  const logger = options.logger ?? console;
  const isOnline =
    options.isOnline ??
    (() => {
      const nav = (globalThis as { navigator?: Navigator }).navigator;
      return !nav || nav.onLine !== false;
    });
  const keepaliveSupported = options.keepalive ?? detectKeepalive();
  const sendBeacon = options.sendBeacon === undefined ? defaultBeacon() : options.sendBeacon;
  const win: WindowLike | null =
    options.window === undefined ? ((globalThis as { window?: WindowLike }).window ?? null) : options.window;
  const doc: DocumentLike | null =
    options.document === undefined
      ? ((globalThis as { document?: DocumentLike }).document ?? null)
      : options.document;

  const drop = (event: TrackedEvent, reason: string): void => {
    logger.warn(`[dragonrec] event ${event.id} (${event.type}) dropped: ${reason}`);
    try {
      options.onDrop?.(event, reason);
    } catch {
      // A faulty callback must not stop delivery of the other events.
    }
  };

  const queue = new EventQueue(storage, opts.storageKey, opts.maxQueueSize, (e) => drop(e, "queue_full"));
  const attribution = createAttributionStore(
    options.attributionStorage === undefined ? defaultStorage("localStorage") : options.attributionStorage,
    "dragonrec:attribution",
    now,
  );

  const tabId = uuid4(random);
  const leaseKey = `${opts.storageKey}:lease`;
  const impressed = new Set<string>();
  // Ids in a pagehide/visibilitychange request still unanswered: closing a tab fires both events.
  const leaving = new Set<string>();

  let destroyed = false;
  let offline = false; // set by the `offline` event, cleared by `online`
  const online = (): boolean => !offline && isOnline();
  let ready: Promise<unknown> | null = options.waitFor
    ? Promise.race([
        options.waitFor.catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, opts.waitForTimeoutMs)),
      ])
    : null;
  let running: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Infinity;
  let failures = 0;
  let notBefore = 0; // backoff: no regular send before this time
  let throttledUntil = 0; // Retry-After: not even the pagehide request before this time
  // Lowered after a 413 so that later batches are not rejected again.
  let batchLimit = opts.batchSize;

  // ---- scheduling -------------------------------------------------------------------------------------------

  function schedule(delayMs: number): void {
    if (destroyed) return;
    const at = now() + delayMs;
    if (timer !== undefined && timerAt <= at) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      void flush();
    }, delayMs);
  }

  function afterEnqueue(): void {
    if (queue.size() >= opts.batchSize) void flush();
    else schedule(opts.flushIntervalMs);
  }

  // ---- the cross-tab lease ----------------------------------------------------------------------------------

  function acquireLease(): boolean {
    if (!storage) return true;
    const lease = readJson(storage, leaseKey) as { owner?: string; expires?: number } | undefined;
    if (lease && lease.owner !== tabId && typeof lease.expires === "number" && lease.expires > now()) {
      return false;
    }
    if (!writeJson(storage, leaseKey, { owner: tabId, expires: now() + opts.leaseMs })) return true;
    // Read back: of two tabs writing at once, the last writer wins and the other one backs off.
    const check = readJson(storage, leaseKey) as { owner?: string } | undefined;
    return !check || check.owner === tabId;
  }

  function releaseLease(): void {
    if (!storage) return;
    const lease = readJson(storage, leaseKey) as { owner?: string } | undefined;
    if (lease && lease.owner === tabId) removeKey(storage, leaseKey);
  }

  // ---- sending ----------------------------------------------------------------------------------------------

  function headers(): Record<string, string> {
    const h: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
    const token = getCsrfToken();
    if (token) h["X-CSRFToken"] = token;
    return h;
  }

  async function readBody(res: Response): Promise<unknown> {
    try {
      return await res.json();
    } catch {
      return undefined;
    }
  }

  /** Applies a response to the batch it answers; shared by regular sends and the pagehide request. */
  async function handleResponse(batch: TrackedEvent[], res: Response): Promise<Outcome> {
    if (res.status === 413) {
      if (batch.length > 1) {
        batchLimit = Math.max(1, Math.ceil(batch.length / 2));
        return { kind: "split" };
      }
      if (queue.remove([batch[0].id]).size > 0) drop(batch[0], "too_large: the server refused the event's size (413)");
      return { kind: "done" };
    }
    if (res.status === 400 || res.status === 422) {
      // The body as a whole is malformed: resending it can only fail again.
      const body = (await readBody(res)) as { detail?: unknown } | undefined;
      const detail = body && body.detail !== undefined ? `: ${JSON.stringify(body.detail)}` : "";
      const removed = queue.remove(batch.map((e) => e.id));
      batch.filter((e) => removed.has(e.id)).forEach((e) => drop(e, `http_${res.status}${detail}`));
      return { kind: "done" };
    }
    if (res.ok) {
      const body = (await readBody(res)) as { results?: unknown } | undefined;
      if (!body || !Array.isArray(body.results)) {
        // A 2xx without per-item results still means the batch was stored.
        queue.remove(batch.map((e) => e.id));
        return { kind: "done" };
      }
      const byId = new Map<string, { status?: unknown; error?: unknown }>();
      for (const r of body.results as Array<{ id?: unknown; status?: unknown; error?: unknown }>) {
        if (r && typeof r.id === "string") byId.set(r.id, r);
      }
      const settled = batch.filter((e) => byId.has(e.id)); // the rest stays queued and goes again
      // Reported once, even when the pagehide request and a regular one both answered for it.
      const removed = queue.remove(settled.map((e) => e.id));
      for (const event of settled) {
        const result = byId.get(event.id)!;
        if (result.status === "rejected" && removed.has(event.id)) {
          drop(event, `rejected: ${typeof result.error === "string" ? result.error : "no reason given"}`);
        }
      }
      // Nothing settled means the answer is unusable: back off instead of resending in a tight loop.
      return settled.length > 0 ? { kind: "done" } : { kind: "retry" };
    }
    // 429, 5xx, 408, and anything else unexpected (403 after a CSRF rotation, a proxy's 404): keep and retry.
    return { kind: "retry", retryAfterMs: parseRetryAfter(res.headers.get("Retry-After"), now()) };
  }

  async function sendBatch(batch: TrackedEvent[]): Promise<Outcome> {
    if (!fetchFn) return { kind: "retry" };
    let res: Response;
    try {
      res = await fetchFn(opts.endpoint, {
        method: "POST",
        headers: headers(),
        body: JSON.stringify({ events: batch }),
        credentials: "same-origin",
      });
    } catch {
      return { kind: "retry" }; // network error, offline, CORS misconfiguration
    }
    return handleResponse(batch, res);
  }

  async function drain(): Promise<void> {
    if (ready) {
      await ready;
      ready = null;
    }
    for (;;) {
      if (destroyed || !online()) return; // the `online` event resumes
      const wait = notBefore - now();
      if (wait > 0) {
        schedule(wait);
        return;
      }
      const batch = queue.list().slice(0, Math.min(opts.batchSize, batchLimit));
      if (batch.length === 0) return;
      if (!acquireLease()) {
        // Another tab is sending the shared queue right now; look again shortly.
        schedule(opts.flushIntervalMs);
        return;
      }
      let outcome: Outcome;
      try {
        outcome = await sendBatch(batch);
      } finally {
        releaseLease();
      }
      if (outcome.kind === "retry") {
        failures += 1;
        if (failures > opts.maxRetries) {
          logger.warn(
            `[dragonrec] ${failures - 1} retries failed; ${queue.size()} events stay queued until the next event, ` +
              "the next `online` event or the next page load",
          );
          failures = 0;
          notBefore = 0;
          return;
        }
        const cap = Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** (failures - 1));
        const jitter = random() * cap; // "full jitter" (AWS Architecture Blog, Exponential Backoff and Jitter)
        const delay = outcome.retryAfterMs ?? jitter;
        notBefore = now() + delay;
        if (outcome.retryAfterMs !== undefined) throttledUntil = notBefore;
        schedule(delay);
        return;
      }
      if (outcome.kind === "done") failures = 0;
      // "split" and "done" go straight on with the next batch.
    }
  }

  function flush(): Promise<void> {
    if (destroyed) return Promise.resolve();
    if (!running) {
      running = drain()
        .catch((err: unknown) => logger.warn("[dragonrec] flush failed", err))
        .finally(() => {
          running = null;
        });
    }
    return running;
  }

  /** Last chance before the page goes away: one keepalive request (or a beacon). Events stay queued until confirmed. */
  function flushOnExit(): void {
    if (destroyed || !online() || now() < throttledUntil) return;
    const events = queue
      .list()
      .filter((e) => !leaving.has(e.id))
      .slice(0, opts.batchSize);
    if (events.length === 0) return;
    const batch: TrackedEvent[] = [];
    let size = utf8Length('{"events":[]}');
    for (const e of events) {
      const s = utf8Length(JSON.stringify(e)) + 1;
      if (size + s > opts.keepaliveMaxBytes) break;
      batch.push(e);
      size += s;
    }
    if (batch.length === 0) return;
    const body = JSON.stringify({ events: batch });
    if (keepaliveSupported && fetchFn) {
      try {
        batch.forEach((e) => leaving.add(e.id));
        const settle = () => batch.forEach((e) => leaving.delete(e.id));
        fetchFn(opts.endpoint, {
          method: "POST",
          keepalive: true,
          headers: headers(),
          body,
          credentials: "same-origin",
        })
          // If the page lives on (tab hidden, bfcache), confirmed events leave the queue; otherwise the next page
          // load sends them again and the server answers `duplicate`.
          .then((res) => handleResponse(batch, res))
          .catch(() => undefined)
          .finally(settle);
        return;
      } catch {
        batch.forEach((e) => leaving.delete(e.id));
        // Some browsers throw synchronously when the keepalive quota is exceeded: try the beacon.
      }
    }
    if (sendBeacon) {
      try {
        sendBeacon(opts.endpoint, new Blob([body], { type: "application/json" }));
      } catch {
        // Nothing else to try: the events are still in storage for the next page load.
      }
    }
  }

  // ---- listeners --------------------------------------------------------------------------------------------

  const onPageHide = (): void => {
    flushOnExit();
    releaseLease();
  };
  const onVisibility = (): void => {
    if (doc?.visibilityState === "hidden") flushOnExit();
  };
  const onOnline = (): void => {
    offline = false;
    failures = 0;
    notBefore = 0;
    void flush();
  };
  const onOffline = (): void => {
    // Pauses sending (see online()); the request already in flight, if any, simply fails and is retried.
    offline = true;
  };
  win?.addEventListener("pagehide", onPageHide);
  win?.addEventListener("online", onOnline);
  win?.addEventListener("offline", onOffline);
  doc?.addEventListener("visibilitychange", onVisibility);

  // ---- the public API ---------------------------------------------------------------------------------------

  function track(type: EventType, props: TrackProps = {}): TrackedEvent {
    const event: TrackedEvent = {
      id: uuid4(random),
      type,
      timestamp: new Date(now()).toISOString(),
      quantity: props.quantity ?? 1,
      value: formatValue(props.value),
      context: props.context ?? {},
    };
    if (props.productId !== undefined) event.product_id = props.productId;
    if (!destroyed) {
      queue.add(event);
      afterEnqueue();
    }
    return event;
  }

  function contextFor(productId: number, given?: Attribution | null): Record<string, unknown> {
    const a = given ?? attribution.get(productId);
    return a ? attributionContext(a) : {};
  }

  const tracker: Tracker = {
    track,
    view: (productId, context) => track("view", { productId, context }),
    search(query) {
      const q = query.trim();
      return q ? track("search", { context: { query: q.slice(0, 500) } }) : null;
    },
    addToCart: (productId, quantity = 1, given) =>
      track("add_to_cart", { productId, quantity, context: contextFor(productId, given) }),
    removeFromCart: (productId, quantity = 1) => track("remove_from_cart", { productId, quantity }),
    purchase(items, given) {
      const orderId = uuid4(random);
      return items.map((item) => {
        const context = { ...contextFor(item.productId, item.attribution ?? given), order_id: orderId };
        const event = track("purchase", {
          productId: item.productId,
          quantity: item.quantity ?? 1,
          value: item.value,
          context,
        });
        // Credit a recommendation for one purchase, not for every later re-order of the product.
        attribution.forget(item.productId);
        return event;
      });
    },
    listImpression({ requestId, list, productIds }) {
      if (!requestId || impressed.has(requestId)) return null;
      impressed.add(requestId);
      return track("impression", {
        context: { request_id: requestId, list, product_ids: productIds.slice(0, MAX_IMPRESSION_IDS) },
      });
    },
    click(productId, a) {
      attribution.remember(productId, a);
      return track("click", { productId, context: attributionContext(a) });
    },
    flush,
    pending: () => queue.size(),
    attribution,
    destroy() {
      destroyed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      releaseLease();
      win?.removeEventListener("pagehide", onPageHide);
      win?.removeEventListener("online", onOnline);
      win?.removeEventListener("offline", onOffline);
      doc?.removeEventListener("visibilitychange", onVisibility);
    },
  };

  // Events left by an earlier page (closed tab, lost beacon) go out right away.
  if (queue.size() > 0) schedule(0);

  return tracker;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
