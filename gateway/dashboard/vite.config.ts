import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `npm run dev` serves the dashboard with hot reload and forwards the API (grpc-web) and the
// operator's dashboard-config.json to a running gateway (SLUICE_GATEWAY_URL, default
// http://127.0.0.1:8080). In production the gateway serves dist/ itself, on one origin.
const gateway = process.env.SLUICE_GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      "^/sluice\\.v1\\.": { target: gateway, changeOrigin: true },
      "/dashboard-config.json": { target: gateway, changeOrigin: true },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
