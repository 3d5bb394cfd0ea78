import { useSyncExternalStore } from "react";
import type { CartLine } from "../lib/cart";
import { cart } from "../lib/shopCart";

/** The cart lines, re-rendering on every change (also from other tabs). */
export function useCartLines(): CartLine[] {
  return useSyncExternalStore(cart.subscribe, cart.lines, cart.lines);
}

export function useCartCount(): number {
  return useSyncExternalStore(cart.subscribe, cart.count, cart.count);
}
