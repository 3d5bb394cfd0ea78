import { tracker } from "./analytics";
import { createCart } from "./cart";

/** The shop's one cart, reporting to the shop's tracker. */
export const cart = createCart(tracker);
