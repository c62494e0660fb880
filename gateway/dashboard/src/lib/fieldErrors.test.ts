import { describe, expect, it } from "vitest";
import { isUnder, listIndexOf, parseFieldError } from "./fieldErrors";

describe("field errors", () => {
  it("splits an entry's error", () => {
    const e = parseFieldError(
      "mapping.entries[20].column: 21 is out of range: 1..20 for a dedicated column, 0 for the overflow",
    );
    expect(e?.path).toBe("mapping.entries[20].column");
    expect(e?.segments).toEqual(["mapping", "entries", 20, "column"]);
    expect(e?.detail).toBe("21 is out of range: 1..20 for a dedicated column, 0 for the overflow");
    expect(e && listIndexOf(e, "mapping.entries")).toBe(20);
    expect(e && isUnder(e, "mapping.entries")).toBe(true);
  });

  it("splits a list-wide error", () => {
    const e = parseFieldError("mapping.entries: 21 fields mapped to dedicated columns; at most 20 (use 0 for the overflow)");
    expect(e?.path).toBe("mapping.entries");
    expect(e && listIndexOf(e, "mapping.entries")).toBeNull();
    expect(e && isUnder(e, "mapping.entries")).toBe(true);
    expect(e && isUnder(e, "mapping.entries_x")).toBe(false);
  });

  it("handles plain field errors and messages without a path", () => {
    expect(parseFieldError("base_url: is required")?.path).toBe("base_url");
    expect(parseFieldError("credentials.github.tokens[1]: is empty")?.segments).toEqual([
      "credentials",
      "github",
      "tokens",
      1,
    ]);
    expect(parseFieldError("unknown or revoked api key")).toBeNull();
    expect(parseFieldError("job 5 not found: gone")).toBeNull();
  });
});
