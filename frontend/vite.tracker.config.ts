import { defineConfig } from "vite";

// `npm run build:tracker`: the tracking client alone, for shops without React or without a bundler.
// dist/tracker/dragonrec-tracker.js is an ES module; dragonrec-tracker.iife.js sets `window.DragonRecTracker`.
export default defineConfig({
  build: {
    outDir: "dist/tracker",
    emptyOutDir: true,
    copyPublicDir: false,
    lib: {
      entry: "src/tracking/index.ts",
      name: "DragonRecTracker",
      formats: ["es", "iife"],
      fileName: (format) => (format === "es" ? "dragonrec-tracker.js" : `dragonrec-tracker.${format}.js`),
    },
  },
});
