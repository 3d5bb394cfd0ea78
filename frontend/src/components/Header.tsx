import { useEffect, useId, useState, type FormEvent, type KeyboardEvent } from "react";
import { suggestSearch, type SearchSuggestion } from "../api";
import { Link, NavLink, useLocation, useNavigate, useSearchParams } from "react-router";
import { useCartCount } from "../hooks/useCart";
import { useCategories } from "../hooks/useCategories";
import { SHOP_NAME } from "../hooks/useDocumentTitle";
import { useSession } from "../hooks/useSession";

function SearchForm() {
  const inputId = useId();
  const listId = useId();
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const current = location.pathname === "/search" ? (params.get("q") ?? "") : "";
  const [q, setQ] = useState(current);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [suggestions, setSuggestions] = useState<SearchSuggestion[]>([]);

  // Follow the URL (back/forward, a link to another search): adjusted while rendering, not by an effect that
  // would render twice (react.dev, "You might not need an effect").
  const [followed, setFollowed] = useState(current);
  if (followed !== current) {
    setFollowed(current);
    setQ(current);
  }

  // Autocomplete: ask once typing pauses (150 ms), for 2+ characters; an answer to an older prefix is dropped.
  // Closing the box forgets the suggestions (close()); fewer than 2 characters hide them.
  const asking = open && q.trim().length >= 2;
  const visible = asking ? suggestions : [];
  useEffect(() => {
    const typed = q.trim();
    if (!asking) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      suggestSearch(typed, controller.signal).then(
        (answer) => {
          setSuggestions(answer.suggestions);
          setActive(-1);
        },
        () => setSuggestions([]), // suggestions are a convenience: a failure just shows none
      );
    }, 150);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [q, asking]);

  const close = () => {
    setOpen(false);
    setSuggestions([]);
  };

  const go = (s: SearchSuggestion | null) => {
    close();
    // react-router's navigate answers a promise only for data routers; this shop's routes have nothing to await.
    if (s?.kind === "product" && s.product_id) {
      void navigate(`/products/${s.product_id}`);
      return;
    }
    const query = (s ? s.text : q).trim();
    if (s) setQ(s.text);
    if (query) void navigate(`/search?q=${encodeURIComponent(query)}`);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    go(active >= 0 ? (visible[active] ?? null) : null);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (!visible.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      setOpen(true);
      const step = e.key === "ArrowDown" ? 1 : -1;
      // cycle through "nothing chosen" (-1) and each suggestion
      const slots = visible.length + 1;
      setActive((i) => ((i + 1 + step + slots) % slots) - 1);
    } else if (e.key === "Escape") {
      close();
    }
  };

  const shown = visible.length > 0;
  return (
    <form role="search" className="search-form" onSubmit={onSubmit}>
      <label htmlFor={inputId} className="visually-hidden">
        Search products
      </label>
      <input
        id={inputId}
        type="search"
        name="q"
        value={q}
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(close, 150)}
        placeholder="Search products"
        autoComplete="off"
        enterKeyHint="search"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={shown}
        aria-controls={listId}
        aria-activedescendant={shown && active >= 0 ? `${listId}-${active}` : undefined}
      />
      <button type="submit" className="button">
        Search
      </button>
      {shown && (
        <ul id={listId} role="listbox" aria-label="Suggestions" className="search-suggestions">
          {visible.map((s, i) => (
            <li
              key={`${s.kind}-${s.text}`}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={`suggestion suggestion-${s.kind}`}
              onMouseDown={(e) => {
                e.preventDefault(); // keep the focus in the box until the choice is made
                go(s);
              }}
            >
              {s.text}
              {s.kind !== "query" && <span className="suggestion-kind"> · {s.kind}</span>}
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function CategoryNav() {
  const { categories } = useCategories();
  const top = (categories ?? []).filter((c) => c.parent_id === null || c.depth === 0);
  if (top.length === 0) return null;
  return (
    <nav className="category-nav" aria-label="Categories">
      <ul>
        {top.map((c) => (
          <li key={c.id}>
            <NavLink to={`/category/${c.id}`}>{c.name}</NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function Header() {
  const count = useCartCount();
  const { user } = useSession();
  return (
    <header className="site-header">
      <div className="header-row container">
        <Link to="/" className="brand">
          <svg aria-hidden="true" viewBox="0 0 32 32" width="28" height="28" className="brand-mark">
            <rect width="32" height="32" rx="8" fill="currentColor" />
            <path d="M9 8h7a8 8 0 0 1 0 16H9z" fill="#fff" />
          </svg>
          <span>{SHOP_NAME}</span>
        </Link>
        <SearchForm />
        <nav className="user-nav" aria-label="Your shop">
          <NavLink to="/account" className="nav-pill">
            {user ? `Account (${user.username})` : "Account"}
          </NavLink>
          <NavLink to="/cart" className="nav-pill cart-link">
            Cart <span className="cart-count" data-testid="cart-count">({count})</span>
          </NavLink>
        </nav>
      </div>
      <div className="container">
        <CategoryNav />
      </div>
    </header>
  );
}
