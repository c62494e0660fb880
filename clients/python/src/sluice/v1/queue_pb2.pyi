import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueueHealth(_message.Message):
    __slots__ = ("name", "depth", "consumers", "unacked", "publish_rate", "ack_rate", "dead_letters")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    CONSUMERS_FIELD_NUMBER: _ClassVar[int]
    UNACKED_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_RATE_FIELD_NUMBER: _ClassVar[int]
    ACK_RATE_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    name: str
    depth: int
    consumers: int
    unacked: int
    publish_rate: float
    ack_rate: float
    dead_letters: int
    def __init__(self, name: _Optional[str] = ..., depth: _Optional[int] = ..., consumers: _Optional[int] = ..., unacked: _Optional[int] = ..., publish_rate: _Optional[float] = ..., ack_rate: _Optional[float] = ..., dead_letters: _Optional[int] = ...) -> None: ...

class GetQueueHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetQueueHealthResponse(_message.Message):
    __slots__ = ("queues", "broker_wide")
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    BROKER_WIDE_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[QueueHealth]
    broker_wide: bool
    def __init__(self, queues: _Optional[_Iterable[_Union[QueueHealth, _Mapping]]] = ..., broker_wide: _Optional[bool] = ...) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ("id", "original_queue", "reason", "error", "payload_summary", "run_id", "retry_count", "failed_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_QUEUE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    original_queue: str
    reason: str
    error: str
    payload_summary: str
    run_id: str
    retry_count: int
    failed_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., original_queue: _Optional[str] = ..., reason: _Optional[str] = ..., error: _Optional[str] = ..., payload_summary: _Optional[str] = ..., run_id: _Optional[str] = ..., retry_count: _Optional[int] = ..., failed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("dead_letters",)
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[DeadLetter]
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[DeadLetter, _Mapping]]] = ...) -> None: ...

class RequeueDeadLettersRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RequeueDeadLettersResponse(_message.Message):
    __slots__ = ("requeued",)
    REQUEUED_FIELD_NUMBER: _ClassVar[int]
    requeued: int
    def __init__(self, requeued: _Optional[int] = ...) -> None: ...

class PurgeDeadLettersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PurgeDeadLettersResponse(_message.Message):
    __slots__ = ("purged",)
    PURGED_FIELD_NUMBER: _ClassVar[int]
    purged: int
    def __init__(self, purged: _Optional[int] = ...) -> None: ...
