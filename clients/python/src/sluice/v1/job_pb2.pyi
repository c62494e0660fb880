import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from sluice.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Job(_message.Message):
    __slots__ = ("id", "integration_id", "job_name", "job_type", "status", "active", "schedule_interval_minutes", "retry_interval_minutes", "priority", "max_retries", "retry_count", "depends_on", "progress_percentage", "step_name", "error_message", "next_run_at", "last_run_started_at", "last_run_finished_at", "last_sync_cursor", "current_run_id", "alert")
    ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_INTERVAL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    RETRY_INTERVAL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    STEP_NAME_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SYNC_CURSOR_FIELD_NUMBER: _ClassVar[int]
    CURRENT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_FIELD_NUMBER: _ClassVar[int]
    id: str
    integration_id: str
    job_name: str
    job_type: _common_pb2.JobType
    status: _common_pb2.JobStatus
    active: bool
    schedule_interval_minutes: int
    retry_interval_minutes: int
    priority: int
    max_retries: int
    retry_count: int
    depends_on: str
    progress_percentage: float
    step_name: str
    error_message: str
    next_run_at: _timestamp_pb2.Timestamp
    last_run_started_at: _timestamp_pb2.Timestamp
    last_run_finished_at: _timestamp_pb2.Timestamp
    last_sync_cursor: str
    current_run_id: str
    alert: str
    def __init__(self, id: _Optional[str] = ..., integration_id: _Optional[str] = ..., job_name: _Optional[str] = ..., job_type: _Optional[_Union[_common_pb2.JobType, str]] = ..., status: _Optional[_Union[_common_pb2.JobStatus, str]] = ..., active: _Optional[bool] = ..., schedule_interval_minutes: _Optional[int] = ..., retry_interval_minutes: _Optional[int] = ..., priority: _Optional[int] = ..., max_retries: _Optional[int] = ..., retry_count: _Optional[int] = ..., depends_on: _Optional[str] = ..., progress_percentage: _Optional[float] = ..., step_name: _Optional[str] = ..., error_message: _Optional[str] = ..., next_run_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_run_started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_run_finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sync_cursor: _Optional[str] = ..., current_run_id: _Optional[str] = ..., alert: _Optional[str] = ...) -> None: ...

class JobRun(_message.Message):
    __slots__ = ("id", "job_id", "integration_id", "status", "step_name", "step", "progress_percentage", "started_at", "finished_at", "duration_ms", "counts", "error_message", "trace_id", "trigger", "alert", "warning")
    ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STEP_NAME_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    ALERT_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    id: str
    job_id: str
    integration_id: str
    status: _common_pb2.RunStatus
    step_name: str
    step: int
    progress_percentage: float
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    duration_ms: int
    counts: _common_pb2.RunCounts
    error_message: str
    trace_id: str
    trigger: str
    alert: str
    warning: str
    def __init__(self, id: _Optional[str] = ..., job_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.RunStatus, str]] = ..., step_name: _Optional[str] = ..., step: _Optional[int] = ..., progress_percentage: _Optional[float] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_ms: _Optional[int] = ..., counts: _Optional[_Union[_common_pb2.RunCounts, _Mapping]] = ..., error_message: _Optional[str] = ..., trace_id: _Optional[str] = ..., trigger: _Optional[str] = ..., alert: _Optional[str] = ..., warning: _Optional[str] = ...) -> None: ...

class CreateJobRequest(_message.Message):
    __slots__ = ("integration_id", "job_name", "job_type", "schedule_interval_minutes", "retry_interval_minutes", "priority", "max_retries", "depends_on")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_INTERVAL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    RETRY_INTERVAL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    job_name: str
    job_type: _common_pb2.JobType
    schedule_interval_minutes: int
    retry_interval_minutes: int
    priority: int
    max_retries: int
    depends_on: str
    def __init__(self, integration_id: _Optional[str] = ..., job_name: _Optional[str] = ..., job_type: _Optional[_Union[_common_pb2.JobType, str]] = ..., schedule_interval_minutes: _Optional[int] = ..., retry_interval_minutes: _Optional[int] = ..., priority: _Optional[int] = ..., max_retries: _Optional[int] = ..., depends_on: _Optional[str] = ...) -> None: ...

class CreateJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class UpdateJobRequest(_message.Message):
    __slots__ = ("id", "schedule_interval_minutes", "retry_interval_minutes", "priority", "max_retries", "depends_on", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_INTERVAL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    RETRY_INTERVAL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    schedule_interval_minutes: int
    retry_interval_minutes: int
    priority: int
    max_retries: int
    depends_on: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., schedule_interval_minutes: _Optional[int] = ..., retry_interval_minutes: _Optional[int] = ..., priority: _Optional[int] = ..., max_retries: _Optional[int] = ..., depends_on: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class UpdateJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("integration_id", "page")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    page: _common_pb2.PageRequest
    def __init__(self, integration_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job", "last_run")
    JOB_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_FIELD_NUMBER: _ClassVar[int]
    job: Job
    last_run: JobRun
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., last_run: _Optional[_Union[JobRun, _Mapping]] = ...) -> None: ...

class RunJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RunJobResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: JobRun
    def __init__(self, run: _Optional[_Union[JobRun, _Mapping]] = ...) -> None: ...

class PauseJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class PauseJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ResumeJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ResumeJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job", "run")
    JOB_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    job: Job
    run: JobRun
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., run: _Optional[_Union[JobRun, _Mapping]] = ...) -> None: ...

class ListJobRunsRequest(_message.Message):
    __slots__ = ("job_id", "page")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    page: _common_pb2.PageRequest
    def __init__(self, job_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListJobRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[JobRun]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[JobRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetJobRunRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetJobRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: JobRun
    def __init__(self, run: _Optional[_Union[JobRun, _Mapping]] = ...) -> None: ...

class WatchJobsRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("job_id", "run_id", "job_status", "run_status", "step_name", "step", "progress_percentage", "counts", "error_message", "at", "tenant_id", "alert", "snapshot", "warning", "next_run_at", "last_run_started_at", "last_run_finished_at")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_STATUS_FIELD_NUMBER: _ClassVar[int]
    RUN_STATUS_FIELD_NUMBER: _ClassVar[int]
    STEP_NAME_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    run_id: str
    job_status: _common_pb2.JobStatus
    run_status: _common_pb2.RunStatus
    step_name: str
    step: int
    progress_percentage: float
    counts: _common_pb2.RunCounts
    error_message: str
    at: _timestamp_pb2.Timestamp
    tenant_id: str
    alert: str
    snapshot: bool
    warning: str
    next_run_at: _timestamp_pb2.Timestamp
    last_run_started_at: _timestamp_pb2.Timestamp
    last_run_finished_at: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[str] = ..., run_id: _Optional[str] = ..., job_status: _Optional[_Union[_common_pb2.JobStatus, str]] = ..., run_status: _Optional[_Union[_common_pb2.RunStatus, str]] = ..., step_name: _Optional[str] = ..., step: _Optional[int] = ..., progress_percentage: _Optional[float] = ..., counts: _Optional[_Union[_common_pb2.RunCounts, _Mapping]] = ..., error_message: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tenant_id: _Optional[str] = ..., alert: _Optional[str] = ..., snapshot: _Optional[bool] = ..., warning: _Optional[str] = ..., next_run_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_run_started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_run_finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
