import type { ReactNode, Ref } from "react";
import { Link } from "react-router";
import type { Product } from "../api";
import { Price } from "./Price";
import { ProductImage } from "./ProductImage";

interface Props {
  product: Product;
  /** A click through to the product: a served list (recommendations, search) credits it to its request. */
  onOpen?: () => void;
  /** The 1-based position in a served list. */
  position?: number;
  ref?: Ref<HTMLLIElement>;
  /** Under the card: a recommendation's reason, the debug view's facts. */
  children?: ReactNode;
}

/** Every product card in the shop: catalog listings, search results and recommended lists. */
export function ProductCard({ product, onOpen, position, ref, children }: Props) {
  return (
    <li className="card" ref={ref} data-position={position}>
      <Link to={`/products/${product.id}`} className="card-link" onClick={onOpen}>
        <ProductImage title={product.title} category={product.category} src={product.image_url} />
        <span className="card-title">{product.title}</span>
      </Link>
      <div className="card-meta">
        <span className="card-brand">{product.brand}</span>
        <Price price={product.price} currency={product.currency} />
      </div>
      {!product.in_stock && <span className="badge badge-muted">Out of stock</span>}
      {children}
    </li>
  );
}
