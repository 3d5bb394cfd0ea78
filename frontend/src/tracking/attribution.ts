import { readJson, writeJson } from "./storage";
import type { Attribution, StorageLike } from "./types";

/** What is stored per product id: the GA4 `item_list_id` / `index` pair plus the list's request id. */
interface StoredAttribution {
  request_id: string;
  position: number;
  list: string;
  at: number;
}

/**
 * Remembers the last recommendation a shopper clicked for each product (Recombee's `recommId`, GA4's
 * `item_list_id` + `index`), so that a later add_to_cart or purchase of that product is credited to the list.
 * Stored as `{product_id: {request_id, position, list}}` under one key.
 */
export interface AttributionStore {
  remember(productId: number, attribution: Attribution): void;
  get(productId: number): Attribution | undefined;
  forget(productId: number): void;
}

// A shopper clicks a few dozen recommendations per visit at most; older ones are no longer worth crediting.
const MAX_ENTRIES = 100;

export function createAttributionStore(
  storage: StorageLike | null,
  key = "dragonrec:attribution",
  now: () => number = Date.now,
): AttributionStore {
  // Entries that could not be stored (no storage, quota exceeded) live here for the page's lifetime.
  const memory: Record<string, StoredAttribution> = {};

  const read = (): Record<string, StoredAttribution> => {
    const value = readJson(storage, key);
    const stored =
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? (value as Record<string, StoredAttribution>)
        : {};
    return { ...memory, ...stored };
  };

  const write = (all: Record<string, StoredAttribution>): void => {
    if (!writeJson(storage, key, all)) Object.assign(memory, all);
  };

  return {
    remember(productId, a) {
      const all = read();
      all[String(productId)] = { request_id: a.requestId, position: a.position, list: a.list, at: now() };
      const keys = Object.keys(all);
      if (keys.length > MAX_ENTRIES) {
        keys.sort((x, y) => (all[x].at ?? 0) - (all[y].at ?? 0));
        for (const k of keys.slice(0, keys.length - MAX_ENTRIES)) delete all[k];
      }
      write(all);
    },
    get(productId) {
      const entry = read()[String(productId)];
      if (!entry || typeof entry.request_id !== "string") return undefined;
      return { requestId: entry.request_id, position: Number(entry.position), list: String(entry.list) };
    },
    forget(productId) {
      const all = read();
      if (!(String(productId) in all)) return;
      delete all[String(productId)];
      delete memory[String(productId)];
      write(all);
    },
  };
}

/** The `context` fields the server reads to credit an event to a recommendation list. */
export function attributionContext(a: Attribution): { request_id: string; position: number; list: string } {
  return { request_id: a.requestId, position: a.position, list: a.list };
}
