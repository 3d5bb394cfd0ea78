import type { RecommendationList } from "../api";

type Fetch = (exclude: number[], signal: AbortSignal) => Promise<RecommendationList>;

/** The lists shown together on one page, asked for in order so that none repeats another. */
export interface PageLists {
  /**
   * The load function of list `index` (0 = highest on the page): it waits until every list above it has answered
   * (or failed), then calls `fetch` with the ids already on the page as `exclude` (`base`, the lists above, and on a
   * Retry also the lists below, which have answered by then).
   */
  step(index: number, fetch: Fetch): (signal: AbortSignal) => Promise<RecommendationList>;
}

/**
 * One page's lists (docs/api.md, "A page is one set of lists"): product page complements → similar → for you;
 * cart page complete-your-setup → for you. `base` are ids the page shows outside the lists (the cart's lines).
 * Make a new one whenever the page's lists are asked for afresh (another product, a changed cart).
 */
export function createPageLists(count: number, base: readonly number[] = []): PageLists {
  const shown: (number[] | undefined)[] = Array.from({ length: count }, () => undefined);
  const answered = Array.from({ length: count }, () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  });
  const settle = (index: number, ids: number[]) => {
    shown[index] = ids;
    answered[index].resolve();
  };

  return {
    step(index, fetch) {
      return async (signal) => {
        await Promise.all(answered.slice(0, index).map((a) => a.promise));
        signal.throwIfAborted();
        const exclude = [...base, ...shown.flatMap((ids, i) => (i === index ? [] : (ids ?? [])))];
        try {
          const list = await fetch([...new Set(exclude)], signal);
          settle(index, list.items.map((item) => item.product.id));
          return list;
        } catch (error) {
          // A failed list shows nothing, so the lists below it need not wait for it nor avoid anything of it; an
          // aborted one (another page, React's double effect in development) is asked for again, so it counts later.
          if (!signal.aborted) settle(index, shown[index] ?? []);
          throw error;
        }
      };
    },
  };
}
