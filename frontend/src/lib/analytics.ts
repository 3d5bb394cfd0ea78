import { createTracker } from "../tracking";
import { sessionReady } from "./session";

/** The shop's one tracker (the tracking client itself knows nothing about React). */
export const tracker = createTracker({ waitFor: sessionReady });
