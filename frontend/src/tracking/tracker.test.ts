import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createTracker, parseRetryAfter, type TrackerOptions } from "./tracker";
import type { StorageLike, TrackedEvent } from "./types";

// ---- test doubles ---------------------------------------------------------------------------------------------

class MemoryStorage implements StorageLike {
  data = new Map<string, string>();
  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.data.set(key, value);
  }
  removeItem(key: string): void {
    this.data.delete(key);
  }
  queued(): TrackedEvent[] {
    return JSON.parse(this.getItem("dragonrec:queue") ?? "[]") as TrackedEvent[];
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

const acceptAll = (events: TrackedEvent[]): Response =>
  json(200, { results: events.map((e) => ({ id: e.id, status: "accepted" })) });

type Handler = (events: TrackedEvent[], init: RequestInit) => Response | Promise<Response>;

interface Call {
  url: string;
  init: RequestInit;
  events: TrackedEvent[];
}

/** The tracker sends its batches as JSON text; anything else is a failure of the test's premise. */
function bodyText(init: RequestInit): string {
  if (typeof init.body !== "string") throw new Error(`expected a JSON string body, got ${typeof init.body}`);
  return init.body;
}

/** A fake `/api/events/`: records every request and answers with `handler` (all accepted by default). */
function fakeServer(handler: Handler = acceptAll) {
  const calls: Call[] = [];
  let current = handler;
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const events = (JSON.parse(bodyText(init)) as { events: TrackedEvent[] }).events;
    calls.push({ url, init, events });
    return current(events, init);
  });
  return {
    fetch,
    calls,
    respondWith(h: Handler) {
      current = h;
    },
    sentIds: () => calls.flatMap((c) => c.events.map((e) => e.id)),
  };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** jsdom's Blob has no text(): read it the old way. */
function readBlob(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === "string" ? reader.result : "");
    reader.onerror = () => reject(reader.error ?? new Error("could not read the blob"));
    reader.readAsText(blob);
    void vi.advanceTimersByTimeAsync(10);
  });
}

const trackers: Array<{ destroy(): void }> = [];

function make(storage: StorageLike, server: ReturnType<typeof fakeServer>, extra: TrackerOptions = {}) {
  const onDrop = vi.fn();
  const logger = { warn: vi.fn() };
  const tracker = createTracker({
    storage,
    attributionStorage: storage,
    fetch: server.fetch,
    getCsrfToken: () => "csrf-token",
    onDrop,
    logger,
    random: () => 0.5,
    window: null,
    document: null,
    isOnline: () => true,
    keepalive: true,
    sendBeacon: null,
    ...extra,
  });
  trackers.push(tracker);
  return { tracker, onDrop, logger };
}

/** Runs due timers and lets pending promises (fetch, response.json()) settle. */
const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-11-26T10:00:00Z"));
});

afterEach(() => {
  trackers.splice(0).forEach((t) => t.destroy());
  vi.useRealTimers();
});

// ---- batching ------------------------------------------------------------------------------------------------

describe("batching", () => {
  it("sends a full batch of 50 at once and nothing before", async () => {
    const storage = new MemoryStorage();
    const server = fakeServer();
    const { tracker } = make(storage, server);

    for (let i = 1; i <= 49; i++) tracker.view(i);
    await tick(0);
    expect(server.calls).toHaveLength(0);

    tracker.view(50);
    await tick(0);
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0].events).toHaveLength(50);
    expect(server.calls[0].url).toBe("/api/events/");
    expect(server.calls[0].init.method).toBe("POST");
    expect(tracker.pending()).toBe(0);
    expect(storage.getItem("dragonrec:queue")).toBeNull();
  });

  it("sends a partial batch after the 2 s interval", async () => {
    const server = fakeServer();
    const { tracker } = make(new MemoryStorage(), server);

    tracker.view(1);
    tracker.search("usb-c hub");
    tracker.addToCart(3, 2);
    await tick(1999);
    expect(server.calls).toHaveLength(0);

    await tick(1);
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0].events.map((e) => e.type)).toEqual(["view", "search", "add_to_cart"]);
    expect(server.calls[0].events[1]).toMatchObject({ context: { query: "usb-c hub" } });
    expect(server.calls[0].events[1].product_id).toBeUndefined();
    expect(server.calls[0].events[2]).toMatchObject({ product_id: 3, quantity: 2 });
  });

  it("keeps one request in flight and splits a backlog into batches of 50", async () => {
    const server = fakeServer();
    const gates: Array<ReturnType<typeof deferred<void>>> = [];
    server.respondWith(async (events) => {
      const gate = deferred<void>();
      gates.push(gate);
      await gate.promise;
      return acceptAll(events);
    });
    const { tracker } = make(new MemoryStorage(), server);

    for (let i = 1; i <= 120; i++) tracker.view(i);
    await tick(5000);
    expect(server.calls).toHaveLength(1); // the second batch waits for the first answer

    gates[0].resolve();
    await tick(0);
    expect(server.calls).toHaveLength(2);
    gates[1].resolve();
    await tick(0);
    gates[2].resolve();
    await tick(0);
    expect(server.calls.map((c) => c.events.length)).toEqual([50, 50, 20]);
    expect(new Set(server.sentIds()).size).toBe(120);
    expect(tracker.pending()).toBe(0);
  });

  it("gives every event a UUID at enqueue time and sends the CSRF header", async () => {
    const server = fakeServer();
    const { tracker } = make(new MemoryStorage(), server);

    const a = tracker.view(1);
    const b = tracker.view(1);
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.timestamp).toBe("2026-11-26T10:00:00.000Z");

    await tracker.flush();
    const headers = server.calls[0].init.headers as Record<string, string>;
    expect(headers["X-CSRFToken"]).toBe("csrf-token");
    expect(headers["Content-Type"]).toBe("application/json");
    expect(server.calls[0].init.credentials).toBe("same-origin");
    expect(server.sentIds()).toEqual([a.id, b.id]);
  });

  it("waits for `waitFor` (the call that issues the shopper cookie) before sending", async () => {
    const server = fakeServer();
    const session = deferred<void>();
    const { tracker } = make(new MemoryStorage(), server, { waitFor: session.promise });

    tracker.view(1);
    await tick(3000);
    expect(server.calls).toHaveLength(0);

    session.resolve();
    await tick(0);
    expect(server.calls).toHaveLength(1);
    expect(tracker.pending()).toBe(0);
  });

  it("stops waiting for a `waitFor` that never settles after waitForTimeoutMs", async () => {
    const server = fakeServer();
    const { tracker } = make(new MemoryStorage(), server, {
      waitFor: new Promise(() => {}),
      waitForTimeoutMs: 5000,
    });
    tracker.view(1);
    await tick(4999);
    expect(server.calls).toHaveLength(0);
    await tick(1);
    expect(server.calls).toHaveLength(1);
  });
});

// ---- retries ---------------------------------------------------------------------------------------------------

describe("retries", () => {
  it("retries network errors with exponential backoff and full jitter, sending the same ids", async () => {
    const server = fakeServer();
    let failures = 2;
    server.respondWith((events) => {
      if (failures-- > 0) throw new TypeError("Failed to fetch");
      return acceptAll(events);
    });
    const storage = new MemoryStorage();
    // random() = 0.5: first retry after 0.5 * 1000 ms, second after 0.5 * 2000 ms.
    const { tracker, onDrop } = make(storage, server);

    const event = tracker.view(7);
    await tracker.flush();
    expect(server.calls).toHaveLength(1);
    expect(tracker.pending()).toBe(1);
    expect(storage.queued().map((e) => e.id)).toEqual([event.id]); // kept meanwhile

    await tick(499);
    expect(server.calls).toHaveLength(1);
    await tick(1);
    expect(server.calls).toHaveLength(2);

    await tick(999);
    expect(server.calls).toHaveLength(2);
    await tick(1);
    expect(server.calls).toHaveLength(3);

    expect(server.sentIds()).toEqual([event.id, event.id, event.id]);
    expect(tracker.pending()).toBe(0);
    expect(onDrop).not.toHaveBeenCalled();
  });

  it("honours Retry-After on 429 instead of its own backoff", async () => {
    const server = fakeServer();
    server.respondWith(() => json(429, { detail: "throttled" }, { "Retry-After": "5" }));
    // random() = 0 would mean an immediate retry if Retry-After were ignored.
    const { tracker } = make(new MemoryStorage(), server, { random: () => 0 });

    tracker.view(1);
    await tracker.flush();
    expect(server.calls).toHaveLength(1);

    server.respondWith(acceptAll);
    tracker.view(2); // new events must not jump the queue while throttled
    await tick(4999);
    expect(server.calls).toHaveLength(1);
    expect(tracker.pending()).toBe(2);

    await tick(1);
    expect(server.calls).toHaveLength(2);
    expect(server.calls[1].events).toHaveLength(2);
    expect(tracker.pending()).toBe(0);
  });

  it("retries 503 with backoff and keeps the events queued meanwhile", async () => {
    const server = fakeServer();
    server.respondWith(() => new Response("unavailable", { status: 503 }));
    const storage = new MemoryStorage();
    const { tracker, onDrop } = make(storage, server, { random: () => 1 });

    tracker.purchase([{ productId: 4, quantity: 1, value: "19.99" }]);
    await tracker.flush();
    await tick(999);
    expect(server.calls).toHaveLength(1);
    await tick(1); // 1 * 1000 ms
    expect(server.calls).toHaveLength(2);
    await tick(1999);
    expect(server.calls).toHaveLength(2);
    await tick(1); // 1 * 2000 ms
    expect(server.calls).toHaveLength(3);
    expect(storage.queued()).toHaveLength(1);

    server.respondWith(acceptAll);
    await tick(4000);
    expect(server.calls).toHaveLength(4);
    expect(tracker.pending()).toBe(0);
    expect(onDrop).not.toHaveBeenCalled();
  });

  it("stops retrying after maxRetries but keeps the events for the next trigger", async () => {
    const server = fakeServer();
    server.respondWith(() => new Response("", { status: 502 }));
    const { tracker, onDrop, logger } = make(new MemoryStorage(), server, { maxRetries: 2, random: () => 0.1 });

    tracker.view(1);
    await tracker.flush();
    await tick(60_000);
    expect(server.calls).toHaveLength(3); // first try + 2 retries
    await tick(600_000);
    expect(server.calls).toHaveLength(3);
    expect(tracker.pending()).toBe(1);
    expect(onDrop).not.toHaveBeenCalled();
    expect(logger.warn).toHaveBeenCalled();

    server.respondWith(acceptAll);
    tracker.view(2);
    await tick(2000);
    expect(server.calls[3].events).toHaveLength(2);
    expect(tracker.pending()).toBe(0);
  });

  it("parses Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-26T10:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Thu, 26 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

// ---- per-item results --------------------------------------------------------------------------------------------

describe("results", () => {
  it("removes accepted and duplicate events and drops rejected ones with the reason", async () => {
    const server = fakeServer((events) =>
      json(200, {
        results: [
          { id: events[0].id, status: "accepted" },
          { id: events[1].id, status: "duplicate" },
          { id: events[2].id, status: "rejected", error: "unknown product 999" },
        ],
      }),
    );
    const storage = new MemoryStorage();
    const { tracker, onDrop, logger } = make(storage, server);

    tracker.view(1);
    tracker.view(2);
    const bad = tracker.view(999);
    await tracker.flush();

    expect(tracker.pending()).toBe(0);
    expect(storage.queued()).toEqual([]);
    expect(onDrop).toHaveBeenCalledTimes(1);
    expect(onDrop).toHaveBeenCalledWith(expect.objectContaining({ id: bad.id }), "rejected: unknown product 999");
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining("unknown product 999"));
    await tick(30_000);
    expect(server.calls).toHaveLength(1);
  });

  it("keeps an event the answer does not mention and sends it again", async () => {
    const server = fakeServer((events) => json(200, { results: [{ id: events[0].id, status: "accepted" }] }));
    const { tracker } = make(new MemoryStorage(), server);

    tracker.view(1);
    const second = tracker.view(2);
    await tracker.flush();
    expect(server.calls).toHaveLength(2);
    expect(server.calls[1].events.map((e) => e.id)).toEqual([second.id]);
    expect(tracker.pending()).toBe(0);
  });

  it("drops the batch with a logged reason on 400", async () => {
    const server = fakeServer(() => json(400, { detail: "events: expected a list" }));
    const { tracker, onDrop, logger } = make(new MemoryStorage(), server);

    tracker.view(1);
    tracker.view(2);
    await tracker.flush();
    expect(tracker.pending()).toBe(0);
    expect(onDrop).toHaveBeenCalledTimes(2);
    expect(onDrop.mock.calls[0][1]).toBe('http_400: "events: expected a list"');
    expect(logger.warn).toHaveBeenCalledTimes(2);
  });

  it("splits a batch the server finds too large (413) and drops only a single oversize event", async () => {
    const server = fakeServer((events) =>
      events.length > 10 || events.some((e) => e.context.huge) ? new Response("", { status: 413 }) : acceptAll(events),
    );
    const { tracker, onDrop } = make(new MemoryStorage(), server);

    const huge = tracker.track("view", { productId: 1, context: { huge: "x".repeat(10) } });
    for (let i = 2; i <= 40; i++) tracker.view(i);
    await tracker.flush();

    expect(tracker.pending()).toBe(0);
    expect(onDrop).toHaveBeenCalledTimes(1);
    expect(onDrop).toHaveBeenCalledWith(expect.objectContaining({ id: huge.id }), expect.stringContaining("413"));
    const delivered = server.calls.filter((c) => c.events.length <= 10 && !c.events.some((e) => e.context.huge));
    expect(new Set(delivered.flatMap((c) => c.events.map((e) => e.id))).size).toBe(39);
  });
});

// ---- persistence -----------------------------------------------------------------------------------------------------

describe("persistence", () => {
  it("survives a reload: the next page sends the same events once, nothing lost, nothing doubled", async () => {
    const storage = new MemoryStorage();
    const down = fakeServer(() => {
      throw new TypeError("Failed to fetch");
    });
    const first = make(storage, down);
    const ids = [first.tracker.view(1).id, first.tracker.addToCart(1, 1).id, first.tracker.search("mouse")!.id];
    await first.tracker.flush();
    first.tracker.destroy(); // the page goes away before a retry succeeds
    expect(storage.queued().map((e) => e.id)).toEqual(ids);

    const up = fakeServer();
    const second = make(storage, up);
    expect(second.tracker.pending()).toBe(3);
    await tick(0);
    expect(up.calls).toHaveLength(1);
    expect(up.sentIds()).toEqual(ids);
    expect(second.tracker.pending()).toBe(0);

    const third = make(storage, up);
    await tick(10_000);
    expect(up.calls).toHaveLength(1);
    expect(third.tracker.pending()).toBe(0);
  });

  it("a lost pagehide request is resent by the next page and its duplicate counts as delivered", async () => {
    const storage = new MemoryStorage();
    const win = new EventTarget();
    const lost = fakeServer(() => new Promise<Response>(() => {})); // the page unloads before the answer
    const first = make(storage, lost, { window: win });
    const ids = [first.tracker.view(5).id, first.tracker.view(6).id];
    win.dispatchEvent(new Event("pagehide"));
    first.tracker.destroy();
    expect(lost.calls).toHaveLength(1);

    // The server stored them from the keepalive request, so it now answers `duplicate`.
    const again = fakeServer((events) => json(200, { results: events.map((e) => ({ id: e.id, status: "duplicate" })) }));
    const second = make(storage, again);
    await tick(0);
    expect(again.sentIds()).toEqual(ids);
    expect(second.tracker.pending()).toBe(0);
    expect(second.onDrop).not.toHaveBeenCalled();
  });

  it("ignores a corrupt stored queue", async () => {
    const storage = new MemoryStorage();
    storage.setItem("dragonrec:queue", "{not json");
    const server = fakeServer();
    const { tracker } = make(storage, server);
    expect(tracker.pending()).toBe(0);
    tracker.view(1);
    await tracker.flush();
    expect(server.calls[0].events).toHaveLength(1);
  });

  it("two tabs over one storage do not send the same batch at the same time", async () => {
    const storage = new MemoryStorage();
    const server = fakeServer();
    const gate = deferred<void>();
    server.respondWith(async (events) => {
      await gate.promise;
      return acceptAll(events);
    });
    const tabA = make(storage, server);
    const tabB = make(storage, server);

    tabA.tracker.view(1);
    tabB.tracker.view(2); // both land in the shared queue
    expect(tabA.tracker.pending()).toBe(2);
    void tabA.tracker.flush();
    await tick(0);
    void tabB.tracker.flush(); // A holds the lease: B waits
    await tick(0);
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0].events).toHaveLength(2);

    gate.resolve();
    await tick(10_000);
    expect(server.calls).toHaveLength(1);
    expect(tabB.tracker.pending()).toBe(0);
  });

  it("keeps working in memory when storage is full or missing", async () => {
    const full = new MemoryStorage();
    full.setItem = () => {
      throw new DOMException("quota", "QuotaExceededError");
    };
    for (const storage of [full, null]) {
      const server = fakeServer();
      const { tracker } = make(storage as StorageLike, server, { storage, attributionStorage: storage });
      const event = tracker.view(1);
      tracker.click(2, { requestId: "req-1", position: 1, list: "home" });
      expect(tracker.addToCart(2).context).toMatchObject({ request_id: "req-1" });
      expect(tracker.pending()).toBe(3);
      await tracker.flush();
      expect(server.sentIds()[0]).toBe(event.id);
      expect(tracker.pending()).toBe(0);
    }
  });

  it("bounds the queue and reports the oldest events it drops", () => {
    const { tracker, onDrop } = make(new MemoryStorage(), fakeServer(), { maxQueueSize: 3, batchSize: 50 });
    const first = tracker.view(1);
    tracker.view(2);
    tracker.view(3);
    tracker.view(4);
    expect(tracker.pending()).toBe(3);
    expect(onDrop).toHaveBeenCalledWith(expect.objectContaining({ id: first.id }), "queue_full");
  });
});

// ---- leaving the page -------------------------------------------------------------------------------------------------

describe("pagehide", () => {
  it("flushes with a keepalive fetch carrying the CSRF header; events stay stored until confirmed", async () => {
    const storage = new MemoryStorage();
    const win = new EventTarget();
    const server = fakeServer();
    const answer = deferred<Response>();
    server.respondWith(() => answer.promise);
    const { tracker } = make(storage, server, { window: win });

    tracker.view(1);
    tracker.view(2);
    win.dispatchEvent(new Event("pagehide"));

    expect(server.calls).toHaveLength(1); // synchronously, before the page is gone
    const { init, events } = server.calls[0];
    expect(init.keepalive).toBe(true);
    expect(init.method).toBe("POST");
    expect((init.headers as Record<string, string>)["X-CSRFToken"]).toBe("csrf-token");
    expect(events).toHaveLength(2);
    expect(storage.queued()).toHaveLength(2);

    answer.resolve(acceptAll(events));
    await tick(0);
    expect(storage.queued()).toHaveLength(0);
  });

  it("flushes when the page becomes hidden", () => {
    const doc = Object.assign(new EventTarget(), { visibilityState: "visible" });
    const server = fakeServer();
    const { tracker } = make(new MemoryStorage(), server, { document: doc });
    tracker.view(1);
    doc.dispatchEvent(new Event("visibilitychange"));
    expect(server.calls).toHaveLength(0);
    doc.visibilityState = "hidden";
    doc.dispatchEvent(new Event("visibilitychange"));
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0].init.keepalive).toBe(true);
  });

  it("sends the events once when a closing tab fires both visibilitychange and pagehide", () => {
    const win = new EventTarget();
    const doc = Object.assign(new EventTarget(), { visibilityState: "hidden" });
    const server = fakeServer(() => new Promise<Response>(() => {}));
    const { tracker } = make(new MemoryStorage(), server, { window: win, document: doc });
    tracker.view(1);
    doc.dispatchEvent(new Event("visibilitychange"));
    win.dispatchEvent(new Event("pagehide"));
    expect(server.calls).toHaveLength(1);
  });

  it("falls back to sendBeacon with a JSON Blob when keepalive fetch is unavailable", async () => {
    const storage = new MemoryStorage();
    const win = new EventTarget();
    const server = fakeServer();
    const sendBeacon = vi.fn((_url: string, _data: Blob) => true);
    const { tracker } = make(storage, server, { window: win, keepalive: false, sendBeacon });

    const event = tracker.view(1);
    win.dispatchEvent(new Event("pagehide"));

    expect(server.calls).toHaveLength(0);
    expect(sendBeacon).toHaveBeenCalledTimes(1);
    const [url, blob] = sendBeacon.mock.calls[0];
    expect(url).toBe("/api/events/");
    expect(blob.type).toBe("application/json");
    const sent = JSON.parse(await readBlob(blob)) as { events: TrackedEvent[] };
    expect(sent.events.map((e) => e.id)).toEqual([event.id]);
    expect(storage.queued()).toHaveLength(1); // a beacon has no answer: resent (and deduped) next time
  });

  it("caps the keepalive body under the 64 KB limit", () => {
    const win = new EventTarget();
    const server = fakeServer();
    const { tracker } = make(new MemoryStorage(), server, { window: win, keepaliveMaxBytes: 2000 });
    for (let i = 0; i < 20; i++) tracker.track("view", { productId: i, context: { note: "x".repeat(300) } });
    win.dispatchEvent(new Event("pagehide"));
    const body = bodyText(server.calls[0].init);
    expect(body.length).toBeLessThanOrEqual(2000);
    expect(server.calls[0].events.length).toBeGreaterThan(0);
    expect(server.calls[0].events.length).toBeLessThan(20);
  });
});

// ---- offline ------------------------------------------------------------------------------------------------------

describe("offline", () => {
  it("pauses while offline and flushes on `online`", async () => {
    const win = new EventTarget();
    const server = fakeServer();
    let onLine = true;
    const { tracker } = make(new MemoryStorage(), server, { window: win, isOnline: () => onLine });

    onLine = false;
    win.dispatchEvent(new Event("offline"));
    for (let i = 1; i <= 60; i++) tracker.view(i);
    await tick(30_000);
    win.dispatchEvent(new Event("pagehide"));
    expect(server.calls).toHaveLength(0);
    expect(tracker.pending()).toBe(60);

    onLine = true;
    win.dispatchEvent(new Event("online"));
    await tick(0);
    expect(server.calls.map((c) => c.events.length)).toEqual([50, 10]);
    expect(tracker.pending()).toBe(0);
  });

  it("treats the `offline` event as offline even when navigator.onLine says otherwise", async () => {
    const win = new EventTarget();
    const server = fakeServer();
    const { tracker } = make(new MemoryStorage(), server, { window: win });
    win.dispatchEvent(new Event("offline"));
    tracker.view(1);
    await tick(5000);
    expect(server.calls).toHaveLength(0);
    win.dispatchEvent(new Event("online"));
    await tick(0);
    expect(server.calls).toHaveLength(1);
  });
});

// ---- attribution ---------------------------------------------------------------------------------------------------

describe("attribution", () => {
  it("carries the clicked recommendation onto add_to_cart and purchase", async () => {
    const storage = new MemoryStorage();
    const server = fakeServer();
    const { tracker } = make(storage, server);

    const click = tracker.click(7, { requestId: "req-1", position: 3, list: "home" });
    expect(click.context).toEqual({ request_id: "req-1", position: 3, list: "home" });
    expect(JSON.parse(storage.getItem("dragonrec:attribution")!)).toMatchObject({
      7: { request_id: "req-1", position: 3, list: "home" },
    });

    const cart = tracker.addToCart(7, 1);
    const other = tracker.addToCart(8, 1);
    const [line7, line8] = tracker.purchase([
      { productId: 7, quantity: 2, value: 49.98 },
      { productId: 8, quantity: 1, value: "5.00" },
    ]);

    expect(cart.context).toEqual({ request_id: "req-1", position: 3, list: "home" });
    expect(other.context).toEqual({});
    expect(line7).toMatchObject({
      type: "purchase",
      product_id: 7,
      quantity: 2,
      value: "49.98",
      context: { request_id: "req-1", position: 3, list: "home" },
    });
    expect(line8.context).not.toHaveProperty("request_id");
    expect(line7.context.order_id).toBe(line8.context.order_id);

    // Credited once: a later purchase of the same product is not attributed again.
    expect(tracker.attribution.get(7)).toBeUndefined();

    await tracker.flush();
    expect(server.calls[0].events.map((e) => e.type)).toEqual([
      "click",
      "add_to_cart",
      "add_to_cart",
      "purchase",
      "purchase",
    ]);
  });

  it("uses explicit attribution (e.g. stored with a cart line) over the remembered one", () => {
    const { tracker } = make(new MemoryStorage(), fakeServer());
    tracker.click(7, { requestId: "req-1", position: 3, list: "home" });
    const [line] = tracker.purchase([
      { productId: 7, quantity: 1, value: "1.00", attribution: { requestId: "req-2", position: 1, list: "cart" } },
    ]);
    expect(line.context).toMatchObject({ request_id: "req-2", position: 1, list: "cart" });
  });

  it("sends one impression per request_id, without a product_id", async () => {
    const server = fakeServer();
    const { tracker } = make(new MemoryStorage(), server);
    const first = tracker.listImpression({ requestId: "req-9", list: "similar", productIds: [3, 4, 5] });
    const again = tracker.listImpression({ requestId: "req-9", list: "similar", productIds: [3, 4, 5] });
    expect(again).toBeNull();
    await tracker.flush();
    expect(server.calls[0].events).toHaveLength(1);
    expect(server.calls[0].events[0]).toMatchObject({
      id: first!.id,
      type: "impression",
      context: { request_id: "req-9", list: "similar", product_ids: [3, 4, 5] },
    });
    expect(server.calls[0].events[0]).not.toHaveProperty("product_id");
  });
});
