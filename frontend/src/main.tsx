import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./App";
import { startSession } from "./lib/session";
import "./styles.css";

// First call of the page: sets the CSRF and shopper cookies before anything else talks to the API.
void startSession().catch(() => undefined);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <App />
    </BrowserRouter>
  </StrictMode>,
);
