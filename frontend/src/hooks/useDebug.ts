import { useMemo } from "react";
import { useLocation } from "react-router";
import { debugEnabled } from "../lib/debug";

/** Whether the page shows the debug view (`?debug=1`, remembered for the tab): see lib/debug.ts. */
export function useDebug(): boolean {
  const { search } = useLocation();
  return useMemo(() => debugEnabled(search), [search]);
}
