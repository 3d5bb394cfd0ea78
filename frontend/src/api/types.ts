/** Shapes of the DragonRec API (docs/api.md, `/api/schema/`). Decimals travel as strings. */

export interface User {
  id: number;
  username: string;
}

export interface SessionResponse {
  user: User | null;
}

export interface Category {
  id: number;
  name: string;
  /** "Electronics > Monitors" */
  path: string;
  parent_id: number | null;
  depth: number;
  product_count: number;
}

export interface Product {
  id: number;
  sku: string;
  title: string;
  description: string;
  brand: string;
  /** The category path, e.g. "Electronics > Monitors". */
  category: string;
  category_id: number;
  /** Decimal string, e.g. "24.99". */
  price: string;
  currency: string;
  stock_quantity: number;
  in_stock: boolean;
  image_url: string;
  attributes: Record<string, unknown>;
  updated_at: string;
}

export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface RecommendationItem {
  product: Product;
  score: number;
  reason: string;
  source: string;
}

export type Scenario = "home" | "product" | "cart";

/** What produced a list: a recommendations scenario, or a product's own lists. */
export type ListScenario = Scenario | "similar" | "complements";

/**
 * A served list: `/api/recommendations/`, `/api/products/{id}/similar/` and `/complements/` all answer this shape.
 * `request_id` is what a click on one of its items is credited to. `ranker`, `experiment` and `arm` are internals:
 * the shop shows them only in its debug view (`?debug=1`), never to shoppers.
 */
export interface RecommendationList {
  /** Missing only from a server older than issue #19's similar/complements lists: their clicks go uncredited. */
  request_id: string;
  scenario?: ListScenario;
  ranker?: string;
  experiment?: string | null;
  arm?: string | null;
  items: RecommendationItem[];
}

export interface Preferences {
  categories: string[];
  brands: string[];
  price_min: string | null;
  price_max: string | null;
}

export interface ProductQuery {
  search?: string;
  /** A category id or a path prefix. */
  category?: string | number;
  brand?: string;
  min_price?: string;
  max_price?: string;
  in_stock?: boolean;
  page?: number;
}

// ---- search (GET /api/search/, /api/search/suggest/) ------------------------------------------------------------

export type SearchSort = "relevance" | "price_asc" | "price_desc" | "newest";

/** A search results page: a served list like recommendations (clicks carry its `request_id` and the position). */
export interface SearchResults {
  request_id: string;
  query: string;
  /** "Did you mean": the query with its typos corrected, or null. */
  corrected_query: string | null;
  count: number;
  page: number;
  page_size: number;
  sort: SearchSort;
  ranker: string;
  personalised: boolean;
  experiment: string | null;
  arm: string | null;
  items: RecommendationItem[];
  /** Zero results only: what to show instead of a dead end. */
  recommendations: { request_id: string; ranker: string; items: RecommendationItem[] } | null;
}

export interface SearchSuggestion {
  text: string;
  kind: "query" | "category" | "product";
  product_id: number | null;
}

export interface SearchSuggestions {
  query: string;
  corrected_query: string | null;
  suggestions: SearchSuggestion[];
}
