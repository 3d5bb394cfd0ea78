import { formatPrice } from "../lib/format";

export function Price({ price, currency }: { price: string | null; currency: string }) {
  return <span className="price">{formatPrice(price, currency)}</span>;
}
