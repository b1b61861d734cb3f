import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The build goes into the example server, which embeds it (go:embed), so
// `go run ./examples/server` serves the client with no Node installed.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../server/web/dist",
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a server started with -addr 127.0.0.1:8099.
    proxy: {
      "/api": { target: "http://127.0.0.1:8099", ws: true },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
