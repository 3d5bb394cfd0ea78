import { request } from "./http";
import type { SearchResults, SearchSort, SearchSuggestions } from "./types";

export interface SearchQuery {
  q: string;
  page?: number;
  pageSize?: number;
  sort?: SearchSort;
  /** A category path prefix ("Electronics > Monitors"). */
  category?: string;
}

/** `GET /api/search/`: ranked, typo-tolerant, personalised for the cookie's shopper; recorded as a served list. */
export function searchProducts(q: SearchQuery, signal?: AbortSignal): Promise<SearchResults> {
  return request<SearchResults>("GET", "/api/search/", {
    signal,
    noStore: true,
    query: {
      q: q.q,
      page: q.page && q.page > 1 ? q.page : undefined,
      page_size: q.pageSize,
      sort: q.sort && q.sort !== "relevance" ? q.sort : undefined,
      category: q.category || undefined,
    },
  });
}

/** `GET /api/search/suggest/`: completions, categories and products for what is typed so far. */
export function suggestSearch(q: string, signal?: AbortSignal): Promise<SearchSuggestions> {
  return request<SearchSuggestions>("GET", "/api/search/suggest/", { signal, query: { q, n: 8 } });
}
