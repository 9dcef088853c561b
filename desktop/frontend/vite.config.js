import { defineConfig } from "vite";

// Wails embeds frontend/dist into the Go binary (//go:embed all:frontend/dist).
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The web view is WebView2 (Chromium) on Windows and WebKitGTK 2.40+ on Linux.
    target: "es2020",
  },
});
