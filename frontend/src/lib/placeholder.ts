/** Up to two initials from a product title: "Lumora ProLine 27U" -> "LP". */
export function initials(title: string): string {
  const words = title.match(/[\p{L}\p{N}]+/gu) ?? [];
  return (
    words
      .slice(0, 2)
      .map((w) => w[0])
      .join("")
      .toUpperCase() || "?"
  );
}

/** A stable hue per category (FNV-1a hash), so products of one category share a colour. */
export function hueFor(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 360;
}

/** A data: URL SVG shown until (and unless) the real image loads: never a broken image. */
export function placeholderImage(title: string, category: string): string {
  const hue = hueFor(category || title);
  const text = initials(title).replace(/[<>&"']/g, "");
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">` +
    `<stop offset="0" stop-color="hsl(${hue} 62% 58%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360} 55% 40%)"/>` +
    `</linearGradient></defs><rect width="400" height="300" fill="url(#g)"/>` +
    `<text x="200" y="150" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="110" ` +
    `font-weight="700" fill="#fff" fill-opacity=".92">${text}</text></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}
