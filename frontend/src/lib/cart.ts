import type { Product } from "../api";
import type { Attribution, StorageLike, Tracker } from "../tracking";
import { defaultStorage } from "../tracking/storage";
import { lineValue } from "./format";

/** A cart line as stored under `dragonrec:cart`: the product id, the quantity and where it was picked from. */
export interface CartLine {
  product_id: number;
  quantity: number;
  attribution: Attribution | null;
  /** A snapshot for rendering the cart without a request per line. */
  product: Pick<Product, "title" | "price" | "currency" | "category" | "image_url">;
}

/** Functions over a closure, not methods: each can be passed on alone (`useSyncExternalStore(cart.subscribe, ...)`). */
export interface Cart {
  lines: () => CartLine[];
  count: () => number;
  subscribe: (listener: () => void) => () => void;
  add: (product: Product, quantity?: number, attribution?: Attribution | null) => void;
  setQuantity: (productId: number, quantity: number) => void;
  remove: (productId: number) => void;
  /** One `purchase` event per line (value = price x quantity, with the line's attribution); empties the cart. */
  checkout: () => CartLine[];
}

export const CART_KEY = "dragonrec:cart";

/** What another tab, an older shop or a browser extension left under the key is checked before it is used. */
function isCartLine(value: unknown): value is CartLine {
  if (typeof value !== "object" || value === null) return false;
  const line = value as Partial<Record<keyof CartLine, unknown>>;
  return (
    typeof line.product_id === "number" &&
    typeof line.quantity === "number" &&
    line.quantity > 0 &&
    typeof line.product === "object" &&
    line.product !== null
  );
}

/** The client-side cart; every change is also an add_to_cart / remove_from_cart event (the server replays them). */
export function createCart(
  tracker: Pick<Tracker, "addToCart" | "removeFromCart" | "purchase" | "attribution">,
  storage: StorageLike | null = defaultStorage("localStorage"),
): Cart {
  const listeners = new Set<() => void>();
  let memory: CartLine[] = [];
  let cachedRaw: string | null | undefined;
  let cached: CartLine[] = [];

  function read(): CartLine[] {
    if (!storage) return memory;
    let raw: string | null = null;
    try {
      raw = storage.getItem(CART_KEY);
    } catch {
      return memory;
    }
    // Same string, same array: useSyncExternalStore needs a stable snapshot.
    if (raw === cachedRaw) return cached;
    cachedRaw = raw;
    try {
      const parsed: unknown = raw ? JSON.parse(raw) : [];
      cached = Array.isArray(parsed) ? (parsed as unknown[]).filter(isCartLine) : [];
    } catch {
      cached = [];
    }
    return cached;
  }

  function write(lines: CartLine[]): void {
    memory = lines;
    try {
      storage?.setItem(CART_KEY, JSON.stringify(lines));
    } catch {
      // Quota or disabled storage: the in-memory cart still works for this page.
    }
    listeners.forEach((l) => l());
  }

  const onStorage = (e: StorageEvent): void => {
    if (e.key === CART_KEY) listeners.forEach((l) => l());
  };

  return {
    lines: read,
    count: () => read().reduce((n, l) => n + l.quantity, 0),
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1 && typeof window !== "undefined") window.addEventListener("storage", onStorage);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && typeof window !== "undefined") window.removeEventListener("storage", onStorage);
      };
    },
    add(product, quantity = 1, attribution) {
      const lines = read().map((l) => ({ ...l }));
      const existing = lines.find((l) => l.product_id === product.id);
      const credit = attribution ?? existing?.attribution ?? tracker.attribution.get(product.id) ?? null;
      if (existing) {
        existing.quantity += quantity;
        existing.attribution = credit;
      } else {
        const { title, price, currency, category, image_url } = product;
        lines.push({
          product_id: product.id,
          quantity,
          attribution: credit,
          product: { title, price, currency, category, image_url },
        });
      }
      write(lines);
      tracker.addToCart(product.id, quantity, credit);
    },
    setQuantity(productId, quantity) {
      const lines = read().map((l) => ({ ...l }));
      const line = lines.find((l) => l.product_id === productId);
      if (!line) return;
      const q = Math.max(0, Math.floor(quantity));
      const delta = q - line.quantity;
      if (delta === 0) return;
      write(q === 0 ? lines.filter((l) => l.product_id !== productId) : lines.map((l) => (l === line ? { ...l, quantity: q } : l)));
      if (delta > 0) tracker.addToCart(productId, delta, line.attribution);
      else tracker.removeFromCart(productId, -delta);
    },
    remove(productId) {
      const line = read().find((l) => l.product_id === productId);
      if (!line) return;
      write(read().filter((l) => l.product_id !== productId));
      tracker.removeFromCart(productId, line.quantity);
    },
    checkout() {
      const lines = read();
      if (lines.length === 0) return [];
      tracker.purchase(
        lines.map((l) => ({
          productId: l.product_id,
          quantity: l.quantity,
          value: lineValue(l.product.price, l.quantity),
          attribution: l.attribution,
        })),
      );
      write([]);
      return lines;
    },
  };
}
