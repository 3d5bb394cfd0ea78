import { useEffect, useRef } from "react";
import { useSearchParams } from "react-router";
import { ProductListing } from "../components/ProductListing";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { tracker } from "../lib/analytics";

export function SearchPage() {
  const [params] = useSearchParams();
  const q = (params.get("q") ?? "").trim();
  const tracked = useRef<string | null>(null);
  useDocumentTitle(q ? `Search: ${q}` : "Search");

  useEffect(() => {
    // One `search` event per query (not per page or filter change; StrictMode's second run is skipped too).
    if (q && tracked.current !== q) {
      tracked.current = q;
      tracker.search(q);
    }
  }, [q]);

  return (
    <>
      <h1>{q ? `Results for “${q}”` : "All products"}</h1>
      <ProductListing base={{ search: q }} />
    </>
  );
}
