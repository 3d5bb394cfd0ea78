import { useMemo } from "react";
import { listProducts, type ProductQuery } from "../api";
import { useAsync } from "../hooks/useAsync";
import { useQueryParams } from "../hooks/useQueryParams";
import { ErrorState } from "./ErrorState";
import { Filters, type FilterValues } from "./Filters";
import { Pagination } from "./Pagination";
import { ProductCard } from "./ProductCard";
import { SkeletonGrid } from "./Skeleton";

const PAGE_SIZE = 20; // the API's page size

interface Props {
  /** The fixed part of the query: `search` or `category`. */
  base: Pick<ProductQuery, "search" | "category">;
}

/** Product grid + filters + pagination; filters and page live in the URL so back/forward and links work. */
export function ProductListing({ base }: Props) {
  const [params, update] = useQueryParams();
  const page = Math.max(1, Number(params.get("page")) || 1);
  const filters: FilterValues = useMemo(
    () => ({
      brand: params.get("brand") ?? "",
      min_price: params.get("min_price") ?? "",
      max_price: params.get("max_price") ?? "",
      in_stock: params.get("in_stock") === "true",
    }),
    [params],
  );

  const { data, error, loading, reload } = useAsync(
    (signal) => listProducts({ ...base, ...filters, page: page > 1 ? page : undefined }, signal),
    [base.search, base.category, filters, page],
  );

  const applyFilters = (f: FilterValues) =>
    update({
      brand: f.brand,
      min_price: f.min_price,
      max_price: f.max_price,
      in_stock: f.in_stock ? "true" : null,
      page: null,
    });

  return (
    <div className="listing">
      <Filters values={filters} onApply={applyFilters} />
      <div className="listing-results">
        {loading ? (
          <SkeletonGrid count={8} label="Loading products…" />
        ) : error ? (
          <ErrorState message="Could not load products" onRetry={reload} />
        ) : data && data.results.length > 0 ? (
          <>
            <p className="muted result-count" role="status">
              {data.count} {data.count === 1 ? "product" : "products"}
            </p>
            <ul className="product-grid">
              {data.results.map((p) => (
                <ProductCard key={p.id} product={p} />
              ))}
            </ul>
            <Pagination
              page={page}
              count={data.count}
              pageSize={PAGE_SIZE}
              hasPrevious={Boolean(data.previous)}
              hasNext={Boolean(data.next)}
              onPage={(p) => update({ page: p > 1 ? String(p) : null })}
            />
          </>
        ) : (
          <p className="empty" role="status">
            No products match. Try other words or fewer filters.
          </p>
        )}
      </div>
    </div>
  );
}
