const formatters = new Map<string, Intl.NumberFormat>();

/** What a product without a price (the catalog allows one) shows instead of an amount: never a made-up 0.00. */
export const NO_PRICE = "Price on request";

/** "24.99", "EUR" -> "€24.99" (falls back to "24.99 EUR" for an unknown currency code); null -> NO_PRICE. */
export function formatPrice(price: string | number | null, currency = "EUR"): string {
  if (price === null) return NO_PRICE;
  const amount = typeof price === "number" ? price : Number(price);
  if (!Number.isFinite(amount)) return `${price} ${currency}`.trim();
  let f = formatters.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat("en", { style: "currency", currency: currency || "EUR" });
    } catch {
      return `${amount.toFixed(2)} ${currency}`;
    }
    formatters.set(currency, f);
  }
  return f.format(amount);
}

/** Price x quantity as a decimal string, computed in cents so 0.1 + 0.2 never shows up. */
export function lineValue(price: string | null, quantity: number): string | null {
  if (price === null) return null; // no price, no value: a purchase without one is recorded without a value
  const cents = Math.round(Number(price) * 100) * quantity;
  return (cents / 100).toFixed(2);
}

/** Sum of decimal strings, in cents. */
export function sumValues(values: ReadonlyArray<string | null>): string {
  const cents = values.reduce((acc, v) => acc + (v === null ? 0 : Math.round(Number(v) * 100)), 0);
  return (cents / 100).toFixed(2);
}
