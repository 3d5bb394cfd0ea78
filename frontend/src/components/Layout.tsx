import { useEffect, useRef } from "react";
import { Link, Outlet, useLocation } from "react-router";
import { useDebug } from "../hooks/useDebug";
import { Header } from "./Header";

/** Skip link, header, the page, footer. Moves focus to the page on navigation so keyboard users start there. */
export function Layout() {
  const { pathname, search } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const debug = useDebug();

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
      {debug && (
        <p className="debug-banner container" role="note">
          Debug view: each list shows what served it (ranker, experiment, request id) and each card its source and
          score. <Link to={{ pathname, search: "?debug=0" }}>Turn it off</Link>
        </p>
      )}
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
