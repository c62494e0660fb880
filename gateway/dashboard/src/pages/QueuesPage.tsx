import { createColumnHelper, type RowSelectionState } from "@tanstack/react-table";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import { api } from "../api/client";
import { errorText } from "../api/errors";
import { useQuery } from "../api/useQuery";
import { DataTable } from "../components/DataTable";
import { ConfirmDialog, Empty, ErrorBox, Loading } from "../components/ui";
import type { DeadLetter, QueueHealth } from "../gen/sluice/v1/queue_pb";
import { formatInt, formatRate, formatTime, num } from "../lib/format";

const REFRESH_MS = 5000;

/** Calls `tick` every `ms` while the tab is visible. */
function useInterval(tick: () => void, ms: number) {
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState === "visible") tick();
    }, ms);
    return () => clearInterval(id);
  }, [tick, ms]);
}

const qcol = createColumnHelper<QueueHealth>();
const dcol = createColumnHelper<DeadLetter>();

/** -1 means "only an admin key sees this figure". */
function brokerFigure(v: bigint | number, fmt: (n: number) => string = formatInt) {
  const n = num(v);
  return n < 0 ? (
    <span className="muted" title="Broker-wide figure: needs an admin key (or the management API is unreachable)">
      —
    </span>
  ) : (
    fmt(n)
  );
}

export function QueuesPage() {
  const fetchHealth = useCallback((signal: AbortSignal) => api.queues.getQueueHealth({}, { signal }), []);
  const fetchDead = useCallback(async (signal: AbortSignal) => (await api.queues.listDeadLetters({ limit: 500 }, { signal })).deadLetters, []);
  const health = useQuery(fetchHealth);
  const dead = useQuery(fetchDead);
  const reloadHealth = health.reload;
  const reloadDead = dead.reload;
  const refresh = useCallback(() => {
    reloadHealth();
    reloadDead();
  }, [reloadHealth, reloadDead]);
  useInterval(refresh, REFRESH_MS);

  const [selection, setSelection] = useState<RowSelectionState>({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [purgeOpen, setPurgeOpen] = useState(false);

  const letters = useMemo(() => dead.data ?? [], [dead.data]);
  const selectedIds = letters.filter((d) => selection[d.id]).map((d) => d.id);

  async function requeue(ids: string[]) {
    setBusy(true);
    setResult(null);
    try {
      const r = await api.queues.requeueDeadLetters({ ids });
      setResult({ ok: true, text: `Requeued ${r.requeued} dead letter${r.requeued === 1 ? "" : "s"}.` });
      setSelection({});
      refresh();
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  async function purge() {
    setBusy(true);
    setResult(null);
    try {
      const r = await api.queues.purgeDeadLetters({});
      setResult({ ok: true, text: `Purged ${r.purged} dead letter${r.purged === 1 ? "" : "s"}.` });
      setSelection({});
      setPurgeOpen(false);
      refresh();
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
      setPurgeOpen(false);
    } finally {
      setBusy(false);
    }
  }

  const queueColumns = useMemo(
    () => [
      qcol.accessor("name", { header: "Queue", cell: (c) => <span className="mono">{c.getValue()}</span> }),
      qcol.accessor("depth", { header: "Depth", cell: (c) => brokerFigure(c.getValue()) }),
      qcol.accessor("consumers", { header: "Consumers", cell: (c) => brokerFigure(c.getValue()) }),
      qcol.accessor("unacked", { header: "Unacked", cell: (c) => brokerFigure(c.getValue()) }),
      qcol.accessor("publishRate", { header: "Publish /s", cell: (c) => brokerFigure(c.getValue(), formatRate) }),
      qcol.accessor("ackRate", { header: "Ack /s", cell: (c) => brokerFigure(c.getValue(), formatRate) }),
      qcol.accessor("deadLetters", { header: "Dead letters", cell: (c) => <span className={num(c.getValue()) > 0 ? "text-danger" : ""}>{formatInt(c.getValue())}</span> }),
    ],
    [],
  );

  const deadColumns = useMemo(
    () => [
      dcol.display({
        id: "select",
        header: ({ table }) => (
          <input
            type="checkbox"
            aria-label="Select all dead letters"
            checked={table.getIsAllRowsSelected()}
            ref={(el) => {
              if (el) el.indeterminate = table.getIsSomeRowsSelected();
            }}
            onChange={table.getToggleAllRowsSelectedHandler()}
            data-testid="dl-select-all"
          />
        ),
        cell: ({ row }) => (
          <input
            type="checkbox"
            aria-label={`Select dead letter ${row.original.id}`}
            checked={row.getIsSelected()}
            onChange={row.getToggleSelectedHandler()}
            data-testid="dl-select"
          />
        ),
      }),
      dcol.accessor("failedAt", { header: "Failed", cell: (c) => formatTime(c.getValue()) }),
      dcol.accessor("originalQueue", { header: "Original queue", cell: (c) => <span className="mono">{c.getValue()}</span> }),
      dcol.accessor("reason", { header: "Reason" }),
      dcol.accessor("error", { header: "Error", cell: (c) => <span className="cell-error">{c.getValue()}</span> }),
      dcol.accessor("payloadSummary", { header: "Payload", cell: (c) => <span className="cell-summary mono small">{c.getValue()}</span> }),
      dcol.accessor("runId", {
        header: "Run",
        cell: (c) =>
          c.getValue() ? (
            <Link to={`/runs/${c.getValue()}`} className="mono" data-testid="dl-run">
              {c.getValue().slice(0, 8)}…
            </Link>
          ) : (
            "—"
          ),
      }),
      dcol.accessor("retryCount", { header: "Retries" }),
    ],
    [],
  );

  return (
    <section className="page" aria-labelledby="q-title">
      <div className="page-head">
        <h1 id="q-title">Queues</h1>
        <span className="muted small" data-testid="queues-refresh">
          Refreshes every {REFRESH_MS / 1000} s{health.data?.brokerWide ? " · broker-wide figures (admin key)" : " · your tenant's backlog"}
        </span>
      </div>

      <section className="card" aria-labelledby="health-title">
        <h2 id="health-title">Health</h2>
        {health.error !== undefined && <ErrorBox error={health.error} title="Could not read the queues" onRetry={health.reload} />}
        {!health.data && health.error === undefined && <Loading label="Reading the queues…" />}
        {health.data && (
          <DataTable
            data={health.data.queues}
            columns={queueColumns}
            getRowId={(q) => q.name}
            caption="Queue health"
            rowTestId="queue-row"
            rowAttributes={(q) => ({ "data-queue": q.name })}
            testId="queue-table"
            empty={<Empty>No queues reported.</Empty>}
          />
        )}
      </section>

      <section className="card" aria-labelledby="dl-title">
        <div className="section-head">
          <h2 id="dl-title">Dead letters</h2>
          <div className="actions-row">
            <button type="button" className="btn btn-primary btn-small" disabled={busy || selectedIds.length === 0} onClick={() => void requeue(selectedIds)} data-testid="dl-requeue-selected">
              Requeue selected ({selectedIds.length})
            </button>
            <button type="button" className="btn btn-small" disabled={busy || letters.length === 0} onClick={() => void requeue([])} data-testid="dl-requeue-all">
              Requeue all
            </button>
            <button type="button" className="btn btn-danger btn-small" disabled={busy || letters.length === 0} onClick={() => setPurgeOpen(true)} data-testid="dl-purge">
              Purge…
            </button>
          </div>
        </div>
        {result && (
          <div className={`alert ${result.ok ? "alert-ok" : "alert-danger"}`} role="status" data-testid="dl-result">
            {result.text}
          </div>
        )}
        {dead.error !== undefined && <ErrorBox error={dead.error} title="Could not list the dead letters" onRetry={dead.reload} />}
        {!dead.data && dead.error === undefined && <Loading label="Loading dead letters…" />}
        {dead.data && (
          <DataTable
            data={letters}
            columns={deadColumns}
            getRowId={(d) => d.id}
            caption="Dead letters, newest first"
            rowTestId="dead-letter-row"
            rowAttributes={(d) => ({ "data-id": d.id, "data-run-id": d.runId, "data-queue": d.originalQueue })}
            rowSelection={selection}
            onRowSelectionChange={setSelection}
            testId="dead-letters"
            empty={<Empty testId="dl-empty">No dead letters. Messages that fail for good land here with their reason.</Empty>}
          />
        )}
      </section>

      <ConfirmDialog
        open={purgeOpen}
        title="Purge every dead letter?"
        confirmLabel={busy ? "Purging…" : "Purge dead letters"}
        danger
        busy={busy}
        onConfirm={() => void purge()}
        onCancel={() => setPurgeOpen(false)}
      >
        <p>The {letters.length} dead letter(s) are deleted for good; their messages will never be processed.</p>
      </ConfirmDialog>
    </section>
  );
}
