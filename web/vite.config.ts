/** @file Vite build of the dashboard page (part of `npm run build`, see scripts/build.mjs): web/index.html →
 * dist/web, next to the compiled server (dist/serve), so a clone and an installed package find it at the same
 * place relative to the code. Relative asset URLs so the server can serve the page from any path. */
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: "../dist/web",
    // outDir is outside web/: Vite empties it only when told to.
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // uPlot and the page together stay far below this; a larger bundle means something heavy crept in.
    chunkSizeWarningLimit: 300,
  },
});
