import { Link } from "react-router";
import { getRecommendations } from "../api";
import { RecommendationList } from "../components/RecommendationList";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export function HomePage() {
  useDocumentTitle(null);
  return (
    <>
      <section className="hero" aria-labelledby="hero-title">
        <h1 id="hero-title">Find your next favourite thing</h1>
        <p>
          Picks that learn from what you look at, add to your cart and buy.{" "}
          <Link to="/account#preferences" className="hero-link">
            Tell us what you like
          </Link>
        </p>
      </section>
      {/* Mounted on every visit, so the list is fetched again after saving preferences. */}
      <RecommendationList
        title="Recommended for you"
        list="home"
        load={(signal) => getRecommendations({ scenario: "home", n: 12 }, signal)}
        deps={[]}
      />
    </>
  );
}
