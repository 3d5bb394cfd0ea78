import { useEffect, useId, useState, type FormEvent } from "react";
import { Link, useLocation } from "react-router";
import { ApiError, getPreferences, savePreferences, type Category, type Preferences } from "../api";
import { ErrorState } from "../components/ErrorState";
import { PriceField } from "../components/PriceField";
import { useAsync } from "../hooks/useAsync";
import { useCategories } from "../hooks/useCategories";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useSession } from "../hooks/useSession";

function message(err: unknown, fallback: string): string {
  return err instanceof ApiError && err.detail ? err.detail : fallback;
}

function SignIn() {
  const { user, loading, signIn, signOut } = useSession();
  const id = useId();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (loading) return <p role="status">Loading…</p>;

  // Event handlers below are async; React ignores what a handler returns, so each is called with `void` and catches
  // its own errors.
  const onSignOut = async () => {
    setBusy(true);
    try {
      await signOut();
    } catch (err) {
      setError(message(err, "Could not sign out. Please try again."));
    } finally {
      setBusy(false);
    }
  };

  if (user) {
    return (
      <div className="panel">
        <p className="signed-in">Signed in as {user.username}</p>
        <button
          type="button"
          className="button button-secondary"
          disabled={busy}
          onClick={() => void onSignOut()}
        >
          Sign out
        </button>
        {error && <p role="alert" className="form-error">{error}</p>}
      </div>
    );
  }

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username, password);
      setPassword("");
    } catch (err) {
      setError(message(err, "Could not sign in. Please try again."));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel form" onSubmit={(e) => void onSubmit(e)} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Sign in</h2>
      <p className="muted">What you did before signing in stays with you.</p>
      <div className="field">
        <label htmlFor={`${id}-user`}>Username</label>
        <input
          id={`${id}-user`}
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-pass`}>Password</label>
        <input
          id={`${id}-pass`}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      {error && (
        <p role="alert" className="form-error">
          {error}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}

function PreferencesForm({ initial, categories }: { initial: Preferences; categories: Category[] }) {
  const id = useId();
  const [selected, setSelected] = useState<Set<string>>(new Set(initial.categories ?? []));
  const [brands, setBrands] = useState((initial.brands ?? []).join(", "));
  // The server answers prices as decimal strings; the schema also admits numbers (what a client may send).
  const [priceMin, setPriceMin] = useState(String(initial.price_min ?? ""));
  const [priceMax, setPriceMax] = useState(String(initial.price_max ?? ""));
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const [error, setError] = useState<string | null>(null);

  const toggle = (path: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(path);
    else next.delete(path);
    setSelected(next);
    setStatus("idle");
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setStatus("saving");
    setError(null);
    try {
      await savePreferences({
        // Keep the catalog's order rather than the click order.
        categories: categories.map((c) => c.path).filter((p) => selected.has(p)),
        brands: brands
          .split(",")
          .map((b) => b.trim())
          .filter(Boolean),
        price_min: priceMin.trim() || null,
        price_max: priceMax.trim() || null,
      });
      setStatus("saved");
    } catch (err) {
      setStatus("idle");
      setError(message(err, "Could not save your preferences. Please try again."));
    }
  };

  return (
    <form className="form" onSubmit={(e) => void onSubmit(e)}>
      <fieldset className="category-picker">
        <legend>Categories</legend>
        <div className="category-options">
          {categories.map((c) => (
            <label key={c.id} className="check" style={{ paddingInlineStart: `${c.depth * 1.25}rem` }}>
              <input
                type="checkbox"
                checked={selected.has(c.path)}
                onChange={(e) => toggle(c.path, e.target.checked)}
              />
              {c.name}
            </label>
          ))}
        </div>
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-brands`}>Brands</label>
        <input
          id={`${id}-brands`}
          value={brands}
          onChange={(e) => {
            setBrands(e.target.value);
            setStatus("idle");
          }}
          placeholder="e.g. Lumora, Northwind"
          aria-describedby={`${id}-brands-hint`}
        />
        <span id={`${id}-brands-hint`} className="hint">
          Separate brands with commas.
        </span>
      </div>
      <div className="field-row">
        <PriceField
          id={`${id}-min`}
          label="Minimum price"
          value={priceMin}
          onChange={(value) => {
            setPriceMin(value);
            setStatus("idle");
          }}
        />
        <PriceField
          id={`${id}-max`}
          label="Maximum price"
          value={priceMax}
          onChange={(value) => {
            setPriceMax(value);
            setStatus("idle");
          }}
        />
      </div>
      {error && (
        <p role="alert" className="form-error">
          {error}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={status === "saving"}>
        Save preferences
      </button>
      <p role="status" className="form-status">
        {status === "saved" && (
          <>
            Preferences saved. <Link to="/">See your recommendations</Link>
          </>
        )}
      </p>
    </form>
  );
}

function PreferencesPanel() {
  const prefs = useAsync((signal) => getPreferences(signal), []);
  const { categories, error: catError, retry } = useCategories();
  const { hash } = useLocation();
  const ready = Boolean(prefs.data && categories);

  useEffect(() => {
    if (ready && hash === "#preferences") document.getElementById("preferences")?.scrollIntoView();
  }, [ready, hash]);

  return (
    <section id="preferences" className="panel" aria-labelledby="preferences-title">
      <h2 id="preferences-title">Tell us what you like</h2>
      <p className="muted">Your recommendations start from these until we learn from what you browse and buy.</p>
      {prefs.error || catError ? (
        <ErrorState
          message="Could not load your preferences"
          onRetry={() => {
            prefs.reload();
            retry();
          }}
        />
      ) : !ready ? (
        <p role="status">Loading…</p>
      ) : (
        <PreferencesForm initial={prefs.data!} categories={categories!} />
      )}
    </section>
  );
}

export function AccountPage() {
  useDocumentTitle("Account");
  const { user } = useSession();
  return (
    <>
      <h1>Your account</h1>
      <div className="account-grid">
        <SignIn />
        {/* Keyed by user: signing in or out shows that identity's preferences. */}
        <PreferencesPanel key={user?.id ?? "anonymous"} />
      </div>
    </>
  );
}
