import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type Announcements,
  type DragEndEvent,
  type DragStartEvent,
  type UniqueIdentifier,
} from "@dnd-kit/core";
import { SortableContext, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { Code } from "@connectrpc/connect";
import { useCallback, useMemo, useState, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { errorText, toApiError } from "../api/errors";
import { allPages, useQuery } from "../api/useQuery";
import { useRunWatch, type RunRef } from "../api/useRunWatch";
import { RunProgressPanel } from "../components/RunProgressPanel";
import { Badge, Empty, ErrorBox, Loading } from "../components/ui";
import { IntegrationType, RunStatus } from "../gen/sluice/v1/common_pb";
import type { DiscoveredField } from "../gen/sluice/v1/custom_field_pb";
import { useIntegrations } from "../integrations";
import { isUnder, listIndexOf, parseFieldError } from "../lib/fieldErrors";
import { paletteOf, type Group } from "../lib/fieldGroups";
import {
  DEDICATED_COLUMNS,
  addSlot,
  assign,
  columnName,
  dedicatedCount,
  fromEntries,
  locate,
  moveOverflow,
  remove,
  sameMapping,
  shiftSlot,
  toEntries,
  trimExtraSlots,
  type MappingState,
  type Target,
} from "../lib/fieldMapping";
import { jumpBetweenTargets } from "../lib/keyboardCoordinates";
import { isTerminal } from "../lib/labels";

const keyboardCoordinates = jumpBetweenTargets(["palette"]);

/** A discovered field, merged over the projects and issue types it was seen in. */
interface FieldInfo {
  id: string;
  name: string;
  type: string;
  required: boolean;
}

function shortType(f: DiscoveredField): string {
  const custom = f.customType.split(":").pop() ?? "";
  return custom && custom !== f.schemaType ? `${f.schemaType} · ${custom}` : f.schemaType || "unknown";
}

type Picked = string | null;

interface EditorApi {
  state: MappingState;
  infos: Map<string, FieldInfo>;
  picked: Picked;
  setPicked: (id: Picked) => void;
  apply: (fn: (s: MappingState) => MappingState) => void;
  entryErrors: Map<string, string>;
}

function fieldName(api: EditorApi, id: string): string {
  return api.infos.get(id)?.name ?? id;
}

function placeLabel(state: MappingState, id: string): string {
  const loc = locate(state, id);
  if (loc.kind === "slot") return `column ${loc.index + 1}`;
  if (loc.kind === "overflow") return "overflow";
  return "";
}

/** "Map to …" select: the keyboard way to place a field anywhere in one step. */
function MapSelect({ editor, fieldId }: { editor: EditorApi; fieldId: string }) {
  const loc = locate(editor.state, fieldId);
  const value = loc.kind === "slot" ? `slot:${loc.index}` : loc.kind === "overflow" ? "overflow" : "none";
  return (
    <select
      className="map-select"
      value={value}
      aria-label={`Map ${fieldName(editor, fieldId)} to`}
      data-testid="field-map-select"
      onChange={(e) => {
        const v = e.target.value;
        if (v === "none") editor.apply((s) => remove(s, fieldId));
        else if (v === "overflow") editor.apply((s) => assign(s, fieldId, { kind: "overflow" }));
        else if (v.startsWith("slot:")) editor.apply((s) => assign(s, fieldId, { kind: "slot", index: Number(v.slice(5)) }));
      }}
    >
      <option value="none">Not mapped</option>
      {editor.state.slots.map((occupant, i) => (
        <option key={i} value={`slot:${i}`}>
          Column {i + 1}
          {i >= DEDICATED_COLUMNS ? " (beyond 20)" : ""}
          {occupant && occupant !== fieldId ? ` — ${fieldName(editor, occupant)}` : occupant === fieldId ? "" : " (free)"}
        </option>
      ))}
      <option value="overflow">Overflow</option>
    </select>
  );
}

function ChipBody({ info, extra }: { info: FieldInfo; extra?: ReactNode }) {
  return (
    <span className="chip-body">
      <span className="chip-name">{info.name}</span>
      <span className="chip-meta">
        <span className="mono">{info.id}</span> · {info.type}
        {info.required && (
          <Badge kind="required" testId="field-required">
            required
          </Badge>
        )}
      </span>
      {extra}
    </span>
  );
}

function PaletteChip({ editor, field, dragId }: { editor: EditorApi; field: DiscoveredField; dragId: string }) {
  const info = editor.infos.get(field.fieldId) ?? { id: field.fieldId, name: field.name, type: shortType(field), required: field.required };
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({ id: dragId, data: { fieldId: field.fieldId } });
  const where = placeLabel(editor.state, field.fieldId);
  const picked = editor.picked === field.fieldId;
  return (
    <li
      className={`chip palette-chip${isDragging ? " dragging" : ""}${where ? " chip-mapped" : ""}${picked ? " chip-picked" : ""}`}
      data-testid="field-chip"
      data-field-id={field.fieldId}
      data-field-name={field.name}
      data-custom={field.custom ? "true" : "false"}
      data-custom-type={field.customType || undefined}
      data-mapped={where || undefined}
      title={field.allowedValues.length ? `Allowed values: ${field.allowedValues.join(", ")}` : undefined}
    >
      <button
        type="button"
        ref={setNodeRef}
        className="drag-handle"
        aria-label={`Drag ${info.name}`}
        data-testid="field-drag"
        {...attributes}
        {...listeners}
      >
        <span aria-hidden="true">⠿</span>
      </button>
      <ChipBody info={{ ...info, required: field.required, type: shortType(field) }} extra={where && <span className="chip-where">→ {where}</span>} />
      <span className="chip-controls">
        <button
          type="button"
          className="btn btn-small"
          aria-pressed={picked}
          onClick={() => editor.setPicked(picked ? null : field.fieldId)}
          data-testid="field-pick"
          title="Choose this field, then choose where it goes"
        >
          {picked ? "Cancel" : "Place…"}
        </button>
        <MapSelect editor={editor} fieldId={field.fieldId} />
      </span>
    </li>
  );
}

function MappedChip({ editor, fieldId, dragId, children }: { editor: EditorApi; fieldId: string; dragId: string; children?: ReactNode }) {
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({ id: dragId, data: { fieldId } });
  const info = editor.infos.get(fieldId) ?? { id: fieldId, name: fieldId, type: "not discovered", required: false };
  return (
    <div className={`chip mapped-chip${isDragging ? " dragging" : ""}`} data-testid="mapped-chip" data-field-id={fieldId}>
      <button type="button" ref={setNodeRef} className="drag-handle" aria-label={`Drag ${info.name}`} {...attributes} {...listeners}>
        <span aria-hidden="true">⠿</span>
      </button>
      <ChipBody info={info} />
      {children}
    </div>
  );
}

function Slot({ editor, index }: { editor: EditorApi; index: number }) {
  const fieldId = editor.state.slots[index] ?? null;
  const { setNodeRef, isOver } = useDroppable({ id: `slot|${index}`, data: { target: { kind: "slot", index } satisfies Target } });
  const extra = index >= DEDICATED_COLUMNS;
  const err = fieldId ? editor.entryErrors.get(fieldId) : undefined;
  const picked = editor.picked;
  return (
    <li
      ref={setNodeRef}
      className={`slot${fieldId ? " slot-filled" : ""}${isOver ? " slot-over" : ""}${extra ? " slot-extra" : ""}${err ? " slot-invalid" : ""}`}
      data-testid="slot"
      data-column={index + 1}
      data-field-id={fieldId ?? ""}
      data-over={isOver ? "true" : undefined}
      data-extra={extra ? "true" : undefined}
      aria-label={`Column ${index + 1}${fieldId ? `: ${fieldName(editor, fieldId)}` : ", free"}`}
    >
      <div className="slot-label">
        <span className="mono">{columnName(index + 1)}</span>
        {extra && <span className="text-warn small"> beyond the 20 columns</span>}
      </div>
      {fieldId ? (
        <MappedChip editor={editor} fieldId={fieldId} dragId={`map|${fieldId}`}>
          <span className="chip-controls">
            <button type="button" className="icon-btn" aria-label={`Move ${fieldName(editor, fieldId)} up a column`} onClick={() => editor.apply((s) => shiftSlot(s, index, -1))} disabled={index === 0}>
              ↑
            </button>
            <button
              type="button"
              className="icon-btn"
              aria-label={`Move ${fieldName(editor, fieldId)} down a column`}
              onClick={() => editor.apply((s) => shiftSlot(s, index, 1))}
              disabled={index === editor.state.slots.length - 1}
            >
              ↓
            </button>
            <button
              type="button"
              className="icon-btn text-btn"
              aria-label={`Move ${fieldName(editor, fieldId)} to the overflow`}
              title="Move to the overflow"
              data-testid="slot-to-overflow"
              onClick={() => editor.apply((s) => assign(s, fieldId, { kind: "overflow" }))}
            >
              overflow
            </button>
            <button type="button" className="icon-btn" aria-label={`Remove ${fieldName(editor, fieldId)}`} data-testid="slot-remove" onClick={() => editor.apply((s) => remove(s, fieldId))}>
              ×
            </button>
          </span>
        </MappedChip>
      ) : (
        <div className="slot-empty">{picked ? "" : "Drop a field here"}</div>
      )}
      {picked && picked !== fieldId && (
        <button
          type="button"
          className="btn btn-small place-btn"
          data-testid="slot-place"
          onClick={() => {
            editor.apply((s) => assign(s, picked, { kind: "slot", index }));
            editor.setPicked(null);
          }}
        >
          Put {fieldName(editor, picked)} here
        </button>
      )}
      {err && (
        <div className="field-error" role="alert" data-testid="entry-error">
          {err}
        </div>
      )}
    </li>
  );
}

function OverflowItem({ editor, fieldId, index }: { editor: EditorApi; fieldId: string; index: number }) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: `ovf|${fieldId}`, data: { fieldId } });
  const info = editor.infos.get(fieldId) ?? { id: fieldId, name: fieldId, type: "not discovered", required: false };
  const err = editor.entryErrors.get(fieldId);
  const name = info.name;
  return (
    <li
      ref={setNodeRef}
      style={{ transform: CSS.Transform.toString(transform), transition }}
      className={`chip overflow-item${isDragging ? " dragging" : ""}${err ? " slot-invalid" : ""}`}
      data-testid="overflow-item"
      data-field-id={fieldId}
    >
      <button type="button" className="drag-handle" aria-label={`Drag ${name}`} {...attributes} {...listeners}>
        <span aria-hidden="true">⠿</span>
      </button>
      <ChipBody info={info} />
      <span className="chip-controls">
        <button type="button" className="icon-btn" aria-label={`Move ${name} up`} onClick={() => editor.apply((s) => moveOverflow(s, index, index - 1))} disabled={index === 0}>
          ↑
        </button>
        <button
          type="button"
          className="icon-btn"
          aria-label={`Move ${name} down`}
          onClick={() => editor.apply((s) => moveOverflow(s, index, index + 1))}
          disabled={index === editor.state.overflow.length - 1}
        >
          ↓
        </button>
        <button
          type="button"
          className="icon-btn text-btn"
          title="Move to the first free column"
          data-testid="overflow-to-column"
          aria-label={`Move ${name} to the first free column`}
          onClick={() =>
            editor.apply((s) => {
              const free = s.slots.findIndex((x, i) => x == null && i < DEDICATED_COLUMNS);
              return free >= 0 ? assign(s, fieldId, { kind: "slot", index: free }) : s;
            })
          }
        >
          column
        </button>
        <button type="button" className="icon-btn" aria-label={`Remove ${name}`} data-testid="overflow-remove" onClick={() => editor.apply((s) => remove(s, fieldId))}>
          ×
        </button>
      </span>
      {err && (
        <div className="field-error" role="alert" data-testid="entry-error">
          {err}
        </div>
      )}
    </li>
  );
}

function OverflowZone({ editor }: { editor: EditorApi }) {
  const { setNodeRef, isOver } = useDroppable({ id: "overflow", data: { target: { kind: "overflow" } satisfies Target } });
  const picked = editor.picked;
  return (
    <div ref={setNodeRef} className={`overflow-zone${isOver ? " slot-over" : ""}`} data-testid="overflow-zone" data-over={isOver ? "true" : undefined}>
      <SortableContext items={editor.state.overflow.map((id) => `ovf|${id}`)} strategy={verticalListSortingStrategy}>
        <ol className="overflow-list" aria-label="Overflow fields">
          {editor.state.overflow.map((id, i) => (
            <OverflowItem key={id} editor={editor} fieldId={id} index={i} />
          ))}
        </ol>
      </SortableContext>
      {editor.state.overflow.length === 0 && !picked && <div className="slot-empty">Drop fields here to keep them in the overflow (any number).</div>}
      {picked && (
        <button
          type="button"
          className="btn btn-small place-btn"
          data-testid="overflow-place"
          onClick={() => {
            editor.apply((s) => assign(s, picked, { kind: "overflow" }));
            editor.setPicked(null);
          }}
        >
          Add {fieldName(editor, picked)} to the overflow
        </button>
      )}
    </div>
  );
}

function PaletteZone({ children }: { children: ReactNode }) {
  const { setNodeRef, isOver } = useDroppable({ id: "palette" });
  return (
    <div ref={setNodeRef} className={`palette${isOver ? " palette-over" : ""}`} data-testid="palette">
      {children}
    </div>
  );
}

function FieldGroups({ editor, groups, kind }: { editor: EditorApi; groups: Group[]; kind: "custom" | "system" }) {
  return groups.map((g) => (
    <details key={g.project} open className="group" data-testid="field-group" data-project={g.project} data-kind={kind}>
      <summary>{g.project ? `Project ${g.project}` : "Site-wide fields"}</summary>
      {g.types.map((t) => (
        <div key={t.name} className="type-group">
          <h4>{t.name}</h4>
          <ul className="chip-list">
            {t.fields.map((f) => (
              <PaletteChip key={f.fieldId} editor={editor} field={f} dragId={`pal|${kind}|${g.project}|${t.name}|${f.fieldId}`} />
            ))}
          </ul>
        </div>
      ))}
    </details>
  ));
}

type SaveState = { kind: "idle" } | { kind: "saving" } | { kind: "saved" } | { kind: "error"; message: string; entryFieldId: string | null };

function MappingEditor({ integrationId, projectKey }: { integrationId: string; projectKey: string }) {
  const [discoveryRun, setDiscoveryRun] = useState<RunRef | null>(null);
  const [discoveryError, setDiscoveryError] = useState<string | null>(null);
  const discovery = useRunWatch(discoveryRun);
  const discoveryDone = discovery && isTerminal(discovery.status) ? discovery.runId : "";

  const fetchFields = useCallback(
    async (signal: AbortSignal) => {
      // discoveryDone: fetched again once a discovery run ends.
      const r = await api.customFields.listDiscoveredFields({ integrationId, projectKey: "" }, { signal });
      return { fields: r.fields, after: discoveryDone };
    },
    [integrationId, discoveryDone],
  );
  const fetchTypes = useCallback(
    (signal: AbortSignal) =>
      allPages(async (pageToken) => {
        const r = await api.catalog.listWorkItemTypes({ integrationId, page: { pageSize: 500, pageToken } }, { signal });
        return { items: r.workItemTypes, next: r.nextPageToken };
      }),
    [integrationId],
  );
  const fetchMapping = useCallback(
    async (signal: AbortSignal) => {
      try {
        const r = await api.customFields.getFieldMapping({ integrationId, projectKey }, { signal });
        return (r.mapping?.entries ?? []).map((e) => ({ fieldId: e.fieldId, column: e.column }));
      } catch (err) {
        // No mapping saved yet.
        if (toApiError(err).code === Code.NotFound) return [];
        throw err;
      }
    },
    [integrationId, projectKey],
  );
  const fields = useQuery(fetchFields);
  const types = useQuery(fetchTypes);
  const mapping = useQuery(fetchMapping);

  const typeNames = useMemo(() => new Map((types.data ?? []).map((t) => [t.externalId, t.name])), [types.data]);
  const [filter, setFilter] = useState("");
  const allFields = useMemo(() => fields.data?.fields ?? [], [fields.data]);
  const infos = useMemo(() => {
    const m = new Map<string, FieldInfo>();
    for (const f of allFields) {
      const prev = m.get(f.fieldId);
      m.set(f.fieldId, { id: f.fieldId, name: prev?.name ?? f.name, type: prev?.type ?? shortType(f), required: (prev?.required ?? false) || f.required });
    }
    return m;
  }, [allFields]);
  const filtering = filter.trim() !== "";
  const palette = useMemo(() => paletteOf(allFields, filter, projectKey, typeNames), [allFields, filter, typeNames, projectKey]);

  // The saved mapping (server's, or the one just saved) and the user's edits over it.
  const serverBaseline = useMemo(() => (mapping.data !== undefined ? fromEntries(mapping.data) : null), [mapping.data]);
  const [savedOver, setSavedOver] = useState<{ source: unknown; state: MappingState } | null>(null);
  const baseline = savedOver && savedOver.source === mapping.data ? savedOver.state : serverBaseline;
  const [draft, setDraft] = useState<{ base: MappingState; state: MappingState } | null>(null);
  const current = draft && draft.base === baseline ? draft.state : baseline;
  const dirty = current !== null && baseline !== null && !sameMapping(current, baseline);

  const [picked, setPicked] = useState<Picked>(null);
  const [saveState, setSaveState] = useState<SaveState>({ kind: "idle" });
  const [activeDrag, setActiveDrag] = useState<string | null>(null);
  const [reprocessRun, setReprocessRun] = useState<RunRef | null>(null);
  const [reprocessError, setReprocessError] = useState<string | null>(null);
  const reprocess = useRunWatch(reprocessRun);

  const apply = useCallback(
    (fn: (s: MappingState) => MappingState) => {
      if (!baseline) return;
      setDraft((d) => ({ base: baseline, state: fn(d && d.base === baseline ? d.state : baseline) }));
      setSaveState((s) => (s.kind === "saved" ? { kind: "idle" } : s));
    },
    [baseline],
  );

  const entryErrors = useMemo(() => {
    const m = new Map<string, string>();
    if (saveState.kind === "error" && saveState.entryFieldId) m.set(saveState.entryFieldId, saveState.message);
    return m;
  }, [saveState]);

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: keyboardCoordinates }),
  );

  if (fields.error !== undefined) return <ErrorBox error={fields.error} title="Could not list the discovered fields" onRetry={fields.reload} />;
  if (mapping.error !== undefined) return <ErrorBox error={mapping.error} title="Could not load the mapping" onRetry={mapping.reload} />;
  if (!fields.data || !current || !baseline) return <Loading label="Loading fields and mapping…" />;

  const editor: EditorApi = { state: current, infos, picked, setPicked, apply, entryErrors };

  async function runDiscovery() {
    setDiscoveryError(null);
    try {
      const r = await api.customFields.discoverCustomFields({ integrationId, projectKey });
      setDiscoveryRun({ runId: r.runId, jobId: r.jobId });
    } catch (err) {
      setDiscoveryError(errorText(err));
    }
  }

  async function save() {
    if (!current) return;
    const entries = toEntries(current);
    setSaveState({ kind: "saving" });
    try {
      const r = await api.customFields.setFieldMapping({
        mapping: { integrationId, projectKey, entries: entries.map((e) => ({ fieldId: e.fieldId, column: e.column })) },
        force: false,
      });
      const saved = fromEntries((r.mapping?.entries ?? []).map((e) => ({ fieldId: e.fieldId, column: e.column })));
      setSavedOver({ source: mapping.data, state: saved });
      setDraft(null);
      setSaveState({ kind: "saved" });
    } catch (err) {
      const ae = toApiError(err);
      const fe = ae.code === Code.InvalidArgument ? parseFieldError(ae.message) : null;
      const idx = fe ? listIndexOf(fe, "mapping.entries") : null;
      const entryFieldId = idx !== null ? (entries[idx]?.fieldId ?? null) : null;
      setSaveState({ kind: "error", message: fe && (entryFieldId || isUnder(fe, "mapping")) ? fe.message : errorText(err), entryFieldId });
    }
  }

  async function startReprocess() {
    setReprocessError(null);
    try {
      const r = await api.customFields.reprocess({ integrationId, projectKey });
      setReprocessRun({ runId: r.runId, jobId: r.jobId });
    } catch (err) {
      setReprocessError(errorText(err));
    }
  }

  function onDragStart(e: DragStartEvent) {
    const id = (e.active.data.current as { fieldId?: string } | undefined)?.fieldId;
    setActiveDrag(id ?? null);
    setPicked(null);
  }

  function onDragEnd(e: DragEndEvent) {
    setActiveDrag(null);
    const fieldId = (e.active.data.current as { fieldId?: string } | undefined)?.fieldId;
    const over = e.over;
    if (!fieldId || !over) return;
    const overId = String(over.id);
    if (overId.startsWith("slot|")) apply((s) => assign(s, fieldId, { kind: "slot", index: Number(overId.slice(5)) }));
    else if (overId === "overflow") apply((s) => assign(s, fieldId, { kind: "overflow" }));
    else if (overId.startsWith("ovf|")) {
      const target = overId.slice(4);
      apply((s) => {
        const to = s.overflow.indexOf(target);
        const from = s.overflow.indexOf(fieldId);
        if (from >= 0) return moveOverflow(s, from, to);
        return assign(s, fieldId, { kind: "overflow", index: to });
      });
    } else if (overId === "palette" && String(e.active.id).startsWith("pal|") === false) apply((s) => remove(s, fieldId));
  }

  const targetLabel = (id: UniqueIdentifier | undefined): string => {
    const s = String(id ?? "");
    if (s.startsWith("slot|")) return `column ${Number(s.slice(5)) + 1}`;
    if (s === "overflow" || s.startsWith("ovf|")) return "the overflow";
    if (s === "palette") return "the discovered fields (unmap)";
    return "nothing";
  };
  const nameOf = (data: unknown) => fieldName(editor, (data as { fieldId?: string } | undefined)?.fieldId ?? "");
  const announcements: Announcements = {
    onDragStart: ({ active }) => `Picked up ${nameOf(active.data.current)}. Use the arrow keys to move it to a column or the overflow, space to drop, escape to cancel.`,
    onDragOver: ({ active, over }) => `${nameOf(active.data.current)} is over ${targetLabel(over?.id)}.`,
    onDragEnd: ({ active, over }) => `${nameOf(active.data.current)} dropped on ${targetLabel(over?.id)}.`,
    onDragCancel: ({ active }) => `Moving ${nameOf(active.data.current)} was cancelled.`,
  };

  const dedicated = dedicatedCount(current);
  const listError = saveState.kind === "error" && !saveState.entryFieldId ? saveState.message : null;
  const noFields = allFields.length === 0;

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={closestCenter}
      onDragStart={onDragStart}
      onDragEnd={onDragEnd}
      onDragCancel={() => setActiveDrag(null)}
      accessibility={{ announcements, screenReaderInstructions: { draggable: "Press space or enter to pick up the field, the arrow keys to move it, space or enter to drop it, escape to cancel." } }}
    >
      <div className="cf-layout">
        <section className="card cf-palette" aria-labelledby="discovered-title">
          <div className="section-head">
            <h2 id="discovered-title">Discovered fields</h2>
            <button type="button" className="btn btn-small" onClick={() => void runDiscovery()} data-testid="rediscover" disabled={discovery !== null && !isTerminal(discovery.status) && discovery.lookupError === ""}>
              Run discovery
            </button>
          </div>
          {discovery && <RunProgressPanel run={discovery} title="Custom field discovery" testId="discovery-progress" />}
          {discoveryError && (
            <div className="alert alert-danger" role="alert">
              {discoveryError}
            </div>
          )}
          {noFields ? (
            <Empty testId="no-fields">
              <p>Custom field discovery has not run for this integration yet, so there are no fields to map.</p>
              <button type="button" className="btn btn-primary" onClick={() => void runDiscovery()} data-testid="run-discovery">
                Discover custom fields
              </button>
            </Empty>
          ) : (
            <>
              <label className="filter-label">
                Filter
                <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="Field name or id" data-testid="field-filter" />
              </label>
              <p className="muted small">
                Drag a field (or focus its handle and press space, then the arrow keys) onto a column or the overflow; or use <em>Place…</em> then the target&apos;s button, or the
                <em> Map to</em> menu.
              </p>
              <PaletteZone>
                <section className="field-kind" data-testid="custom-fields" aria-labelledby="custom-fields-title">
                  <h3 id="custom-fields-title" className="field-kind-title">
                    Custom fields <span className="muted small">({palette.customCount})</span>
                  </h3>
                  <FieldGroups editor={editor} groups={palette.custom} kind="custom" />
                  {palette.customCount === 0 && <p className="muted small">{filtering ? "No custom field matches the filter." : "Discovery found no custom fields."}</p>}
                </section>
                {palette.systemCount > 0 && (
                  // Jira's own fields have columns of their own and rarely need mapping: closed
                  // until asked for (or while a filter is typed, so its matches show).
                  <details key={filtering ? "filtering" : "all"} open={filtering || undefined} className="field-kind" data-testid="system-fields">
                    <summary className="field-kind-title">
                      System fields <span className="muted small">({palette.systemCount})</span>
                    </summary>
                    <p className="muted small">Jira&apos;s own fields (summary, assignee…) already have columns of their own; map one only to keep a copy.</p>
                    <FieldGroups editor={editor} groups={palette.system} kind="system" />
                  </details>
                )}
              </PaletteZone>
            </>
          )}
        </section>

        <section className="card cf-mapping" aria-labelledby="mapping-title">
          <div className="section-head">
            <h2 id="mapping-title">Mapping</h2>
            <span className={dedicated > DEDICATED_COLUMNS ? "text-danger" : "muted"} data-testid="dedicated-count">
              {dedicated} / {DEDICATED_COLUMNS} dedicated columns
            </span>
          </div>
          {picked && (
            <div className="alert alert-info" role="status" data-testid="picking">
              Choose where <strong>{fieldName(editor, picked)}</strong> goes: a column&apos;s or the overflow&apos;s button.{" "}
              <button type="button" className="btn btn-small" onClick={() => setPicked(null)}>
                Cancel
              </button>
            </div>
          )}
          {listError && (
            <div className="alert alert-danger" role="alert" data-testid="mapping-error">
              {listError}
            </div>
          )}
          {saveState.kind === "error" && saveState.entryFieldId && (
            <div className="alert alert-danger" role="alert" data-testid="mapping-error">
              The server refused the mapping: see {fieldName(editor, saveState.entryFieldId)} below.
            </div>
          )}
          <h3>Dedicated columns</h3>
          <ol className="slot-grid" data-testid="slot-grid">
            {current.slots.map((_, i) => (
              <Slot key={i} editor={editor} index={i} />
            ))}
          </ol>
          <div className="extra-slots">
            <button type="button" className="btn btn-small" onClick={() => apply(addSlot)} data-testid="add-column">
              Add column {current.slots.length + 1}
            </button>
            {current.slots.length > DEDICATED_COLUMNS && (
              <button type="button" className="btn btn-small" onClick={() => apply(trimExtraSlots)} data-testid="trim-columns">
                Remove empty extra columns
              </button>
            )}
            <span className="muted small"> Only 20 dedicated columns exist: the server refuses more.</span>
          </div>
          <h3>Overflow</h3>
          <OverflowZone editor={editor} />

          <div className="form-actions sticky-actions">
            <button type="button" className="btn btn-primary" onClick={() => void save()} disabled={!dirty || saveState.kind === "saving"} data-testid="mapping-save">
              {saveState.kind === "saving" ? "Saving…" : "Save mapping"}
            </button>
            <button
              type="button"
              className="btn"
              onClick={() => {
                setDraft(null);
                setSaveState({ kind: "idle" });
                setPicked(null);
              }}
              disabled={!dirty && saveState.kind !== "error"}
              data-testid="mapping-discard"
            >
              Discard changes
            </button>
            <button
              type="button"
              className="btn"
              onClick={() => void startReprocess()}
              disabled={dirty || (reprocess !== null && !isTerminal(reprocess.status) && reprocess.lookupError === "")}
              data-testid="reprocess"
              title={dirty ? "Save first: reprocessing uses the saved mapping" : "Transform the stored pages again with the saved mapping"}
            >
              Reprocess
            </button>
            {dirty && <span className="muted small">Unsaved changes</span>}
            {saveState.kind === "saved" && (
              <span className="ok" role="status" data-testid="mapping-saved">
                Saved. Reprocess to apply it to the stored pages.
              </span>
            )}
          </div>
          {reprocessError && (
            <div className="alert alert-danger" role="alert" data-testid="reprocess-error">
              {reprocessError}
            </div>
          )}
          {reprocess && <RunProgressPanel run={reprocess} title="Reprocess" testId="reprocess-progress" />}
          {reprocess?.status === RunStatus.COMPLETED && (
            <p className="ok" data-testid="reprocess-done">
              Reprocessed. <Link to={`/work-items?integration=${integrationId}`}>See the work items</Link>.
            </p>
          )}
        </section>
      </div>
      <DragOverlay dropAnimation={null}>
        {activeDrag ? (
          <div className="chip drag-overlay">
            <ChipBody info={infos.get(activeDrag) ?? { id: activeDrag, name: activeDrag, type: "", required: false }} />
          </div>
        ) : null}
      </DragOverlay>
    </DndContext>
  );
}

export function CustomFieldsPage() {
  const { integrations, loading, error, reload } = useIntegrations();
  const jira = useMemo(() => integrations.filter((i) => i.type === IntegrationType.JIRA), [integrations]);
  const [params, setParams] = useSearchParams();
  const integrationId = params.get("integration") || jira[0]?.id || "";
  const projectKey = params.get("project") ?? "";

  const fetchProjects = useCallback(
    (signal: AbortSignal) =>
      allPages(async (pageToken) => {
        const r = await api.catalog.listProjects({ integrationId, page: { pageSize: 500, pageToken } }, { signal });
        return { items: r.projects, next: r.nextPageToken };
      }),
    [integrationId],
  );
  const projects = useQuery(integrationId ? fetchProjects : null);

  const setParam = (k: string, v: string) =>
    setParams((p) => {
      const n = new URLSearchParams(p);
      if (v) n.set(k, v);
      else n.delete(k);
      if (k === "integration") n.delete("project");
      return n;
    });

  return (
    <section className="page" aria-labelledby="cf-title">
      <div className="page-head">
        <h1 id="cf-title">Custom fields</h1>
      </div>
      {error !== undefined && <ErrorBox error={error} title="Could not list the integrations" onRetry={reload} />}
      {loading && integrations.length === 0 && <Loading />}
      {!loading && jira.length === 0 && error === undefined && (
        <Empty>
          Custom fields are a Jira feature: <Link to="/integrations/new">add a Jira integration</Link> first.
        </Empty>
      )}
      {jira.length > 0 && (
        <>
          <div className="filters">
            <label>
              Integration
              <select value={integrationId} onChange={(e) => setParam("integration", e.target.value)} data-testid="cf-integration">
                {jira.map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Mapping for
              <select value={projectKey} onChange={(e) => setParam("project", e.target.value)} data-testid="cf-scope">
                <option value="">Every project (integration-wide)</option>
                {(projects.data ?? []).map((p) => (
                  <option key={p.key} value={p.key}>
                    Project {p.key} — {p.name}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {integrationId && <MappingEditor key={`${integrationId}|${projectKey}`} integrationId={integrationId} projectKey={projectKey} />}
        </>
      )}
    </section>
  );
}
