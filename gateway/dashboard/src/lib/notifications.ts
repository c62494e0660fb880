import { DeliveryStatus, NotificationChannelKind, NotificationEvent } from "../gen/sluice/v1/notification_pb";

/** The events a channel can subscribe to, in the order the form lists them. */
export const SUBSCRIBABLE_EVENTS: { event: NotificationEvent; label: string; hint: string }[] = [
  { event: NotificationEvent.RUN_FAILED, label: "Run failed", hint: "a run ended FAILED" },
  { event: NotificationEvent.JOB_GAVE_UP, label: "Job gave up", hint: "a run failed with its retries used up" },
  { event: NotificationEvent.JOB_SKIPPED, label: "Job skipped", hint: "a due job did not run (inactive integration, failed dependency)" },
  { event: NotificationEvent.DEAD_LETTERS_OVER_THRESHOLD, label: "Dead letters over threshold", hint: "the tenant's dead letters went over the channel's threshold" },
];

export function eventLabel(event: NotificationEvent): string {
  if (event === NotificationEvent.TEST) return "Test";
  return SUBSCRIBABLE_EVENTS.find((e) => e.event === event)?.label ?? "Unknown event";
}

/** "All events" when none is selected (the API's meaning of an empty list). */
export function eventsLabel(events: readonly NotificationEvent[]): string {
  return events.length === 0 ? "All events" : events.map(eventLabel).join(", ");
}

export function kindLabel(kind: NotificationChannelKind): string {
  switch (kind) {
    case NotificationChannelKind.WEBHOOK:
      return "Webhook (signed)";
    case NotificationChannelKind.SLACK:
      return "Slack";
    default:
      return "Unknown";
  }
}

/** A delivery's status as a badge: the badge class shared with run statuses, and its text. */
export function deliveryBadge(status: DeliveryStatus): { kind: string; label: string } {
  switch (status) {
    case DeliveryStatus.DELIVERED:
      return { kind: "completed", label: "Delivered" };
    case DeliveryStatus.FAILED:
      return { kind: "failed", label: "Failed" };
    case DeliveryStatus.PENDING:
      return { kind: "running", label: "Pending" };
    default:
      return { kind: "not_started", label: "Unknown" };
  }
}

/** A threshold typed in the form: a whole number ≥ 0, or the reason it is not. */
export function parseThreshold(text: string): { value: number } | { error: string } {
  const t = text.trim();
  if (t === "") return { value: 0 };
  if (!/^\d+$/.test(t)) return { error: "a whole number of dead letters (0 turns the event off)" };
  const value = Number(t);
  if (value > 2_147_483_647) return { error: "at most 2147483647" };
  return { value };
}

/** The fields of the channel form an INVALID_ARGUMENT can name. */
export type ChannelFormField = "name" | "kind" | "url" | "secret" | "events" | "threshold";

/**
 * The form field a CreateChannel error path is about ("url", "events[1]",
 * "dead_letter_threshold" …), or null when the path names none of them.
 */
export function channelFieldFor(path: string): ChannelFormField | null {
  const head = /^[A-Za-z_]+/.exec(path)?.[0] ?? "";
  switch (head) {
    case "name":
    case "kind":
    case "url":
    case "secret":
    case "events":
      return head;
    case "dead_letter_threshold":
      return "threshold";
    default:
      return null;
  }
}
