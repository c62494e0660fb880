import { describe, expect, it } from "vitest";
import { DeliveryStatus, NotificationEvent } from "../gen/sluice/v1/notification_pb";
import { channelFieldFor, deliveryBadge, eventsLabel, parseThreshold } from "./notifications";

describe("notifications", () => {
  it("names no event as all of them, as the API means it", () => {
    expect(eventsLabel([])).toBe("All events");
    expect(eventsLabel([NotificationEvent.RUN_FAILED, NotificationEvent.JOB_SKIPPED])).toBe("Run failed, Job skipped");
  });

  it("shows delivery statuses with the run badges", () => {
    expect(deliveryBadge(DeliveryStatus.DELIVERED)).toEqual({ kind: "completed", label: "Delivered" });
    expect(deliveryBadge(DeliveryStatus.FAILED).kind).toBe("failed");
    expect(deliveryBadge(DeliveryStatus.PENDING).kind).toBe("running");
  });

  it("takes a threshold as a whole number and names what is wrong", () => {
    expect(parseThreshold("")).toEqual({ value: 0 });
    expect(parseThreshold(" 25 ")).toEqual({ value: 25 });
    expect(parseThreshold("-1")).toHaveProperty("error");
    expect(parseThreshold("1.5")).toHaveProperty("error");
    expect(parseThreshold("99999999999")).toEqual({ error: "at most 2147483647" });
  });

  it("puts a server error next to the field its path names", () => {
    expect(channelFieldFor("url")).toBe("url");
    expect(channelFieldFor("secret")).toBe("secret");
    expect(channelFieldFor("events[1]")).toBe("events");
    expect(channelFieldFor("dead_letter_threshold")).toBe("threshold");
    expect(channelFieldFor("tenant")).toBeNull();
    expect(channelFieldFor("")).toBeNull();
  });
});
