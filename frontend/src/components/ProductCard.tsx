import { Link } from "react-router";
import type { Product } from "../api";
import { Price } from "./Price";
import { ProductImage } from "./ProductImage";

/** A catalog card (search and category listings). Recommended items use RecommendationList's cards. */
export function ProductCard({ product }: { product: Product }) {
  return (
    <li className="card">
      <Link to={`/products/${product.id}`} className="card-link">
        <ProductImage title={product.title} category={product.category} src={product.image_url} />
        <span className="card-title">{product.title}</span>
      </Link>
      <div className="card-meta">
        <span className="card-brand">{product.brand}</span>
        <Price price={product.price} currency={product.currency} />
      </div>
      {!product.in_stock && <span className="badge badge-muted">Out of stock</span>}
    </li>
  );
}
