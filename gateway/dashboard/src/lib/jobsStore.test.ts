import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { JobStatus, JobType, RunCountsSchema, RunStatus } from "../gen/sluice/v1/common_pb";
import { JobEventSchema, JobRunSchema, JobSchema } from "../gen/sluice/v1/job_pb";
import { JobsStore } from "./jobsStore";

function job(id: string, extra: { currentRunId?: string; status?: JobStatus; progressPercentage?: number } = {}) {
  return create(JobSchema, { id, jobName: `job ${id}`, jobType: JobType.JIRA_ISSUES, status: JobStatus.READY, ...extra });
}

function manualStore() {
  const queue: (() => void)[] = [];
  const store = new JobsStore((f) => queue.push(f));
  return { store, run: () => queue.splice(0).forEach((f) => f()) };
}

describe("JobsStore", () => {
  it("notifies only the card whose job changed, once per frame", () => {
    const { store, run } = manualStore();
    const jobs = Array.from({ length: 200 }, (_, i) => job(`j${i}`));
    store.setJobs(jobs);
    run();
    const calls = new Map<string, number>();
    for (const j of jobs) store.subscribeJob(j.id, () => calls.set(j.id, (calls.get(j.id) ?? 0) + 1));
    let listCalls = 0;
    store.subscribeList(() => listCalls++);

    for (let p = 1; p <= 10; p++) {
      for (const id of ["j1", "j2", "j3", "j4", "j5"]) {
        store.applyEvent(
          create(JobEventSchema, {
            jobId: id,
            runId: `r-${id}`,
            jobStatus: JobStatus.RUNNING,
            runStatus: RunStatus.RUNNING,
            progressPercentage: p * 10,
            stepName: "issues fetching",
            step: 3,
          }),
        );
      }
    }
    run();
    expect([...calls.keys()].sort()).toEqual(["j1", "j2", "j3", "j4", "j5"]);
    expect([...calls.values()]).toEqual([1, 1, 1, 1, 1]);
    expect(listCalls).toBe(0);
    expect(store.get("j3")?.progress).toBe(100);
    expect(store.get("j3")?.stepName).toBe("issues fetching");
    expect(store.get("j0")?.progress).toBe(0);
  });

  it("keeps snapshots stable for unchanged jobs", () => {
    const { store, run } = manualStore();
    store.setJobs([job("a"), job("b")]);
    run();
    const b = store.get("b");
    store.applyEvent(create(JobEventSchema, { jobId: "a", progressPercentage: 40 }));
    run();
    expect(store.get("b")).toBe(b);
  });

  it("reports unknown jobs and adds them on upsert", () => {
    const { store, run } = manualStore();
    store.setJobs([job("a")]);
    expect(store.applyEvent(create(JobEventSchema, { jobId: "new" }))).toBe(false);
    let list = 0;
    store.subscribeList(() => list++);
    store.upsertJob(job("new"));
    run();
    expect(store.ids()).toEqual(["a", "new"]);
    expect(list).toBe(1);
  });

  it("resets step and counts when a new run starts", () => {
    const { store } = manualStore();
    store.setJobs([job("a")]);
    store.applyEvent(
      create(JobEventSchema, {
        jobId: "a",
        runId: "r1",
        runStatus: RunStatus.COMPLETED,
        jobStatus: JobStatus.COMPLETED,
        progressPercentage: 100,
        step: 5,
        stepName: "dev status processing",
        counts: create(RunCountsSchema, { recordsLoaded: 10n }),
      }),
    );
    store.startRun(create(JobRunSchema, { id: "r2", jobId: "a", status: RunStatus.RUNNING }));
    const v = store.get("a");
    expect(v?.runId).toBe("r2");
    expect(v?.progress).toBe(0);
    expect(v?.stepName).toBe("");
    expect(v?.status).toBe(JobStatus.RUNNING);
  });

  it("takes the schedule from events, not from the job as first listed", () => {
    const { store } = manualStore();
    const ts = (seconds: number) => timestampFromMs(seconds * 1000);
    store.setJobs([create(JobSchema, { id: "a", status: JobStatus.READY, nextRunAt: ts(1000), lastRunStartedAt: ts(100), lastRunFinishedAt: ts(110) })]);
    expect(store.get("a")?.nextRunAt).toEqual(ts(1000));
    store.startRun(create(JobRunSchema, { id: "r1", jobId: "a", status: RunStatus.RUNNING, startedAt: ts(1000) }));
    expect(store.get("a")?.lastRunStartedAt).toEqual(ts(1000));
    // The run ends: the job's row moves its next run, and the event says so.
    store.applyEvent(
      create(JobEventSchema, {
        jobId: "a",
        runId: "r1",
        jobStatus: JobStatus.COMPLETED,
        runStatus: RunStatus.COMPLETED,
        progressPercentage: 100,
        nextRunAt: ts(1000 + 6 * 3600),
        lastRunStartedAt: ts(1000),
        lastRunFinishedAt: ts(1030),
      }),
    );
    const v = store.get("a");
    expect(v?.nextRunAt).toEqual(ts(1000 + 6 * 3600));
    expect(v?.lastRunStartedAt).toEqual(ts(1000));
    expect(v?.lastRunFinishedAt).toEqual(ts(1030));
    // An unscheduled job (deactivated): no next run.
    store.applyEvent(create(JobEventSchema, { jobId: "a", runId: "r1", jobStatus: JobStatus.PAUSED, runStatus: RunStatus.COMPLETED, lastRunStartedAt: ts(1000), lastRunFinishedAt: ts(1030) }));
    expect(store.get("a")?.nextRunAt).toBeUndefined();
    expect(store.get("a")?.lastRunFinishedAt).toEqual(ts(1030));
  });

  it("keeps events that arrive before the list and applies them once it does", () => {
    const { store } = manualStore();
    expect(store.listed).toBe(false);
    expect(store.applyEvent(create(JobEventSchema, { jobId: "a", runId: "r1", runStatus: RunStatus.COMPLETED, progressPercentage: 100, snapshot: true }))).toBe(false);
    store.setJobs([job("a")]);
    expect(store.listed).toBe(true);
    expect(store.get("a")?.progress).toBe(100);
    expect(store.get("a")?.runStatus).toBe(RunStatus.COMPLETED);
  });

  it("keeps live state when the list is reloaded", () => {
    const { store } = manualStore();
    store.setJobs([job("a")]);
    store.applyEvent(create(JobEventSchema, { jobId: "a", runId: "r1", runStatus: RunStatus.RUNNING, progressPercentage: 30, step: 3 }));
    store.setJobs([job("a", { currentRunId: "r1", status: JobStatus.RUNNING, progressPercentage: 35 })]);
    expect(store.get("a")?.step).toBe(3);
    expect(store.get("a")?.progress).toBe(35);
    expect(store.get("a")?.runStatus).toBe(RunStatus.RUNNING);
  });
});
