import { useEffect, useId, useRef } from "react";
import { Link } from "react-router";
import { searchProducts, type SearchResults, type SearchSort } from "../api";
import { ErrorState } from "../components/ErrorState";
import { Pagination } from "../components/Pagination";
import { ProductCard } from "../components/ProductCard";
import { RecommendationList } from "../components/RecommendationList";
import { SkeletonGrid } from "../components/Skeleton";
import { useAsync } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useInView } from "../hooks/useInView";
import { useQueryParams } from "../hooks/useQueryParams";
import { tracker } from "../lib/analytics";

const PAGE_SIZE = 20;
const LIST = "search"; // the served list's name in impressions and clicks

export const SORTS: Array<{ value: SearchSort; label: string }> = [
  { value: "relevance", label: "Relevance" },
  { value: "price_asc", label: "Price: low to high" },
  { value: "price_desc", label: "Price: high to low" },
  { value: "newest", label: "Newest" },
];

function isSort(value: string | null): value is SearchSort {
  return SORTS.some((s) => s.value === value);
}

/** Ranked search results (GET /api/search/): "did you mean", sort options, pages, and a zero-result page that
 * offers the correction and recommendations instead of a dead end. Clicks carry the list's request_id. */
export function SearchPage() {
  const [params, update] = useQueryParams();
  const q = (params.get("q") ?? "").trim();
  const sortParam = params.get("sort");
  const sort: SearchSort = isSort(sortParam) ? sortParam : "relevance";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const tracked = useRef<string | null>(null);
  const sortId = useId();
  useDocumentTitle(q ? `Search: ${q}` : "Search");

  useEffect(() => {
    // One `search` event per query (not per page or sort change; StrictMode's second run is skipped too).
    if (q && tracked.current !== q) {
      tracked.current = q;
      tracker.search(q);
    }
  }, [q]);

  const { data, error, loading, reload } = useAsync<SearchResults | null>(
    (signal) => (q ? searchProducts({ q, page, sort, pageSize: PAGE_SIZE }, signal) : Promise.resolve(null)),
    [q, page, sort],
  );

  if (!q) {
    return (
      <>
        <h1>Search</h1>
        <p className="muted">Type what you are looking for in the search box above.</p>
      </>
    );
  }

  return (
    <>
      <h1>Results for “{q}”</h1>
      {data?.corrected_query && (
        <p className="did-you-mean">
          Did you mean{" "}
          <Link to={`/search?q=${encodeURIComponent(data.corrected_query)}`} className="did-you-mean-link">
            {data.corrected_query}
          </Link>
          ?
        </p>
      )}
      {loading ? (
        <SkeletonGrid count={8} label="Searching…" />
      ) : error ? (
        <ErrorState message="Could not search" onRetry={reload} />
      ) : data && data.items.length > 0 ? (
        <>
          <div className="search-toolbar">
            <p className="muted result-count" role="status">
              {data.count} {data.count === 1 ? "product" : "products"}
              {data.personalised ? " · personalised for you" : ""}
            </p>
            <label htmlFor={sortId}>Sort by</label>{" "}
            <select
              id={sortId}
              value={sort}
              onChange={(e) => update({ sort: e.target.value === "relevance" ? null : e.target.value, page: null })}
            >
              {SORTS.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
          <SearchResultGrid results={data} />
          <Pagination
            page={page}
            count={data.count}
            pageSize={PAGE_SIZE}
            hasPrevious={page > 1}
            hasNext={page * PAGE_SIZE < data.count}
            onPage={(p) => update({ page: p > 1 ? String(p) : null })}
          />
        </>
      ) : (
        <>
          <p className="muted" role="status">
            No products match “{q}”.
          </p>
          {data?.recommendations && data.recommendations.items.length > 0 && (
            <RecommendationList
              title="You might like these instead"
              list="home"
              load={() => Promise.resolve(data.recommendations!)}
              deps={[data.request_id]}
            />
          )}
        </>
      )}
    </>
  );
}

function SearchResultGrid({ results }: { results: SearchResults }) {
  const firstCard = useRef<HTMLLIElement>(null);
  const offset = (results.page - 1) * results.page_size;
  useInView(firstCard, results.items.length > 0, () => {
    tracker.listImpression({
      requestId: results.request_id,
      list: LIST,
      productIds: results.items.map((i) => i.product.id),
    });
  });
  return (
    <ul className="product-grid" data-request-id={results.request_id} data-list={LIST}>
      {results.items.map(({ product }, index) => {
        const position = offset + index + 1;
        return (
          <ProductCard
            key={product.id}
            product={product}
            position={position}
            ref={index === 0 ? firstCard : undefined}
            onOpen={() => tracker.click(product.id, { requestId: results.request_id, position, list: LIST })}
          />
        );
      })}
    </ul>
  );
}
