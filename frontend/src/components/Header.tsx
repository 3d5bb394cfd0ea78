import { useEffect, useId, useState, type FormEvent } from "react";
import { Link, NavLink, useLocation, useNavigate, useSearchParams } from "react-router";
import { useCartCount } from "../hooks/useCart";
import { useCategories } from "../hooks/useCategories";
import { SHOP_NAME } from "../hooks/useDocumentTitle";
import { useSession } from "../hooks/useSession";

function SearchForm() {
  const inputId = useId();
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const current = location.pathname === "/search" ? (params.get("q") ?? "") : "";
  const [q, setQ] = useState(current);

  // Follow the URL (back/forward, a link to another search).
  useEffect(() => setQ(current), [current]);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const query = q.trim();
    if (query) navigate(`/search?q=${encodeURIComponent(query)}`);
  };

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
        onChange={(e) => setQ(e.target.value)}
        placeholder="Search products"
        autoComplete="off"
        enterKeyHint="search"
      />
      <button type="submit" className="button">
        Search
      </button>
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
