import { JobStatus, JobType, RunStatus } from "../gen/sluice/v1/common_pb";

export function jobStatusSlug(s: JobStatus): string {
  switch (s) {
    case JobStatus.NOT_STARTED:
      return "not_started";
    case JobStatus.READY:
      return "ready";
    case JobStatus.RUNNING:
      return "running";
    case JobStatus.COMPLETED:
      return "completed";
    case JobStatus.FAILED:
      return "failed";
    case JobStatus.PAUSED:
      return "paused";
    default:
      return "unknown";
  }
}

export function jobStatusLabel(s: JobStatus): string {
  return jobStatusSlug(s).replace("_", " ");
}

export function runStatusSlug(s: RunStatus): string {
  switch (s) {
    case RunStatus.RUNNING:
      return "running";
    case RunStatus.COMPLETED:
      return "completed";
    case RunStatus.FAILED:
      return "failed";
    case RunStatus.CANCELLED:
      return "cancelled";
    default:
      return "none";
  }
}

export function isTerminal(s: RunStatus): boolean {
  return s === RunStatus.COMPLETED || s === RunStatus.FAILED || s === RunStatus.CANCELLED;
}

/** The job type as etl_jobs names it. */
export function jobTypeSlug(t: JobType): string {
  switch (t) {
    case JobType.JIRA_SYNC:
      return "jira_sync";
    case JobType.JIRA_DISCOVERY:
      return "jira_discovery";
    case JobType.JIRA_ISSUES:
      return "jira_issues";
    case JobType.GITHUB_SYNC:
      return "github_sync";
    default:
      return "unknown";
  }
}

export function jobTypeLabel(t: JobType): string {
  switch (t) {
    case JobType.JIRA_SYNC:
      return "Jira metadata";
    case JobType.JIRA_DISCOVERY:
      return "Jira custom field discovery";
    case JobType.JIRA_ISSUES:
      return "Jira issues";
    case JobType.GITHUB_SYNC:
      return "GitHub sync";
    default:
      return "unknown job type";
  }
}

/** The five steps of Sluice's Jira model, 20 % each. */
export const JIRA_STEPS = [
  "issue types & projects",
  "statuses & project statuses",
  "issues fetching",
  "issues & changelogs processing",
  "dev status processing",
] as const;

/** The step name to show: the server's, else the model's name for the step number. */
export function stepLabel(type: JobType, step: number, stepName: string): string {
  if (stepName) return stepName;
  if ((type === JobType.JIRA_ISSUES || type === JobType.JIRA_SYNC) && step >= 1 && step <= 5) return JIRA_STEPS[step - 1] ?? "";
  return "";
}

/** Status category keys Jira uses: new (to do), indeterminate (in progress), done. */
export function categorySlug(key: string): "new" | "indeterminate" | "done" | "unknown" {
  return key === "new" || key === "indeterminate" || key === "done" ? key : "unknown";
}

export function categoryLabel(key: string): string {
  switch (categorySlug(key)) {
    case "new":
      return "To do";
    case "indeterminate":
      return "In progress";
    case "done":
      return "Done";
    default:
      return "No category";
  }
}

export const CATEGORY_KEYS = ["new", "indeterminate", "done"] as const;
