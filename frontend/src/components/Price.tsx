import { formatPrice } from "../lib/format";

export function Price({ price, currency }: { price: string; currency: string }) {
  return <span className="price">{formatPrice(price, currency)}</span>;
}
