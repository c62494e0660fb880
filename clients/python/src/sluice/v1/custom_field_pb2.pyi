import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DiscoveredField(_message.Message):
    __slots__ = ("field_id", "name", "schema_type", "custom_type", "required", "allowed_values", "issue_type_ids", "project_key", "discovered_at", "custom")
    FIELD_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_TYPE_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_VALUES_FIELD_NUMBER: _ClassVar[int]
    ISSUE_TYPE_IDS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    DISCOVERED_AT_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    field_id: str
    name: str
    schema_type: str
    custom_type: str
    required: bool
    allowed_values: _containers.RepeatedScalarFieldContainer[str]
    issue_type_ids: _containers.RepeatedScalarFieldContainer[str]
    project_key: str
    discovered_at: _timestamp_pb2.Timestamp
    custom: bool
    def __init__(self, field_id: _Optional[str] = ..., name: _Optional[str] = ..., schema_type: _Optional[str] = ..., custom_type: _Optional[str] = ..., required: _Optional[bool] = ..., allowed_values: _Optional[_Iterable[str]] = ..., issue_type_ids: _Optional[_Iterable[str]] = ..., project_key: _Optional[str] = ..., discovered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., custom: _Optional[bool] = ...) -> None: ...

class DiscoverCustomFieldsRequest(_message.Message):
    __slots__ = ("integration_id", "project_key")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    project_key: str
    def __init__(self, integration_id: _Optional[str] = ..., project_key: _Optional[str] = ...) -> None: ...

class DiscoverCustomFieldsResponse(_message.Message):
    __slots__ = ("run_id", "job_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    job_id: str
    def __init__(self, run_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class ListDiscoveredFieldsRequest(_message.Message):
    __slots__ = ("integration_id", "project_key")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    project_key: str
    def __init__(self, integration_id: _Optional[str] = ..., project_key: _Optional[str] = ...) -> None: ...

class ListDiscoveredFieldsResponse(_message.Message):
    __slots__ = ("fields",)
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedCompositeFieldContainer[DiscoveredField]
    def __init__(self, fields: _Optional[_Iterable[_Union[DiscoveredField, _Mapping]]] = ...) -> None: ...

class FieldMappingEntry(_message.Message):
    __slots__ = ("field_id", "column")
    FIELD_ID_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    field_id: str
    column: int
    def __init__(self, field_id: _Optional[str] = ..., column: _Optional[int] = ...) -> None: ...

class FieldMapping(_message.Message):
    __slots__ = ("integration_id", "project_key", "entries")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    project_key: str
    entries: _containers.RepeatedCompositeFieldContainer[FieldMappingEntry]
    def __init__(self, integration_id: _Optional[str] = ..., project_key: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[FieldMappingEntry, _Mapping]]] = ...) -> None: ...

class GetFieldMappingRequest(_message.Message):
    __slots__ = ("integration_id", "project_key")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    project_key: str
    def __init__(self, integration_id: _Optional[str] = ..., project_key: _Optional[str] = ...) -> None: ...

class GetFieldMappingResponse(_message.Message):
    __slots__ = ("mapping",)
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    mapping: FieldMapping
    def __init__(self, mapping: _Optional[_Union[FieldMapping, _Mapping]] = ...) -> None: ...

class SetFieldMappingRequest(_message.Message):
    __slots__ = ("mapping", "force")
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    mapping: FieldMapping
    force: bool
    def __init__(self, mapping: _Optional[_Union[FieldMapping, _Mapping]] = ..., force: _Optional[bool] = ...) -> None: ...

class SetFieldMappingResponse(_message.Message):
    __slots__ = ("mapping", "unfetched_field_ids")
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    UNFETCHED_FIELD_IDS_FIELD_NUMBER: _ClassVar[int]
    mapping: FieldMapping
    unfetched_field_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, mapping: _Optional[_Union[FieldMapping, _Mapping]] = ..., unfetched_field_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReprocessRequest(_message.Message):
    __slots__ = ("integration_id", "project_key")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    project_key: str
    def __init__(self, integration_id: _Optional[str] = ..., project_key: _Optional[str] = ...) -> None: ...

class ReprocessResponse(_message.Message):
    __slots__ = ("run_id", "job_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    job_id: str
    def __init__(self, run_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...
