/**
 * The shop's opt-in debug view: which ranker, experiment and arm served each list, its request id and each item's
 * source and score. Shoppers never see these; a developer or merchant opens a page with `?debug=1` and the tab
 * remembers it (sessionStorage) across client-side navigation and reloads; `?debug=0` turns it off again.
 */

const KEY = "dragonrec:debug";

function tabStorage(): Storage | null {
  try {
    return typeof sessionStorage === "undefined" ? null : sessionStorage;
  } catch {
    return null; // storage disabled by the browser: the debug view lasts one page
  }
}

/** Whether the debug view is on, given the current URL's query string; remembers an explicit `debug=` choice. */
export function debugEnabled(
  search: string,
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null = tabStorage(),
): boolean {
  const asked = new URLSearchParams(search).get("debug");
  if (asked !== null) {
    const on = asked === "1" || asked === "true";
    try {
      if (on) storage?.setItem(KEY, "1");
      else storage?.removeItem(KEY);
    } catch {
      // quota or privacy mode: the choice holds for this page only
    }
    return on;
  }
  try {
    return storage?.getItem(KEY) === "1";
  } catch {
    return false;
  }
}
