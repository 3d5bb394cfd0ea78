import { useSearchParams } from "react-router";

/** Changes to the URL's query: a value sets a parameter, null or "" removes it; the others stay. */
export type QueryChanges = Record<string, string | null>;

/**
 * The URL's query parameters and a function that changes some of them: filters, sort and page live in the URL, so
 * back/forward and shared links show the same list.
 */
export function useQueryParams(): [URLSearchParams, (changes: QueryChanges) => void] {
  const [params, setParams] = useSearchParams();
  const update = (changes: QueryChanges) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    setParams(next);
  };
  return [params, update];
}
