import type { DiscoveredField } from "../gen/sluice/v1/custom_field_pb";

/** Discovered fields of one project (or site-wide: ""), by issue type. */
export interface Group {
  project: string;
  types: { name: string; fields: DiscoveredField[] }[];
}

/** Groups fields by project (site-wide first) then issue type, each sorted by name. */
export function groupFields(fields: readonly DiscoveredField[], typeNames: Map<string, string>): Group[] {
  const byProject = new Map<string, Map<string, DiscoveredField[]>>();
  for (const f of fields) {
    const project = f.projectKey;
    let types = byProject.get(project);
    if (!types) {
      types = new Map();
      byProject.set(project, types);
    }
    const names = f.issueTypeIds.length ? f.issueTypeIds.map((id) => typeNames.get(id) ?? `type ${id}`) : ["All issue types"];
    for (const n of names) {
      const list = types.get(n) ?? [];
      if (!list.some((x) => x.fieldId === f.fieldId)) list.push(f);
      types.set(n, list);
    }
  }
  return [...byProject.entries()]
    .sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)))
    .map(([project, types]) => ({
      project,
      types: [...types.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, list]) => ({ name, fields: [...list].sort((x, y) => x.name.localeCompare(y.name)) })),
    }));
}

export interface Palette {
  custom: Group[];
  customCount: number;
  system: Group[];
  systemCount: number;
}

/**
 * The discovered fields the palette shows: those matching the filter (name or id) and in the
 * mapping's scope (its project and the site-wide ones), split into custom fields (what one
 * maps) and Jira's system fields.
 */
export function paletteOf(fields: readonly DiscoveredField[], filter: string, projectKey: string, typeNames: Map<string, string>): Palette {
  const q = filter.trim().toLowerCase();
  const visible = q ? fields.filter((f) => f.name.toLowerCase().includes(q) || f.fieldId.toLowerCase().includes(q)) : fields;
  const scoped = projectKey ? visible.filter((f) => f.projectKey === projectKey || f.projectKey === "") : visible;
  const custom = scoped.filter((f) => f.custom);
  const system = scoped.filter((f) => !f.custom);
  return {
    custom: groupFields(custom, typeNames),
    customCount: new Set(custom.map((f) => f.fieldId)).size,
    system: groupFields(system, typeNames),
    systemCount: new Set(system.map((f) => f.fieldId)).size,
  };
}
