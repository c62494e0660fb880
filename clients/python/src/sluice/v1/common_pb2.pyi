import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IntegrationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTEGRATION_TYPE_UNSPECIFIED: _ClassVar[IntegrationType]
    INTEGRATION_TYPE_JIRA: _ClassVar[IntegrationType]
    INTEGRATION_TYPE_GITHUB: _ClassVar[IntegrationType]

class JobType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_TYPE_UNSPECIFIED: _ClassVar[JobType]
    JOB_TYPE_JIRA_SYNC: _ClassVar[JobType]
    JOB_TYPE_JIRA_DISCOVERY: _ClassVar[JobType]
    JOB_TYPE_JIRA_ISSUES: _ClassVar[JobType]
    JOB_TYPE_GITHUB_SYNC: _ClassVar[JobType]

class JobStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATUS_UNSPECIFIED: _ClassVar[JobStatus]
    JOB_STATUS_NOT_STARTED: _ClassVar[JobStatus]
    JOB_STATUS_READY: _ClassVar[JobStatus]
    JOB_STATUS_RUNNING: _ClassVar[JobStatus]
    JOB_STATUS_COMPLETED: _ClassVar[JobStatus]
    JOB_STATUS_FAILED: _ClassVar[JobStatus]
    JOB_STATUS_PAUSED: _ClassVar[JobStatus]

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATUS_UNSPECIFIED: _ClassVar[RunStatus]
    RUN_STATUS_RUNNING: _ClassVar[RunStatus]
    RUN_STATUS_COMPLETED: _ClassVar[RunStatus]
    RUN_STATUS_FAILED: _ClassVar[RunStatus]
    RUN_STATUS_CANCELLED: _ClassVar[RunStatus]

class Stage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STAGE_UNSPECIFIED: _ClassVar[Stage]
    STAGE_EXTRACT: _ClassVar[Stage]
    STAGE_TRANSFORM: _ClassVar[Stage]
    STAGE_LOAD: _ClassVar[Stage]
    STAGE_VECTORIZE: _ClassVar[Stage]
INTEGRATION_TYPE_UNSPECIFIED: IntegrationType
INTEGRATION_TYPE_JIRA: IntegrationType
INTEGRATION_TYPE_GITHUB: IntegrationType
JOB_TYPE_UNSPECIFIED: JobType
JOB_TYPE_JIRA_SYNC: JobType
JOB_TYPE_JIRA_DISCOVERY: JobType
JOB_TYPE_JIRA_ISSUES: JobType
JOB_TYPE_GITHUB_SYNC: JobType
JOB_STATUS_UNSPECIFIED: JobStatus
JOB_STATUS_NOT_STARTED: JobStatus
JOB_STATUS_READY: JobStatus
JOB_STATUS_RUNNING: JobStatus
JOB_STATUS_COMPLETED: JobStatus
JOB_STATUS_FAILED: JobStatus
JOB_STATUS_PAUSED: JobStatus
RUN_STATUS_UNSPECIFIED: RunStatus
RUN_STATUS_RUNNING: RunStatus
RUN_STATUS_COMPLETED: RunStatus
RUN_STATUS_FAILED: RunStatus
RUN_STATUS_CANCELLED: RunStatus
STAGE_UNSPECIFIED: Stage
STAGE_EXTRACT: Stage
STAGE_TRANSFORM: Stage
STAGE_LOAD: Stage
STAGE_VECTORIZE: Stage

class TraceContext(_message.Message):
    __slots__ = ("traceparent", "tracestate")
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    TRACESTATE_FIELD_NUMBER: _ClassVar[int]
    traceparent: str
    tracestate: str
    def __init__(self, traceparent: _Optional[str] = ..., tracestate: _Optional[str] = ...) -> None: ...

class RunContext(_message.Message):
    __slots__ = ("tenant_id", "integration_id", "job_id", "run_id", "trace")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    job_id: str
    run_id: str
    trace: TraceContext
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., job_id: _Optional[str] = ..., run_id: _Optional[str] = ..., trace: _Optional[_Union[TraceContext, _Mapping]] = ...) -> None: ...

class PageRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class RunCounts(_message.Message):
    __slots__ = ("records_extracted", "records_transformed", "records_loaded", "batches_produced", "batches_loaded", "api_calls", "errors", "vectors_queued", "peak_memory_bytes", "issues_fetched", "issues_loaded", "pull_requests", "commits", "reviews", "comments", "rate_limit_wait_ms", "vectors_done", "records_quarantined", "throttled_responses", "peak_request_rate", "bytes_received", "dev_status_issues", "dev_status_done", "graphql_points", "rest_budget_remaining", "graphql_budget_remaining", "projected_finish")
    RECORDS_EXTRACTED_FIELD_NUMBER: _ClassVar[int]
    RECORDS_TRANSFORMED_FIELD_NUMBER: _ClassVar[int]
    RECORDS_LOADED_FIELD_NUMBER: _ClassVar[int]
    BATCHES_PRODUCED_FIELD_NUMBER: _ClassVar[int]
    BATCHES_LOADED_FIELD_NUMBER: _ClassVar[int]
    API_CALLS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_QUEUED_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FETCHED_FIELD_NUMBER: _ClassVar[int]
    ISSUES_LOADED_FIELD_NUMBER: _ClassVar[int]
    PULL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    COMMITS_FIELD_NUMBER: _ClassVar[int]
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    COMMENTS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_DONE_FIELD_NUMBER: _ClassVar[int]
    RECORDS_QUARANTINED_FIELD_NUMBER: _ClassVar[int]
    THROTTLED_RESPONSES_FIELD_NUMBER: _ClassVar[int]
    PEAK_REQUEST_RATE_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    DEV_STATUS_ISSUES_FIELD_NUMBER: _ClassVar[int]
    DEV_STATUS_DONE_FIELD_NUMBER: _ClassVar[int]
    GRAPHQL_POINTS_FIELD_NUMBER: _ClassVar[int]
    REST_BUDGET_REMAINING_FIELD_NUMBER: _ClassVar[int]
    GRAPHQL_BUDGET_REMAINING_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_FINISH_FIELD_NUMBER: _ClassVar[int]
    records_extracted: int
    records_transformed: int
    records_loaded: int
    batches_produced: int
    batches_loaded: int
    api_calls: int
    errors: int
    vectors_queued: int
    peak_memory_bytes: int
    issues_fetched: int
    issues_loaded: int
    pull_requests: int
    commits: int
    reviews: int
    comments: int
    rate_limit_wait_ms: int
    vectors_done: int
    records_quarantined: int
    throttled_responses: int
    peak_request_rate: float
    bytes_received: int
    dev_status_issues: int
    dev_status_done: int
    graphql_points: int
    rest_budget_remaining: int
    graphql_budget_remaining: int
    projected_finish: _timestamp_pb2.Timestamp
    def __init__(self, records_extracted: _Optional[int] = ..., records_transformed: _Optional[int] = ..., records_loaded: _Optional[int] = ..., batches_produced: _Optional[int] = ..., batches_loaded: _Optional[int] = ..., api_calls: _Optional[int] = ..., errors: _Optional[int] = ..., vectors_queued: _Optional[int] = ..., peak_memory_bytes: _Optional[int] = ..., issues_fetched: _Optional[int] = ..., issues_loaded: _Optional[int] = ..., pull_requests: _Optional[int] = ..., commits: _Optional[int] = ..., reviews: _Optional[int] = ..., comments: _Optional[int] = ..., rate_limit_wait_ms: _Optional[int] = ..., vectors_done: _Optional[int] = ..., records_quarantined: _Optional[int] = ..., throttled_responses: _Optional[int] = ..., peak_request_rate: _Optional[float] = ..., bytes_received: _Optional[int] = ..., dev_status_issues: _Optional[int] = ..., dev_status_done: _Optional[int] = ..., graphql_points: _Optional[int] = ..., rest_budget_remaining: _Optional[int] = ..., graphql_budget_remaining: _Optional[int] = ..., projected_finish: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: _timestamp_pb2.Timestamp
    def __init__(self, to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...
