import { getSession, setBootstrap } from "../api";
import type { SessionResponse } from "../api";
import { readCsrfToken } from "../tracking/cookies";

let markReady: () => void = () => {};
/** Settles once the first session call has answered (successfully or not). The tracker waits for it. */
export const sessionReady: Promise<void> = new Promise<void>((resolve) => {
  markReady = resolve;
});

let started: Promise<SessionResponse> | null = null;

/**
 * The app's first API call: `GET /api/auth/session/` sets the csrftoken cookie and, for a new visitor, the signed
 * shopper cookie. A visitor without cookies yet would otherwise get one shopper id per concurrent first request,
 * so until it answers the other calls wait (a returning visitor, who has the csrftoken cookie, does not wait).
 */
export function startSession(): Promise<SessionResponse> {
  if (!started) {
    const returning = readCsrfToken() !== null;
    started = getSession();
    if (!returning) setBootstrap(started);
    started.then(markReady, markReady);
  }
  return started;
}
