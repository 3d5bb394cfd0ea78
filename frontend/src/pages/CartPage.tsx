import { useState } from "react";
import { Link } from "react-router";
import { getRecommendations } from "../api";
import { Price } from "../components/Price";
import { ProductImage } from "../components/ProductImage";
import { RecommendationList } from "../components/RecommendationList";
import { useCartLines } from "../hooks/useCart";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { tracker } from "../lib/analytics";
import { formatPrice, lineValue, sumValues } from "../lib/format";
import { cart } from "../lib/shopCart";

export function CartPage() {
  const lines = useCartLines();
  const [ordered, setOrdered] = useState(false);
  useDocumentTitle(ordered ? "Thank you" : "Cart");

  if (ordered) {
    return (
      <div className="empty-page" role="status">
        <h1>Thank you for your order</h1>
        <p>
          We have your order. <Link to="/">Keep shopping</Link>
        </p>
      </div>
    );
  }

  const currency = lines[0]?.product.currency ?? "EUR";
  const total = sumValues(lines.map((l) => lineValue(l.product.price, l.quantity)));
  // The server rebuilds the cart from the add/remove events: send them before asking for the cart's list.
  const signature = lines.map((l) => `${l.product_id}x${l.quantity}`).join(",");

  const checkout = () => {
    cart.checkout();
    void tracker.flush();
    setOrdered(true);
  };

  return (
    <>
      <h1>Your cart</h1>
      {lines.length === 0 ? (
        <p className="empty">
          Your cart is empty. <Link to="/">Find something you like</Link>
        </p>
      ) : (
        <div className="cart">
          <ul className="cart-lines">
            {lines.map((line) => (
              <li key={line.product_id} className="cart-line">
                <ProductImage
                  className="cart-thumb"
                  title={line.product.title}
                  category={line.product.category}
                  src={line.product.image_url}
                />
                <div className="cart-line-info">
                  <Link to={`/products/${line.product_id}`} className="cart-line-title">
                    {line.product.title}
                  </Link>
                  <Price price={line.product.price} currency={line.product.currency} />
                </div>
                <div className="qty" role="group" aria-label={`Quantity of ${line.product.title}`}>
                  <button
                    type="button"
                    className="button button-secondary qty-button"
                    aria-label={`Decrease quantity of ${line.product.title}`}
                    onClick={() => cart.setQuantity(line.product_id, line.quantity - 1)}
                  >
                    −
                  </button>
                  <span className="qty-value" aria-live="polite">
                    {line.quantity}
                  </span>
                  <button
                    type="button"
                    className="button button-secondary qty-button"
                    aria-label={`Increase quantity of ${line.product.title}`}
                    onClick={() => cart.setQuantity(line.product_id, line.quantity + 1)}
                  >
                    +
                  </button>
                </div>
                <span className="cart-line-total">
                  {formatPrice(lineValue(line.product.price, line.quantity), line.product.currency)}
                </span>
                <button
                  type="button"
                  className="button button-link"
                  aria-label={`Remove ${line.product.title}`}
                  onClick={() => cart.remove(line.product_id)}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
          <div className="cart-summary">
            <p>
              Total <strong>{formatPrice(total, currency)}</strong>
            </p>
            <button type="button" className="button button-primary" onClick={checkout}>
              Checkout
            </button>
          </div>
        </div>
      )}
      {lines.length > 0 && (
        <RecommendationList
          title="Complete your setup"
          list="cart"
          load={async (signal) => {
            await tracker.flush();
            return getRecommendations({ scenario: "cart", n: 8 }, signal);
          }}
          deps={[signature]}
        />
      )}
    </>
  );
}
