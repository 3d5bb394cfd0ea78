import { request } from "./http";
import { excludeParam } from "./recommendations";
import type { Category, PaginatedProducts, Product, ProductQuery, RecommendationList } from "./types";

/** `GET /api/categories/`: every category, flat, sorted by path. */
export function listCategories(signal?: AbortSignal): Promise<Category[]> {
  return request<Category[]>("GET", "/api/categories/", { signal });
}

/** `GET /api/products/`: 20 per page. */
export function listProducts(query: ProductQuery, signal?: AbortSignal): Promise<PaginatedProducts> {
  return request<PaginatedProducts>("GET", "/api/products/", {
    signal,
    query: { ...query, in_stock: query.in_stock ? "true" : undefined },
  });
}

/** `GET /api/products/{id}/` (ApiError 404 when unknown). */
export function getProduct(id: number, signal?: AbortSignal): Promise<Product> {
  return request<Product>("GET", `/api/products/${id}/`, { signal });
}

export interface ProductListQuery {
  n?: number;
  /** Products already on the page: never in the answer. */
  exclude?: readonly number[];
}

function productList(id: number, which: "similar" | "complements", q: ProductListQuery, signal?: AbortSignal) {
  return request<RecommendationList>("GET", `/api/products/${id}/${which}/`, {
    signal,
    query: { n: q.n ?? 8, exclude: excludeParam(q.exclude) },
    noStore: true,
  });
}

/** `GET /api/products/{id}/similar/`: a served list like recommendations (request_id, reasons). */
export function getSimilar(id: number, q: ProductListQuery = {}, signal?: AbortSignal): Promise<RecommendationList> {
  return productList(id, "similar", q, signal);
}

/** `GET /api/products/{id}/complements/`: a served list like recommendations (request_id, reasons). */
export function getComplements(
  id: number,
  q: ProductListQuery = {},
  signal?: AbortSignal,
): Promise<RecommendationList> {
  return productList(id, "complements", q, signal);
}
