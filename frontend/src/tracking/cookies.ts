/** Reads a cookie by name from `document.cookie` (null outside a browser or when absent). */
export function readCookie(name: string): string | null {
  if (typeof document === "undefined" || typeof document.cookie !== "string") return null;
  for (const part of document.cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return part.slice(eq + 1).trim();
      }
    }
  }
  return null;
}

/** Django's CSRF cookie; sent back as `X-CSRFToken` on every POST (Django enforces it for signed-in users). */
export function readCsrfToken(): string | null {
  return readCookie("csrftoken");
}
