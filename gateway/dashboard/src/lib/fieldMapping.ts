/**
 * Editing state of a custom field mapping: which discovered field sits in which dedicated
 * column (custom_field_01..20) and which go to the overflow JSONB. Pure functions, so the
 * drag-and-drop UI, the keyboard controls and the tests share one set of rules.
 *
 * The state may hold more than 20 dedicated columns on purpose: the server is the judge of
 * the limit, and its INVALID_ARGUMENT names the entry it refuses.
 */

export const DEDICATED_COLUMNS = 20;

export interface MappingState {
  /** slots[i] is the field in column i + 1, or null when the column is free. */
  slots: (string | null)[];
  /** Fields kept in the overflow, in display order. */
  overflow: string[];
}

export interface Entry {
  fieldId: string;
  /** 1.. for a dedicated column, 0 for the overflow. */
  column: number;
}

export type Target = { kind: "slot"; index: number } | { kind: "overflow"; index?: number };

export type Location = { kind: "slot"; index: number } | { kind: "overflow"; index: number } | { kind: "none" };

export function emptyMapping(): MappingState {
  return { slots: Array.from({ length: DEDICATED_COLUMNS }, () => null), overflow: [] };
}

/** The editing state for the entries the server returned. */
export function fromEntries(entries: readonly Entry[]): MappingState {
  const state = emptyMapping();
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.fieldId)) continue;
    if (e.column >= 1) {
      while (state.slots.length < e.column) state.slots.push(null);
      if (state.slots[e.column - 1] != null) continue;
      state.slots[e.column - 1] = e.fieldId;
      seen.add(e.fieldId);
    }
  }
  for (const e of entries) {
    if (e.column === 0 && !seen.has(e.fieldId)) {
      state.overflow.push(e.fieldId);
      seen.add(e.fieldId);
    }
  }
  return state;
}

/**
 * The entries to send: dedicated columns in column order, then the overflow in its order.
 * The index of an entry in this list is the one the server's errors name
 * (`mapping.entries[N]…`).
 */
export function toEntries(state: MappingState): Entry[] {
  const out: Entry[] = [];
  state.slots.forEach((fieldId, i) => {
    if (fieldId != null) out.push({ fieldId, column: i + 1 });
  });
  for (const fieldId of state.overflow) out.push({ fieldId, column: 0 });
  return out;
}

export function locate(state: MappingState, fieldId: string): Location {
  const slot = state.slots.indexOf(fieldId);
  if (slot >= 0) return { kind: "slot", index: slot };
  const o = state.overflow.indexOf(fieldId);
  if (o >= 0) return { kind: "overflow", index: o };
  return { kind: "none" };
}

export function dedicatedCount(state: MappingState): number {
  return state.slots.filter((s) => s != null).length;
}

export function mappedIds(state: MappingState): Set<string> {
  return new Set([...state.slots.filter((s): s is string => s != null), ...state.overflow]);
}

function clone(state: MappingState): MappingState {
  return { slots: [...state.slots], overflow: [...state.overflow] };
}

/**
 * Puts a field at `target`, taking it from wherever it was. A field already in the target
 * column swaps places with it when the moved field came from a column, and becomes unmapped
 * otherwise.
 */
export function assign(state: MappingState, fieldId: string, target: Target): MappingState {
  const from = locate(state, fieldId);
  const next = clone(state);
  if (target.kind === "slot") {
    if (target.index < 0) return state;
    if (from.kind === "slot" && from.index === target.index) return state;
    while (next.slots.length <= target.index) next.slots.push(null);
    const occupant = next.slots[target.index] ?? null;
    if (from.kind === "slot") next.slots[from.index] = occupant;
    if (from.kind === "overflow") next.overflow.splice(from.index, 1);
    next.slots[target.index] = fieldId;
    return next;
  }
  if (from.kind === "slot") next.slots[from.index] = null;
  let at = target.index ?? next.overflow.length;
  if (from.kind === "overflow") {
    next.overflow.splice(from.index, 1);
    if (target.index === undefined) at = next.overflow.length;
  }
  at = Math.max(0, Math.min(at, next.overflow.length));
  next.overflow.splice(at, 0, fieldId);
  return next;
}

export function remove(state: MappingState, fieldId: string): MappingState {
  const from = locate(state, fieldId);
  if (from.kind === "none") return state;
  const next = clone(state);
  if (from.kind === "slot") next.slots[from.index] = null;
  else next.overflow.splice(from.index, 1);
  return next;
}

/** Moves an overflow field to another position of the overflow list. */
export function moveOverflow(state: MappingState, from: number, to: number): MappingState {
  if (from === to || from < 0 || from >= state.overflow.length) return state;
  const next = clone(state);
  const [item] = next.overflow.splice(from, 1);
  if (item === undefined) return state;
  next.overflow.splice(Math.max(0, Math.min(to, next.overflow.length)), 0, item);
  return next;
}

/** Moves a dedicated field one column up or down (swapping with the neighbour). */
export function shiftSlot(state: MappingState, index: number, delta: -1 | 1): MappingState {
  const fieldId = state.slots[index];
  const to = index + delta;
  if (fieldId == null || to < 0 || to >= state.slots.length) return state;
  return assign(state, fieldId, { kind: "slot", index: to });
}

/** Adds a column past the last one (beyond 20 the server refuses it, and says so). */
export function addSlot(state: MappingState): MappingState {
  return { slots: [...state.slots, null], overflow: [...state.overflow] };
}

/** Drops empty columns past the 20th from the end. */
export function trimExtraSlots(state: MappingState): MappingState {
  const slots = [...state.slots];
  while (slots.length > DEDICATED_COLUMNS && slots[slots.length - 1] == null) slots.pop();
  return slots.length === state.slots.length ? state : { slots, overflow: [...state.overflow] };
}

export function sameMapping(a: MappingState, b: MappingState): boolean {
  const ea = toEntries(a);
  const eb = toEntries(b);
  return ea.length === eb.length && ea.every((e, i) => e.fieldId === eb[i]?.fieldId && e.column === eb[i]?.column);
}

/** "custom_field_07" for column 7. */
export function columnName(column: number): string {
  return `custom_field_${String(column).padStart(2, "0")}`;
}
