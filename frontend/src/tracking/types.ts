/** Event types accepted by `POST /api/events/` (see docs/tracking.md for the GA4 mapping). */
export type EventType =
  | "view"
  | "add_to_cart"
  | "remove_from_cart"
  | "purchase"
  | "click"
  | "search"
  | "impression";

/** Which recommendation list an item was shown in (GA4: `item_list_id`). */
export type ListName = "home" | "product" | "cart" | "similar" | "complements";

/** Where a product was picked from: the list's `request_id`, its 1-based position (GA4: `index`) and the list. */
export interface Attribution {
  requestId: string;
  position: number;
  list: ListName | (string & {});
}

/** One event exactly as it travels to the server (snake_case, like the API). */
export interface TrackedEvent {
  /** Client-generated UUID: the server's idempotency key, so a replay is stored once. */
  id: string;
  type: EventType;
  product_id?: number;
  timestamp: string;
  quantity: number;
  value: string | null;
  context: Record<string, unknown>;
}

/** The subset of the Web Storage API the tracker uses (localStorage, sessionStorage or a test double). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The subset of `fetch` the tracker uses, so tests can pass a fake. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Where `pagehide`, `online` and `offline` are listened for (normally `window`). */
export interface WindowLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** Where `visibilitychange` is listened for (normally `document`). */
export interface DocumentLike extends WindowLike {
  readonly visibilityState: string;
}
