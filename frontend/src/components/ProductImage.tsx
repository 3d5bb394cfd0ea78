import { useEffect, useState } from "react";
import { placeholderImage } from "../lib/placeholder";

interface Props {
  title: string;
  category: string;
  src?: string | null;
  className?: string;
}

/**
 * Shows a generated placeholder (initials on a colour from the category) and swaps to the real image only once it
 * has loaded: the catalog's image URLs may point nowhere, and a broken image is never rendered.
 */
export function ProductImage({ title, category, src, className }: Props) {
  const placeholder = placeholderImage(title, category);
  const [loaded, setLoaded] = useState<string | null>(null);

  useEffect(() => {
    setLoaded(null);
    if (!src || typeof Image === "undefined") return;
    let live = true;
    const probe = new Image();
    probe.onload = () => {
      if (live && probe.naturalWidth > 0) setLoaded(src);
    };
    probe.onerror = () => {
      // Keep the placeholder.
    };
    probe.src = src;
    return () => {
      live = false;
      probe.onload = null;
      probe.onerror = null;
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
          setLoaded(null);
          e.currentTarget.src = placeholder;
        }
      }}
    />
  );
}
