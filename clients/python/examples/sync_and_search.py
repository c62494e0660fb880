"""Sync a Jira site through Sluice from Python, then read what landed and search it.

Creates a Jira integration, runs its custom-field discovery and its issues sync (following
each run with WatchJobs until it ends), lists the work items, and searches them.

    python3 sync_and_search.py --gateway localhost:8080 --api-key "$SLUICE_API_KEY" \
        --jira-url http://127.0.0.1:8090 --email demo@example.com --api-token demo-token

Prints one line per progress change, then a summary the test suite checks:
    run <job type> <run id>: RUN_STATUS_COMPLETED
    work items: <n>
    search "<query>": <key> (<score>)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import grpc

from sluice.client import Sluice
from sluice.v1 import (
    account_pb2,
    catalog_pb2,
    common_pb2,
    integration_pb2,
    job_pb2,
    search_pb2,
)


def run_and_follow(sluice: Sluice, job_id: str) -> job_pb2.JobRun:
    """Starts the job and follows its events until the run ends."""
    # Subscribed first: the stream opens with the job's current state, then every change.
    events = sluice.jobs.WatchJobs(job_pb2.WatchJobsRequest(job_id=job_id))
    run = sluice.jobs.RunJob(job_pb2.RunJobRequest(id=job_id)).run
    last = None
    try:
        for event in events:
            if event.run_id != run.id:
                continue
            line = f"[{event.progress_percentage:3.0f}%] {event.step_name or 'queued'}"
            if line != last:
                print(line, flush=True)
                last = line
            if event.run_status not in (
                common_pb2.RUN_STATUS_UNSPECIFIED,
                common_pb2.RUN_STATUS_RUNNING,
            ):
                break
    finally:
        events.cancel()
    return sluice.jobs.GetJobRun(job_pb2.GetJobRunRequest(id=run.id)).run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="localhost:8080")
    parser.add_argument("--api-key", default=os.environ.get("SLUICE_API_KEY", ""))
    parser.add_argument("--jira-url", default="http://127.0.0.1:8090")
    parser.add_argument("--email", default="demo@example.com")
    parser.add_argument("--api-token", default="demo-token")
    parser.add_argument("--name", default=f"python-{int(time.time())}")
    args = parser.parse_args()

    with Sluice.connect(args.gateway, args.api_key) as sluice:
        who = sluice.account.WhoAmI(account_pb2.WhoAmIRequest())
        print(f"tenant: {who.tenant_name}")
        created = sluice.integrations.CreateIntegration(
            integration_pb2.CreateIntegrationRequest(
                type=common_pb2.INTEGRATION_TYPE_JIRA,
                name=args.name,
                base_url=args.jira_url,
                credentials=integration_pb2.Credentials(
                    basic=integration_pb2.BasicAuth(email=args.email, api_token=args.api_token)
                ),
            )
        )
        integration_id = created.integration.id
        jobs = sluice.jobs.ListJobs(job_pb2.ListJobsRequest(integration_id=integration_id)).jobs
        by_type = {job.job_type: job for job in jobs}
        ok = True
        for job_type in (common_pb2.JOB_TYPE_JIRA_DISCOVERY, common_pb2.JOB_TYPE_JIRA_ISSUES):
            job = by_type[job_type]
            run = run_and_follow(sluice, job.id)
            status = common_pb2.RunStatus.Name(run.status)
            print(f"run {job.job_name} {run.id}: {status}")
            if run.status != common_pb2.RUN_STATUS_COMPLETED:
                print(f"  error: {run.error_message}", file=sys.stderr)
                ok = False

        # Every work item, page by page.
        items = []
        token = ""
        while True:
            page = sluice.catalog.ListWorkItems(
                catalog_pb2.ListWorkItemsRequest(
                    integration_id=integration_id,
                    page=common_pb2.PageRequest(page_size=100, page_token=token),
                )
            )
            items.extend(page.work_items)
            token = page.next_page_token
            if not token:
                break
        print(f"work items: {len(items)}")
        for item in items[:5]:
            print(f"  {item.key} [{item.status}] {item.summary}")

        if items:
            query = items[0].summary or items[0].key
            # Vectors are computed after loading: ask until the item is searchable.
            deadline = time.time() + 60
            while True:
                found = sluice.search.Search(
                    search_pb2.SearchRequest(query=query, top_k=3, hybrid=True)
                ).results
                if found or time.time() > deadline:
                    break
                time.sleep(1)
            if found:
                print(f'search "{query}": {found[0].key} ({found[0].score:.3f})')
            else:
                print(f'search "{query}": nothing found', file=sys.stderr)
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as error:
        print(f"{error.code().name}: {error.details()}", file=sys.stderr)
        sys.exit(2)
