import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The console host (services/Metering.Console) serves dist/ on :5083 and forwards /api/{service}/… with the session's
// token; the dev server forwards /api and /auth to a running host, so a page talks to the same origin either way.
const host = process.env.METERING_CONSOLE_URL ?? "http://127.0.0.1:5083";
const junit = process.env.METERING_CONSOLE_TEST_RESULTS;

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: {
    port: 5173,
    strictPort: true,
    proxy: { "/api": { target: host }, "/auth": { target: host } },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // With METERING_CONSOLE_TEST_RESULTS set (./metering test does), a JUnit XML file there is what the run counts.
    reporters: junit ? ["default", "junit"] : ["default"],
    outputFile: junit ? { junit } : undefined,
  },
});
