import { useEffect } from "react";

export const SHOP_NAME = "DragonRec Demo Shop";

/** Sets `document.title` to "<title> · DragonRec Demo Shop" (just the shop name for the home page). */
export function useDocumentTitle(title?: string | null): void {
  useEffect(() => {
    document.title = title ? `${title} · ${SHOP_NAME}` : SHOP_NAME;
  }, [title]);
}
