import { useEffect, useRef } from "react";
import { Outlet, useLocation } from "react-router";
import { Header } from "./Header";

/** Skip link, header, the page, footer. Moves focus to the page on navigation so keyboard users start there. */
export function Layout() {
  const { pathname, search } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo?.(0, 0);
    main.current?.focus({ preventScroll: true });
  }, [pathname, search]);

  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <Header />
      <main id="main" ref={main} tabIndex={-1} className="container main">
        <Outlet />
      </main>
      <footer className="site-footer">
        <div className="container">
          DragonRec Demo Shop · recommendations by DragonRec ·{" "}
          <a href="/api/docs/">API</a>
        </div>
      </footer>
    </>
  );
}
