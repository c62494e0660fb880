import { Link } from "react-router";
import type { RunProgress } from "../api/useRunWatch";
import { formatInt } from "../lib/format";
import { runStatusSlug } from "../lib/labels";
import { StreamIndicator } from "./StreamIndicator";
import { Badge, ProgressBar } from "./ui";

/** A run followed live (discovery, reprocess). */
export function RunProgressPanel({ run, title, testId }: { run: RunProgress; title: string; testId: string }) {
  const status = run.status ? runStatusSlug(run.status) : "starting";
  return (
    <div className="run-panel" data-testid={testId} data-run-id={run.runId} data-status={status}>
      <div className="run-panel-head">
        <strong>{title}</strong>
        <Badge kind={status} testId={`${testId}-status`}>
          {status}
        </Badge>
        {run.stream.kind !== "stopped" && <StreamIndicator state={run.stream} testId={`${testId}-stream`} />}
      </div>
      <ProgressBar value={run.progress} label={title} testId={`${testId}-bar`} />
      <div className="muted small">
        {run.stepName || "queued"}
        {run.counts && (
          <>
            {" "}
            · {formatInt(run.counts.recordsTransformed)} transformed · {formatInt(run.counts.recordsLoaded)} loaded
          </>
        )}
        {run.jobId && (
          <>
            {" "}
            · <Link to={`/jobs/${run.jobId}?run=${run.runId}`}>run details</Link>
          </>
        )}
      </div>
      {run.error && <div className="alert alert-danger">{run.error}</div>}
      {run.warning && <div className="alert alert-warn">{run.warning}</div>}
      {run.lookupError && <div className="alert alert-danger">{run.lookupError}</div>}
    </div>
  );
}
