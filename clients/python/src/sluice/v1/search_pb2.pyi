from sluice.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SearchFilters(_message.Message):
    __slots__ = ("sources", "project_keys", "work_item_types", "statuses", "updated")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    PROJECT_KEYS_FIELD_NUMBER: _ClassVar[int]
    WORK_ITEM_TYPES_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedScalarFieldContainer[str]
    project_keys: _containers.RepeatedScalarFieldContainer[str]
    work_item_types: _containers.RepeatedScalarFieldContainer[str]
    statuses: _containers.RepeatedScalarFieldContainer[str]
    updated: _common_pb2.TimeRange
    def __init__(self, sources: _Optional[_Iterable[str]] = ..., project_keys: _Optional[_Iterable[str]] = ..., work_item_types: _Optional[_Iterable[str]] = ..., statuses: _Optional[_Iterable[str]] = ..., updated: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("query", "top_k", "filters", "hybrid")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    HYBRID_FIELD_NUMBER: _ClassVar[int]
    query: str
    top_k: int
    filters: SearchFilters
    hybrid: bool
    def __init__(self, query: _Optional[str] = ..., top_k: _Optional[int] = ..., filters: _Optional[_Union[SearchFilters, _Mapping]] = ..., hybrid: _Optional[bool] = ...) -> None: ...

class SearchResult(_message.Message):
    __slots__ = ("entity_type", "entity_id", "score", "key", "title", "status", "url", "snippet")
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    entity_type: str
    entity_id: str
    score: float
    key: str
    title: str
    status: str
    url: str
    snippet: str
    def __init__(self, entity_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., score: _Optional[float] = ..., key: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[str] = ..., url: _Optional[str] = ..., snippet: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("results", "model")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SearchResult]
    model: str
    def __init__(self, results: _Optional[_Iterable[_Union[SearchResult, _Mapping]]] = ..., model: _Optional[str] = ...) -> None: ...

class ReindexRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReindexResponse(_message.Message):
    __slots__ = ("collection", "replaces", "entities", "already_running")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    REPLACES_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    ALREADY_RUNNING_FIELD_NUMBER: _ClassVar[int]
    collection: str
    replaces: str
    entities: int
    already_running: bool
    def __init__(self, collection: _Optional[str] = ..., replaces: _Optional[str] = ..., entities: _Optional[int] = ..., already_running: _Optional[bool] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("model", "dimensions", "vectors", "pending", "failed", "store", "active_collection", "reindex_required", "reindexing", "reindex_done", "reindex_total", "reindex_error")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    REINDEX_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    REINDEXING_FIELD_NUMBER: _ClassVar[int]
    REINDEX_DONE_FIELD_NUMBER: _ClassVar[int]
    REINDEX_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REINDEX_ERROR_FIELD_NUMBER: _ClassVar[int]
    model: str
    dimensions: int
    vectors: int
    pending: int
    failed: int
    store: str
    active_collection: str
    reindex_required: bool
    reindexing: bool
    reindex_done: int
    reindex_total: int
    reindex_error: str
    def __init__(self, model: _Optional[str] = ..., dimensions: _Optional[int] = ..., vectors: _Optional[int] = ..., pending: _Optional[int] = ..., failed: _Optional[int] = ..., store: _Optional[str] = ..., active_collection: _Optional[str] = ..., reindex_required: _Optional[bool] = ..., reindexing: _Optional[bool] = ..., reindex_done: _Optional[int] = ..., reindex_total: _Optional[int] = ..., reindex_error: _Optional[str] = ...) -> None: ...
