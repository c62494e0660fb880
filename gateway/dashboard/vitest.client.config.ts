import { defineConfig } from "vitest/config";

// The generated client against a running gateway (not part of `npm test`, which needs none).
export default defineConfig({
  test: {
    include: ["clients/**/*.client.test.ts"],
    environment: "node",
  },
});
