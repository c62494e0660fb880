// The generated TypeScript client over grpc-web, under Node, against a running gateway: a
// unary call, then a WatchJobs stream that follows a whole sync run. Run by the Rust test
// suite (cli/tests/gateway.rs) as `npm run client-check` with:
//   SLUICE_GATEWAY_URL   the gateway, e.g. http://127.0.0.1:8080
//   SLUICE_API_KEY       a tenant's key
//   SIMULATOR_URL, SIMULATOR_EMAIL, SIMULATOR_TOKEN   the Jira simulator to sync
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { describe, expect, it } from "vitest";

import { AccountService } from "../src/gen/sluice/v1/account_pb";
import { IntegrationType, JobType, RunStatus } from "../src/gen/sluice/v1/common_pb";
import { IntegrationService } from "../src/gen/sluice/v1/integration_pb";
import { JobService, type JobEvent } from "../src/gen/sluice/v1/job_pb";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} must be set (cli/tests/gateway.rs sets it)`);
  }
  return value;
}

const apiKey = required("SLUICE_API_KEY");
const auth: Interceptor = (next) => (request) => {
  request.header.set("authorization", `Bearer ${apiKey}`);
  return next(request);
};
const transport = createGrpcWebTransport({
  baseUrl: required("SLUICE_GATEWAY_URL"),
  interceptors: [auth],
});

describe("grpc-web through the gateway", () => {
  it("answers a unary call and streams a whole run", async () => {
    const who = await createClient(AccountService, transport).whoAmI({});
    expect(who.tenantId).not.toBe("");

    const integrations = createClient(IntegrationService, transport);
    const created = await integrations.createIntegration({
      type: IntegrationType.JIRA,
      name: `grpc-web-${Date.now()}`,
      baseUrl: required("SIMULATOR_URL"),
      credentials: {
        kind: {
          case: "basic",
          value: { email: required("SIMULATOR_EMAIL"), apiToken: required("SIMULATOR_TOKEN") },
        },
      },
    });
    const integrationId = created.integration?.id ?? "";
    const jobs = createClient(JobService, transport);
    const listed = await jobs.listJobs({ integrationId });
    const issues = listed.jobs.find((job) => job.jobType === JobType.JIRA_ISSUES);
    expect(issues).toBeDefined();
    const jobId = issues?.id ?? "";

    // Subscribe, start the run, follow it to its end.
    const controller = new AbortController();
    const stream = jobs.watchJobs({ jobId }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect((first.value as JobEvent).snapshot).toBe(true);
    const started = await jobs.runJob({ id: jobId });
    const runId = started.run?.id ?? "";
    const seen: JobEvent[] = [];
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        throw new Error("the stream ended before the run did");
      }
      const event = next.value;
      if (event.runId !== runId) continue;
      seen.push(event);
      if (event.runStatus !== RunStatus.UNSPECIFIED && event.runStatus !== RunStatus.RUNNING) break;
    }
    controller.abort();
    const last = seen[seen.length - 1];
    expect(last.runStatus).toBe(RunStatus.COMPLETED);
    expect(last.progressPercentage).toBe(100);
    const steps = new Set(seen.map((event) => event.stepName));
    expect(steps.has("issues fetching")).toBe(true);
    expect(seen.length).toBeGreaterThan(3);
    console.log(`grpc-web: ${seen.length} events for run ${runId}, last ${RunStatus[last.runStatus]} at ${last.progressPercentage}%`);
  }, 60_000);
});
