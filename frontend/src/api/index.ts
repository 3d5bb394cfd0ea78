export { ApiError, setBootstrap } from "./http";
export { getSession, login, logout } from "./auth";
export { listCategories, listProducts, getProduct, getSimilar, getComplements } from "./catalog";
export type { ProductListQuery } from "./catalog";
export { excludeParam, getRecommendations, MAX_EXCLUDE } from "./recommendations";
export type { RecommendationQuery } from "./recommendations";
export { getPreferences, savePreferences } from "./preferences";
export type * from "./types";
