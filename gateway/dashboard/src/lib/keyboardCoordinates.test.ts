import { describe, expect, it } from "vitest";
import { pickTarget, type Box } from "./keyboardCoordinates";

const box = (left: number, top: number, width = 100, height = 40): Box => ({ left, top, width, height });

// Two columns of slots on the right of a field at (0, 0).
const slots = [
  { id: "slot|0", rect: box(300, 0) },
  { id: "slot|1", rect: box(420, 0) },
  { id: "slot|2", rect: box(300, 60) },
  { id: "slot|3", rect: box(420, 60) },
  { id: "overflow", rect: box(300, 200, 220, 80) },
];

describe("keyboard jumps between drop targets", () => {
  it("goes right to the target in line first", () => {
    expect(pickTarget("right", box(0, 0), slots)?.id).toBe("slot|0");
    expect(pickTarget("right", box(0, 60), slots)?.id).toBe("slot|2");
  });

  it("moves one target along from the one it is over", () => {
    expect(pickTarget("right", box(300, 0), slots)?.id).toBe("slot|1");
    expect(pickTarget("down", box(300, 0), slots)?.id).toBe("slot|2");
    expect(pickTarget("down", box(300, 60), slots)?.id).toBe("overflow");
    expect(pickTarget("up", box(300, 60), slots)?.id).toBe("slot|0");
    expect(pickTarget("left", box(420, 60), slots)?.id).toBe("slot|2");
  });

  it("stays put when nothing lies that way", () => {
    expect(pickTarget("left", box(0, 0), slots)).toBeNull();
    expect(pickTarget("up", box(0, -100), slots)).toBeNull();
  });
});
