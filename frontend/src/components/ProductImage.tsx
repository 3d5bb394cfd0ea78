import { useEffect, useState } from "react";
import { placeholderImage } from "../lib/placeholder";

interface Props {
  title: string;
  category: string;
  src?: string | null;
  className?: string;
}

// Names that never resolve (RFC 2606 / RFC 6761): asking for them could only fail, and log a failed request.
const NEVER_RESOLVES = /(^|\.)(invalid|example|test)$|^example\.(com|net|org)$/i;

// Addresses that failed once in this tab: not asked for again by the next card or page showing the same product.
const failed = new Set<string>();

/**
 * Whether `src` is worth asking for: a path on this site, an http(s) URL on a host that can exist, or a data: URL.
 * Anything else would only end in a failed request in the console and the placeholder anyway.
 */
export function loadableImage(src: string | null | undefined): src is string {
  if (!src || failed.has(src)) return false;
  if (src.startsWith("data:image/")) return true;
  let url: URL;
  try {
    url = new URL(src, "http://this.site");
  } catch {
    return false;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && !NEVER_RESOLVES.test(url.hostname);
}

/** Forgets the failures remembered so far (tests). */
export function resetImageFailures(): void {
  failed.clear();
}

/**
 * Shows a generated placeholder (initials on a colour from the category) and swaps to the real image only once it
 * has loaded: a broken image is never rendered, an address that cannot load is never asked for, and one that
 * failed is not asked for again in this tab.
 */
export function ProductImage({ title, category, src, className }: Props) {
  const placeholder = placeholderImage(title, category);
  // The address that has loaded; another `src` (the card now shows another product) shows the placeholder until its
  // own image has loaded: derived while rendering rather than reset by the effect.
  const [ready, setReady] = useState<string | null>(null);
  const loaded = ready !== null && ready === src ? ready : null;

  useEffect(() => {
    if (!loadableImage(src) || typeof Image === "undefined") return;
    let live = true;
    const probe = new Image();
    probe.onload = () => {
      if (live && probe.naturalWidth > 0) setReady(src);
    };
    probe.onerror = () => {
      failed.add(src); // keep the placeholder, here and wherever this address shows up next
    };
    probe.src = src;
    return () => {
      live = false; // a failure after this still counts: the address stays broken
      probe.onload = null;
    };
  }, [src]);

  return (
    <img
      className={className ?? "product-image"}
      src={loaded ?? placeholder}
      alt={title}
      width={400}
      height={300}
      decoding="async"
      data-placeholder={loaded ? undefined : "true"}
      onError={(e) => {
        // Belt and braces: if the real image fails after all, go back to the placeholder.
        if (loaded) {
          failed.add(loaded);
          setReady(null);
          e.currentTarget.src = placeholder;
        }
      }}
    />
  );
}
