import { createColumnHelper } from "@tanstack/react-table";
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { Code } from "@connectrpc/connect";
import { api } from "../api/client";
import { errorText, toApiError } from "../api/errors";
import { useQuery } from "../api/useQuery";
import { DataTable } from "../components/DataTable";
import { Badge, ConfirmDialog, Empty, ErrorBox, Field, Loading } from "../components/ui";
import {
  DeliveryStatus,
  NotificationChannelKind,
  NotificationEvent,
  type NotificationChannel,
  type NotificationDelivery,
} from "../gen/sluice/v1/notification_pb";
import { parseFieldError } from "../lib/fieldErrors";
import { formatTime } from "../lib/format";
import {
  SUBSCRIBABLE_EVENTS,
  channelFieldFor,
  deliveryBadge,
  eventLabel,
  eventsLabel,
  kindLabel,
  parseThreshold,
  type ChannelFormField,
} from "../lib/notifications";

const REFRESH_MS = 3000;

const ccol = createColumnHelper<NotificationChannel>();
const dcol = createColumnHelper<NotificationDelivery>();

/** The secret of a channel just created, shown this once. */
interface ShownSecret {
  channel: string;
  secret: string;
}

export function NotificationsPage() {
  const fetchChannels = useCallback(async (signal: AbortSignal) => (await api.notifications.listChannels({}, { signal })).channels, []);
  const channels = useQuery(fetchChannels);
  const [channelFilter, setChannelFilter] = useState("");
  const fetchDeliveries = useCallback(
    async (signal: AbortSignal) => (await api.notifications.listDeliveries({ channelId: channelFilter }, { signal })).deliveries,
    [channelFilter],
  );
  const deliveries = useQuery(fetchDeliveries);
  const reloadChannels = channels.reload;
  const reloadDeliveries = deliveries.reload;

  // The log refreshes by itself while a delivery is still being tried.
  const pending = (deliveries.data ?? []).some((d) => d.status === DeliveryStatus.PENDING);
  useEffect(() => {
    if (!pending) return;
    const id = setInterval(() => {
      if (document.visibilityState === "visible") reloadDeliveries();
    }, REFRESH_MS);
    return () => clearInterval(id);
  }, [pending, reloadDeliveries]);

  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState<NotificationChannel | null>(null);
  const [shownSecret, setShownSecret] = useState<ShownSecret | null>(null);

  const act = useCallback(
    async (what: () => Promise<string>) => {
      setBusy(true);
      setResult(null);
      try {
        setResult({ ok: true, text: await what() });
        reloadChannels();
        reloadDeliveries();
      } catch (err) {
        setResult({ ok: false, text: errorText(err) });
      } finally {
        setBusy(false);
      }
    },
    [reloadChannels, reloadDeliveries],
  );

  const channelColumns = useMemo(
    () => [
      ccol.accessor("name", { header: "Name" }),
      ccol.accessor("kind", { header: "Kind", cell: (c) => kindLabel(c.getValue()) }),
      ccol.accessor("urlOrigin", {
        header: "Destination",
        cell: (c) => (
          <span className="mono" title="Only the scheme and host are shown: the whole URL is a secret">
            {c.getValue()}/…
          </span>
        ),
      }),
      ccol.accessor("events", { header: "Events", cell: (c) => eventsLabel(c.getValue()) }),
      ccol.accessor("deadLetterThreshold", { header: "Dead-letter threshold", cell: (c) => (c.getValue() > 0 ? c.getValue() : "—") }),
      ccol.accessor("active", {
        header: "Active",
        cell: (c) => {
          const ch = c.row.original;
          return (
            <label className="inline-check">
              <input
                type="checkbox"
                checked={ch.active}
                disabled={busy}
                aria-label={`${ch.name} active`}
                data-testid="channel-active"
                onChange={(e) => {
                  const active = e.target.checked;
                  void act(async () => {
                    await api.notifications.setChannelActive({ id: ch.id, active });
                    return `${ch.name} is ${active ? "active" : "paused"}.`;
                  });
                }}
              />
              {ch.active ? "on" : "off"}
            </label>
          );
        },
      }),
      ccol.display({
        id: "actions",
        header: "Actions",
        cell: (c) => {
          const ch = c.row.original;
          return (
            <div className="actions-row">
              <button
                type="button"
                className="btn btn-small"
                disabled={busy}
                data-testid="channel-test"
                onClick={() =>
                  void act(async () => {
                    const r = await api.notifications.testChannel({ id: ch.id });
                    return `Test notification queued for ${ch.name} (delivery ${r.deliveryId.slice(0, 8)}…): follow it in the log below.`;
                  })
                }
              >
                Send test
              </button>
              <button type="button" className="btn btn-danger btn-small" disabled={busy} data-testid="channel-delete" onClick={() => setDeleting(ch)}>
                Delete
              </button>
            </div>
          );
        },
      }),
    ],
    [act, busy],
  );

  const deliveryColumns = useMemo(
    () => [
      dcol.accessor("createdAt", { header: "Queued", cell: (c) => formatTime(c.getValue()) }),
      dcol.accessor("channelName", { header: "Channel" }),
      dcol.accessor("event", { header: "Event", cell: (c) => eventLabel(c.getValue()) }),
      dcol.accessor("status", {
        header: "Status",
        cell: (c) => {
          const b = deliveryBadge(c.getValue());
          return (
            <Badge kind={b.kind} testId="delivery-status">
              {b.label}
            </Badge>
          );
        },
      }),
      dcol.accessor("attempts", { header: "Attempts" }),
      dcol.accessor("lastHttpStatus", { header: "Last HTTP status", cell: (c) => (c.getValue() > 0 ? c.getValue() : "—") }),
      dcol.accessor("lastError", { header: "Last error", cell: (c) => (c.getValue() ? <span className="cell-error">{c.getValue()}</span> : "—") }),
      dcol.accessor("summary", { header: "Says", cell: (c) => <span className="cell-summary small">{c.getValue()}</span> }),
      dcol.display({
        id: "when",
        header: "Delivered / next attempt",
        cell: (c) => {
          const d = c.row.original;
          if (d.deliveredAt) return formatTime(d.deliveredAt);
          if (d.nextAttemptAt && d.status === DeliveryStatus.PENDING) return `next ${formatTime(d.nextAttemptAt)}`;
          return "—";
        },
      }),
    ],
    [],
  );

  return (
    <section className="page" aria-labelledby="n-title">
      <div className="page-head">
        <h1 id="n-title">Notifications</h1>
        <span className="muted small">Where this tenant's alerts go: failed runs, jobs that gave up or were skipped, dead letters over a threshold.</span>
      </div>

      {result && (
        <div className={`alert ${result.ok ? "alert-ok" : "alert-danger"}`} role="status" data-testid="notify-result">
          {result.text}
        </div>
      )}

      {shownSecret && (
        <div className="alert alert-ok" role="status" data-testid="generated-secret">
          <strong>Signing secret of {shownSecret.channel} — shown once — copy it now.</strong>
          <div className="mono secret-value" data-testid="generated-secret-value">
            {shownSecret.secret}
          </div>
          <div className="small">
            Each POST carries <span className="mono">X-Sluice-Signature: sha256=HMAC-SHA256(secret, &quot;&lt;X-Sluice-Timestamp&gt;.&lt;body&gt;&quot;)</span>
            ; compare it in constant time and dedupe on <span className="mono">X-Sluice-Delivery</span>.
          </div>
          <button type="button" className="btn btn-small" onClick={() => setShownSecret(null)}>
            I have copied it
          </button>
        </div>
      )}

      <section className="card" aria-labelledby="ch-title">
        <h2 id="ch-title">Channels</h2>
        {channels.error !== undefined && <ErrorBox error={channels.error} title="Could not list the channels" onRetry={channels.reload} />}
        {!channels.data && channels.error === undefined && <Loading label="Loading channels…" />}
        {channels.data && (
          <DataTable
            data={channels.data}
            columns={channelColumns}
            getRowId={(c) => c.id}
            caption="Notification channels"
            rowTestId="channel-row"
            rowAttributes={(c) => ({ "data-id": c.id, "data-name": c.name })}
            testId="channels"
            empty={<Empty testId="channels-empty">No channels yet: alerts are only in the dashboard. Add a webhook or a Slack channel below.</Empty>}
          />
        )}
      </section>

      <ChannelForm
        onCreated={(name, secret) => {
          setResult({ ok: true, text: `Channel ${name} created.` });
          setShownSecret(secret ? { channel: name, secret } : null);
          reloadChannels();
        }}
      />

      <section className="card" aria-labelledby="log-title">
        <div className="section-head">
          <h2 id="log-title">Delivery log</h2>
          <div className="actions-row">
            <label htmlFor="log-channel" className="small">
              Channel
            </label>
            <select id="log-channel" value={channelFilter} onChange={(e) => setChannelFilter(e.target.value)} data-testid="log-channel">
              <option value="">All channels</option>
              {(channels.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
            <button type="button" className="btn btn-small" onClick={reloadDeliveries} data-testid="log-refresh">
              Refresh
            </button>
          </div>
        </div>
        {pending && <div className="muted small">Deliveries are being tried: the log refreshes every {REFRESH_MS / 1000} s.</div>}
        {deliveries.error !== undefined && <ErrorBox error={deliveries.error} title="Could not read the delivery log" onRetry={deliveries.reload} />}
        {!deliveries.data && deliveries.error === undefined && <Loading label="Loading the delivery log…" />}
        {deliveries.data && (
          <DataTable
            data={deliveries.data}
            columns={deliveryColumns}
            getRowId={(d) => d.id}
            caption="Deliveries, newest first"
            rowTestId="delivery-row"
            rowAttributes={(d) => ({ "data-id": d.id, "data-status": DeliveryStatus[d.status] ?? "" })}
            testId="deliveries"
            empty={<Empty testId="deliveries-empty">Nothing sent yet.</Empty>}
          />
        )}
      </section>

      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "the channel"}?`}
        confirmLabel={busy ? "Deleting…" : "Delete channel"}
        danger
        busy={busy}
        onConfirm={() => {
          const ch = deleting;
          setDeleting(null);
          if (ch)
            void act(async () => {
              await api.notifications.deleteChannel({ id: ch.id });
              return `Channel ${ch.name} deleted with its delivery log.`;
            });
        }}
        onCancel={() => setDeleting(null)}
      >
        <p>Its alerts stop at once and its delivery log is deleted with it.</p>
      </ConfirmDialog>
    </section>
  );
}

function ChannelForm({ onCreated }: { onCreated: (name: string, generatedSecret: string) => void }) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState<NotificationChannelKind>(NotificationChannelKind.WEBHOOK);
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState("");
  const [events, setEvents] = useState<NotificationEvent[]>([]);
  const [threshold, setThreshold] = useState("");
  // The server's INVALID_ARGUMENT next to the field it names (as the integration form does);
  // any other failure above the submit button.
  const [errors, setErrors] = useState<Partial<Record<ChannelFormField | "form", string>>>({});
  const [saving, setSaving] = useState(false);
  const parsedThreshold = parseThreshold(threshold);
  const thresholdError = "error" in parsedThreshold ? parsedThreshold.error : null;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if ("error" in parsedThreshold) return;
    setSaving(true);
    setErrors({});
    try {
      const r = await api.notifications.createChannel({
        name,
        kind,
        url,
        secret: kind === NotificationChannelKind.WEBHOOK ? secret : "",
        events,
        deadLetterThreshold: parsedThreshold.value,
      });
      onCreated(r.channel?.name ?? name, r.generatedSecret);
      setName("");
      setUrl("");
      setSecret("");
      setEvents([]);
      setThreshold("");
    } catch (err) {
      const ae = toApiError(err);
      const fe = ae.code === Code.InvalidArgument ? parseFieldError(ae.message) : null;
      const field = fe ? channelFieldFor(fe.path) : null;
      setErrors(fe && field ? { [field]: fe.message } : { form: errorText(err) });
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="card" aria-labelledby="new-title">
      <h2 id="new-title">Add a channel</h2>
      <form onSubmit={(e) => void submit(e)} data-testid="channel-form" className="form-grid">
        <Field label="Name" htmlFor="ch-name" error={errors.name} testId="ch-name-field">
          <input id="ch-name" value={name} onChange={(e) => setName(e.target.value)} required data-testid="ch-name" />
        </Field>
        <Field label="Kind" htmlFor="ch-kind" error={errors.kind}>
          <select id="ch-kind" value={kind} onChange={(e) => setKind(Number(e.target.value))} data-testid="ch-kind">
            <option value={NotificationChannelKind.WEBHOOK}>{kindLabel(NotificationChannelKind.WEBHOOK)}</option>
            <option value={NotificationChannelKind.SLACK}>{kindLabel(NotificationChannelKind.SLACK)}</option>
          </select>
        </Field>
        <Field
          label={kind === NotificationChannelKind.SLACK ? "Slack incoming webhook URL" : "URL"}
          htmlFor="ch-url"
          error={errors.url}
          testId="ch-url-field"
          hint="https:// (plain http:// only to this machine). Stored encrypted; never shown again."
        >
          <input id="ch-url" type="url" value={url} onChange={(e) => setUrl(e.target.value)} required data-testid="ch-url" />
        </Field>
        {kind === NotificationChannelKind.WEBHOOK && (
          <Field label="Signing secret" htmlFor="ch-secret" error={errors.secret} hint="Leave empty to generate one (shown once)." testId="ch-secret-field">
            <input id="ch-secret" type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} data-testid="ch-secret" />
          </Field>
        )}
        <fieldset className="field">
          <legend>Events (none selected: all)</legend>
          {SUBSCRIBABLE_EVENTS.map((e) => (
            <label key={e.event} className="inline-check" title={e.hint}>
              <input
                type="checkbox"
                checked={events.includes(e.event)}
                onChange={(ev) => setEvents((prev) => (ev.target.checked ? [...prev, e.event] : prev.filter((x) => x !== e.event)))}
                data-testid={`ch-event-${e.event}`}
              />
              {e.label}
            </label>
          ))}
          {errors.events && (
            <div className="field-error" role="alert" data-testid="field-error">
              {errors.events}
            </div>
          )}
        </fieldset>
        <Field label="Dead-letter threshold" htmlFor="ch-threshold" error={thresholdError ?? errors.threshold} hint="Alert when the tenant's dead letters go over this many (empty or 0: never).">
          <input id="ch-threshold" inputMode="numeric" value={threshold} onChange={(e) => setThreshold(e.target.value)} data-testid="ch-threshold" />
        </Field>
        {errors.form && (
          <div className="alert alert-danger" role="alert" data-testid="channel-form-error">
            {errors.form}
          </div>
        )}
        <div className="actions-row form-submit">
          <button type="submit" className="btn btn-primary" disabled={saving || thresholdError !== null} data-testid="ch-create">
            {saving ? "Adding…" : "Add channel"}
          </button>
        </div>
      </form>
    </section>
  );
}
