import { request } from "./http";
import type { Category, Paginated, Product, ProductQuery, RecommendationList } from "./types";

/** `GET /api/categories/`: every category, flat, sorted by path. */
export function listCategories(signal?: AbortSignal): Promise<Category[]> {
  return request<Category[]>("GET", "/api/categories/", { signal });
}

/** `GET /api/products/`: 20 per page. */
export function listProducts(query: ProductQuery, signal?: AbortSignal): Promise<Paginated<Product>> {
  return request<Paginated<Product>>("GET", "/api/products/", {
    signal,
    query: { ...query, in_stock: query.in_stock ? "true" : undefined },
  });
}

/** `GET /api/products/{id}/` (ApiError 404 when unknown). */
export function getProduct(id: number, signal?: AbortSignal): Promise<Product> {
  return request<Product>("GET", `/api/products/${id}/`, { signal });
}

/** `GET /api/products/{id}/similar/` */
export function getSimilar(id: number, n = 8, signal?: AbortSignal): Promise<RecommendationList> {
  return request<RecommendationList>("GET", `/api/products/${id}/similar/`, { signal, query: { n }, noStore: true });
}

/** `GET /api/products/{id}/complements/` */
export function getComplements(id: number, n = 8, signal?: AbortSignal): Promise<RecommendationList> {
  return request<RecommendationList>("GET", `/api/products/${id}/complements/`, {
    signal,
    query: { n },
    noStore: true,
  });
}
