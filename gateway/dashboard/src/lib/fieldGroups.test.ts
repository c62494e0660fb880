import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DiscoveredFieldSchema } from "../gen/sluice/v1/custom_field_pb";
import { paletteOf } from "./fieldGroups";

const field = (fieldId: string, name: string, custom: boolean, projectKey = "P1", issueTypeIds: string[] = ["10"]) =>
  create(DiscoveredFieldSchema, { fieldId, name, custom, projectKey, issueTypeIds });

const fields = [
  field("customfield_10002", "Budget", true),
  field("customfield_10001", "Acceptance criteria", true, "P1", ["10", "11"]),
  field("customfield_10003", "Region", true, "P2"),
  field("summary", "Summary", false),
  field("created", "Created", false, "", []),
];
const types = new Map([
  ["10", "Story"],
  ["11", "Bug"],
]);

describe("paletteOf", () => {
  it("splits custom fields from Jira's system fields, grouped by project and type", () => {
    const p = paletteOf(fields, "", "", types);
    expect(p.customCount).toBe(3);
    expect(p.systemCount).toBe(2);
    expect(p.custom.map((g) => g.project)).toEqual(["P1", "P2"]);
    expect(p.custom[0]?.types.map((t) => [t.name, t.fields.map((f) => f.name)])).toEqual([
      ["Bug", ["Acceptance criteria"]],
      ["Story", ["Acceptance criteria", "Budget"]],
    ]);
    expect(p.system.map((g) => g.project)).toEqual(["", "P1"]);
    expect(p.system[0]?.types[0]?.name).toBe("All issue types");
  });

  it("filters by name or id and scopes to a project plus the site-wide fields", () => {
    expect(paletteOf(fields, "BUDG", "", types).customCount).toBe(1);
    expect(paletteOf(fields, "customfield_1000", "", types).systemCount).toBe(0);
    const p2 = paletteOf(fields, "", "P2", types);
    expect(p2.customCount).toBe(1);
    expect(p2.systemCount).toBe(1); // "created" is site-wide
  });
});
