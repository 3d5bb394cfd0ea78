import { request } from "./http";
import type { SessionResponse } from "./types";

/** `GET /api/auth/session/`: who is signed in; also sets the csrftoken (and shopper) cookies. */
export function getSession(signal?: AbortSignal): Promise<SessionResponse> {
  return request<SessionResponse>("GET", "/api/auth/session/", { signal, skipBootstrap: true, noStore: true });
}

/** `POST /api/auth/login/`: 400 `{detail}` on bad credentials. Anonymous history carries over server-side. */
export function login(username: string, password: string): Promise<SessionResponse> {
  return request<SessionResponse>("POST", "/api/auth/login/", { body: { username, password } });
}

/** `POST /api/auth/logout/` */
export function logout(): Promise<SessionResponse> {
  return request<SessionResponse>("POST", "/api/auth/logout/", { body: {} });
}
