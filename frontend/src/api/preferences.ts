import { request } from "./http";
import type { Preferences, PreferencesInput } from "./types";

/** `GET /api/preferences/` (anonymous cookie holders and signed-in users). */
export function getPreferences(signal?: AbortSignal): Promise<Preferences> {
  return request<Preferences>("GET", "/api/preferences/", { signal, noStore: true });
}

/** `PUT /api/preferences/` */
export function savePreferences(prefs: PreferencesInput): Promise<Preferences> {
  return request<Preferences>("PUT", "/api/preferences/", { body: prefs });
}
