/** @file Vite build of the dashboard page (`npm run build` = `vite build web`): web/index.html → web/dist, relative
 * asset URLs so the server can serve the page from any path. */
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // uPlot and the page together stay far below this; a larger bundle means something heavy crept in.
    chunkSizeWarningLimit: 300,
  },
});
