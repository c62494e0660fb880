import { describe, expect, it } from "vitest";
import {
  addSlot,
  assign,
  columnName,
  dedicatedCount,
  emptyMapping,
  fromEntries,
  locate,
  moveOverflow,
  remove,
  sameMapping,
  shiftSlot,
  toEntries,
  trimExtraSlots,
} from "./fieldMapping";

describe("field mapping state", () => {
  it("round-trips the server's entries", () => {
    const entries = [
      { fieldId: "cf_3", column: 3 },
      { fieldId: "cf_1", column: 1 },
      { fieldId: "cf_o2", column: 0 },
      { fieldId: "cf_o1", column: 0 },
    ];
    const state = fromEntries(entries);
    expect(state.slots).toHaveLength(20);
    expect(state.slots[0]).toBe("cf_1");
    expect(state.slots[2]).toBe("cf_3");
    expect(state.overflow).toEqual(["cf_o2", "cf_o1"]);
    expect(toEntries(state)).toEqual([
      { fieldId: "cf_1", column: 1 },
      { fieldId: "cf_3", column: 3 },
      { fieldId: "cf_o2", column: 0 },
      { fieldId: "cf_o1", column: 0 },
    ]);
  });

  it("keeps columns past 20 that the server returned", () => {
    const state = fromEntries([{ fieldId: "x", column: 22 }]);
    expect(state.slots).toHaveLength(22);
    expect(toEntries(state)).toEqual([{ fieldId: "x", column: 22 }]);
  });

  it("ignores duplicate fields and columns", () => {
    const state = fromEntries([
      { fieldId: "a", column: 1 },
      { fieldId: "b", column: 1 },
      { fieldId: "a", column: 0 },
    ]);
    expect(toEntries(state)).toEqual([{ fieldId: "a", column: 1 }]);
  });

  it("assigns an unmapped field to a free column and to the overflow", () => {
    let s = emptyMapping();
    s = assign(s, "a", { kind: "slot", index: 4 });
    s = assign(s, "b", { kind: "overflow" });
    expect(locate(s, "a")).toEqual({ kind: "slot", index: 4 });
    expect(locate(s, "b")).toEqual({ kind: "overflow", index: 0 });
    expect(dedicatedCount(s)).toBe(1);
  });

  it("moves a field between places without duplicating it", () => {
    let s = assign(emptyMapping(), "a", { kind: "slot", index: 0 });
    s = assign(s, "a", { kind: "overflow" });
    expect(s.slots[0]).toBeNull();
    expect(s.overflow).toEqual(["a"]);
    s = assign(s, "a", { kind: "slot", index: 2 });
    expect(s.overflow).toEqual([]);
    expect(toEntries(s)).toEqual([{ fieldId: "a", column: 3 }]);
  });

  it("swaps two dedicated fields when one is dropped on the other", () => {
    let s = assign(emptyMapping(), "a", { kind: "slot", index: 0 });
    s = assign(s, "b", { kind: "slot", index: 1 });
    s = assign(s, "a", { kind: "slot", index: 1 });
    expect(s.slots.slice(0, 2)).toEqual(["b", "a"]);
  });

  it("unmaps the occupant when a field from elsewhere takes its column", () => {
    let s = assign(emptyMapping(), "a", { kind: "slot", index: 0 });
    s = assign(s, "b", { kind: "overflow" });
    s = assign(s, "b", { kind: "slot", index: 0 });
    expect(s.slots[0]).toBe("b");
    expect(locate(s, "a")).toEqual({ kind: "none" });
    expect(s.overflow).toEqual([]);
  });

  it("inserts into and reorders the overflow", () => {
    let s = emptyMapping();
    for (const id of ["a", "b", "c"]) s = assign(s, id, { kind: "overflow" });
    s = assign(s, "d", { kind: "overflow", index: 1 });
    expect(s.overflow).toEqual(["a", "d", "b", "c"]);
    s = moveOverflow(s, 0, 3);
    expect(s.overflow).toEqual(["d", "b", "c", "a"]);
    s = assign(s, "c", { kind: "overflow", index: 0 });
    expect(s.overflow).toEqual(["c", "d", "b", "a"]);
  });

  it("shifts a dedicated field to the neighbouring column", () => {
    let s = assign(emptyMapping(), "a", { kind: "slot", index: 0 });
    s = assign(s, "b", { kind: "slot", index: 1 });
    s = shiftSlot(s, 0, 1);
    expect(s.slots.slice(0, 2)).toEqual(["b", "a"]);
    expect(shiftSlot(s, 0, -1)).toBe(s);
  });

  it("removes a field", () => {
    let s = assign(emptyMapping(), "a", { kind: "slot", index: 0 });
    s = assign(s, "b", { kind: "overflow" });
    s = remove(remove(s, "a"), "b");
    expect(toEntries(s)).toEqual([]);
    expect(remove(s, "zzz")).toBe(s);
  });

  it("lets the user attempt a 21st dedicated column, which the server then refuses", () => {
    let s = emptyMapping();
    for (let i = 0; i < 20; i++) s = assign(s, `f${i}`, { kind: "slot", index: i });
    s = addSlot(s);
    s = assign(s, "f20", { kind: "slot", index: 20 });
    const entries = toEntries(s);
    expect(entries).toHaveLength(21);
    expect(entries[20]).toEqual({ fieldId: "f20", column: 21 });
    expect(dedicatedCount(s)).toBe(21);
  });

  it("trims empty extra columns only", () => {
    let s = addSlot(addSlot(emptyMapping()));
    s = assign(s, "x", { kind: "slot", index: 20 });
    s = trimExtraSlots(s);
    expect(s.slots).toHaveLength(21);
    s = trimExtraSlots(remove(s, "x"));
    expect(s.slots).toHaveLength(20);
  });

  it("compares mappings by their entries", () => {
    const a = assign(emptyMapping(), "a", { kind: "slot", index: 0 });
    expect(sameMapping(a, fromEntries([{ fieldId: "a", column: 1 }]))).toBe(true);
    expect(sameMapping(a, emptyMapping())).toBe(false);
    expect(sameMapping(addSlot(a), a)).toBe(true);
  });

  it("names the columns", () => {
    expect(columnName(7)).toBe("custom_field_07");
    expect(columnName(20)).toBe("custom_field_20");
  });
});
