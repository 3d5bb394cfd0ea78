import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTracker, type StorageLike, type TrackedEvent } from "../tracking";
import { product } from "../test/fakeApi";
import { CART_KEY, createCart } from "./cart";
import { formatPrice, lineValue, sumValues } from "./format";
import { hueFor, initials } from "./placeholder";

class MemoryStorage implements StorageLike {
  data = new Map<string, string>();
  getItem = (k: string) => this.data.get(k) ?? null;
  setItem = (k: string, v: string) => void this.data.set(k, v);
  removeItem = (k: string) => void this.data.delete(k);
}

function setup() {
  const storage = new MemoryStorage();
  // Nothing answers: the events stay queued in `storage`, where the test reads them.
  const tracker = createTracker({
    storage,
    attributionStorage: storage,
    window: null,
    document: null,
    fetch: () => new Promise<Response>(() => {}),
  });
  const queued = () => JSON.parse(storage.getItem("dragonrec:queue") ?? "[]") as TrackedEvent[];
  return { storage, tracker, cart: createCart(tracker, storage), queued };
}

describe("cart", () => {
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    s = setup();
  });
  afterEach(() => s.tracker.destroy());

  it("stores lines under dragonrec:cart and reports adds and removes as events", () => {
    const { cart, storage, tracker, queued } = s;
    const p = product(7, { price: "24.50" });
    tracker.click(7, { requestId: "req-1", position: 2, list: "similar" });

    cart.add(p);
    cart.add(p);
    cart.setQuantity(7, 5);
    cart.setQuantity(7, 1);
    expect(cart.lines()).toEqual([
      {
        product_id: 7,
        quantity: 1,
        attribution: { requestId: "req-1", position: 2, list: "similar" },
        product: { title: "Product 7", price: "24.50", currency: "EUR", category: p.category, image_url: p.image_url },
      },
    ]);
    cart.remove(7);
    expect(JSON.parse(storage.getItem(CART_KEY)!)).toEqual([]);

    const events = queued();
    expect(events.map((e) => [e.type, e.quantity])).toEqual([
      ["click", 1],
      ["add_to_cart", 1],
      ["add_to_cart", 1],
      ["add_to_cart", 3],
      ["remove_from_cart", 4],
      ["remove_from_cart", 1],
    ]);
    expect(events[1].context).toEqual({ request_id: "req-1", position: 2, list: "similar" });
  });

  it("checks out one purchase per line with value = price x quantity and the line's attribution", () => {
    const { cart, tracker, queued } = s;
    tracker.click(3, { requestId: "req-9", position: 1, list: "home" });
    cart.add(product(3, { price: "19.99" }), 3);
    cart.add(product(4, { price: "0.10" }), 3);

    const lines = cart.checkout();
    expect(lines).toHaveLength(2);
    expect(cart.lines()).toEqual([]);
    const purchases = queued().filter((e) => e.type === "purchase");
    expect(purchases.map((e) => [e.product_id, e.quantity, e.value])).toEqual([
      [3, 3, "59.97"],
      [4, 3, "0.30"],
    ]);
    expect(purchases[0].context).toMatchObject({ request_id: "req-9", position: 1, list: "home" });
    expect(purchases[1].context).not.toHaveProperty("request_id");
  });

  it("records a product without a price (the catalog allows one) with no value, never as 0.00", () => {
    const { cart, queued } = s;
    cart.add(product(5, { price: null }), 2);
    cart.add(product(6, { price: "1.50" }), 1);

    cart.checkout();
    const purchases = queued().filter((e) => e.type === "purchase");
    expect(purchases.map((e) => [e.product_id, e.value])).toEqual([
      [5, null],
      [6, "1.50"],
    ]);
    expect(formatPrice(null, "EUR")).toBe("Price on request");
    expect(sumValues([lineValue(null, 2), lineValue("1.50", 1)])).toBe("1.50");
  });

  it("ignores a corrupt stored cart", () => {
    s.storage.setItem(CART_KEY, "{oops");
    expect(s.cart.lines()).toEqual([]);
    expect(s.cart.count()).toBe(0);
  });
});

describe("formatting", () => {
  it("computes money in cents", () => {
    expect(lineValue("0.10", 3)).toBe("0.30");
    expect(lineValue("19.99", 3)).toBe("59.97");
    expect(sumValues(["0.10", "0.20"])).toBe("0.30");
    expect(formatPrice("24.5", "EUR")).toBe("€24.50");
    expect(formatPrice("24.5", "???")).toBe("24.50 ???");
  });

  it("makes placeholder initials and stable hues", () => {
    expect(initials("Lumora ProLine 27U")).toBe("LP");
    expect(initials("  ")).toBe("?");
    expect(hueFor("Electronics > Mice")).toBe(hueFor("Electronics > Mice"));
  });
});
