import { useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { ApiError, getComplements, getProduct, getRecommendations, getSimilar } from "../api";
import { ErrorState } from "../components/ErrorState";
import { Price } from "../components/Price";
import { ProductImage } from "../components/ProductImage";
import { RecommendationList } from "../components/RecommendationList";
import { useAsync } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { tracker } from "../lib/analytics";
import { createPageLists } from "../lib/pageLists";
import { cart } from "../lib/shopCart";
import { NotFoundPage } from "./NotFoundPage";

export function ProductPage() {
  const params = useParams();
  const id = Number(params.id);
  if (!Number.isInteger(id) || id <= 0) return <NotFoundPage />;
  // A new product is a new page: reset everything (added message, lists) by keying on the id.
  return <ProductView key={id} id={id} />;
}

/** A product's `attributes`: free-form JSON from the catalog, shown as a list of facts (nothing when empty). */
function Attributes({ attributes }: { attributes: unknown }) {
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) return null;
  const entries = Object.entries(attributes as Record<string, unknown>);
  if (entries.length === 0) return null;
  return (
    <dl className="attributes">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k.replace(/_/g, " ")}</dt>
          <dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

function ProductView({ id }: { id: number }) {
  // The product and the lists below are requested at the same time: the lists do not wait for the product. The
  // lists are one set (docs/api.md): each asks for its items after the ones above it, excluding what they show.
  const { data: product, error, loading, reload } = useAsync((signal) => getProduct(id, signal), [id]);
  const [lists] = useState(() => createPageLists(3));
  const [added, setAdded] = useState(false);
  const viewed = useRef(false);
  useDocumentTitle(product?.title ?? (error ? "Product not found" : "Product"));

  useEffect(() => {
    if (!viewed.current) {
      viewed.current = true;
      tracker.view(id);
    }
  }, [id]);

  if (error instanceof ApiError && error.status === 404) return <NotFoundPage what="product" />;

  return (
    <>
      {loading ? (
        <div className="product-detail" role="status" aria-live="polite">
          <div className="skeleton skeleton-hero" />
          <div>
            <div className="skeleton skeleton-line" />
            <div className="skeleton skeleton-line short" />
            <p>Loading…</p>
          </div>
        </div>
      ) : error || !product ? (
        <ErrorState message="Could not load this product" onRetry={reload} />
      ) : (
        <article className="product-detail" aria-labelledby="product-title">
          <ProductImage
            className="product-hero"
            title={product.title}
            category={product.category}
            src={product.image_url}
          />
          <div className="product-info">
            <p className="breadcrumb">
              <Link to={`/category/${product.category_id}`}>{product.category}</Link>
            </p>
            <h1 id="product-title">{product.title}</h1>
            <dl className="facts">
              <div>
                <dt>Brand</dt>
                <dd>{product.brand}</dd>
              </div>
              <div>
                <dt>Category</dt>
                <dd>{product.category}</dd>
              </div>
              <div>
                <dt>Availability</dt>
                <dd className={product.in_stock ? "in-stock" : "out-of-stock"}>
                  {product.in_stock ? `In stock (${product.stock_quantity})` : "Out of stock"}
                </dd>
              </div>
            </dl>
            <p className="product-price">
              <Price price={product.price} currency={product.currency} />
            </p>
            <button
              type="button"
              className="button button-primary"
              disabled={!product.in_stock}
              onClick={() => {
                cart.add(product, 1);
                setAdded(true);
              }}
            >
              {product.in_stock ? "Add to cart" : "Out of stock"}
            </button>
            <p className="added" role="status">
              {added && (
                <>
                  Added to your cart. <Link to="/cart">View cart</Link>
                </>
              )}
            </p>
            {product.description && <p className="description">{product.description}</p>}
            <Attributes attributes={product.attributes} />
          </div>
        </article>
      )}
      <RecommendationList
        title="Goes well with"
        list="complements"
        load={lists.step(0, (_, signal) => getComplements(id, { n: 8 }, signal))}
        deps={[id]}
      />
      <RecommendationList
        title="Similar products"
        list="similar"
        load={lists.step(1, (exclude, signal) => getSimilar(id, { n: 8, exclude }, signal))}
        deps={[id]}
      />
      <RecommendationList
        title="Recommended for you"
        list="product"
        load={lists.step(2, (exclude, signal) =>
          getRecommendations({ scenario: "product", productId: id, n: 8, exclude }, signal),
        )}
        deps={[id]}
      />
    </>
  );
}
