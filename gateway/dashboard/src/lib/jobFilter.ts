import type { JobView } from "./jobsStore";
import { jobStatusSlug, jobTypeSlug } from "./labels";

export interface JobFilter {
  integrationId: string;
  status: string;
  text: string;
}

export const NO_FILTER: JobFilter = { integrationId: "", status: "", text: "" };

export function matchesFilter(view: JobView, filter: JobFilter): boolean {
  if (filter.integrationId && view.job.integrationId !== filter.integrationId) return false;
  if (filter.status && jobStatusSlug(view.status) !== filter.status) return false;
  if (filter.text && !`${view.job.jobName} ${jobTypeSlug(view.job.jobType)}`.toLowerCase().includes(filter.text.toLowerCase())) return false;
  return true;
}
