import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from sluice.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeletedFilter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELETED_FILTER_UNSPECIFIED: _ClassVar[DeletedFilter]
    DELETED_FILTER_LIVE: _ClassVar[DeletedFilter]
    DELETED_FILTER_DELETED: _ClassVar[DeletedFilter]
    DELETED_FILTER_ALL: _ClassVar[DeletedFilter]
DELETED_FILTER_UNSPECIFIED: DeletedFilter
DELETED_FILTER_LIVE: DeletedFilter
DELETED_FILTER_DELETED: DeletedFilter
DELETED_FILTER_ALL: DeletedFilter

class Project(_message.Message):
    __slots__ = ("integration_id", "external_id", "key", "name", "project_type", "style", "lead_display_name", "category_name")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    LEAD_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_NAME_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    external_id: str
    key: str
    name: str
    project_type: str
    style: str
    lead_display_name: str
    category_name: str
    def __init__(self, integration_id: _Optional[str] = ..., external_id: _Optional[str] = ..., key: _Optional[str] = ..., name: _Optional[str] = ..., project_type: _Optional[str] = ..., style: _Optional[str] = ..., lead_display_name: _Optional[str] = ..., category_name: _Optional[str] = ...) -> None: ...

class WorkItemType(_message.Message):
    __slots__ = ("integration_id", "external_id", "name", "description", "subtask", "hierarchy_level")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SUBTASK_FIELD_NUMBER: _ClassVar[int]
    HIERARCHY_LEVEL_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    external_id: str
    name: str
    description: str
    subtask: bool
    hierarchy_level: int
    def __init__(self, integration_id: _Optional[str] = ..., external_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., subtask: _Optional[bool] = ..., hierarchy_level: _Optional[int] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("integration_id", "external_id", "name", "category_key", "category_name", "work_items")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_KEY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_NAME_FIELD_NUMBER: _ClassVar[int]
    WORK_ITEMS_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    external_id: str
    name: str
    category_key: str
    category_name: str
    work_items: int
    def __init__(self, integration_id: _Optional[str] = ..., external_id: _Optional[str] = ..., name: _Optional[str] = ..., category_key: _Optional[str] = ..., category_name: _Optional[str] = ..., work_items: _Optional[int] = ...) -> None: ...

class ProjectStatus(_message.Message):
    __slots__ = ("integration_id", "project_external_id", "work_item_type_external_id", "status_external_id", "status_name")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    WORK_ITEM_TYPE_EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_NAME_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    project_external_id: str
    work_item_type_external_id: str
    status_external_id: str
    status_name: str
    def __init__(self, integration_id: _Optional[str] = ..., project_external_id: _Optional[str] = ..., work_item_type_external_id: _Optional[str] = ..., status_external_id: _Optional[str] = ..., status_name: _Optional[str] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("integration_id", "page")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    page: _common_pb2.PageRequest
    def __init__(self, integration_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects", "next_page_token")
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[Project]
    next_page_token: str
    def __init__(self, projects: _Optional[_Iterable[_Union[Project, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListWorkItemTypesRequest(_message.Message):
    __slots__ = ("integration_id", "page")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    page: _common_pb2.PageRequest
    def __init__(self, integration_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListWorkItemTypesResponse(_message.Message):
    __slots__ = ("work_item_types", "next_page_token")
    WORK_ITEM_TYPES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    work_item_types: _containers.RepeatedCompositeFieldContainer[WorkItemType]
    next_page_token: str
    def __init__(self, work_item_types: _Optional[_Iterable[_Union[WorkItemType, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListStatusesRequest(_message.Message):
    __slots__ = ("integration_id", "page")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    page: _common_pb2.PageRequest
    def __init__(self, integration_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListStatusesResponse(_message.Message):
    __slots__ = ("statuses", "next_page_token")
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedCompositeFieldContainer[Status]
    next_page_token: str
    def __init__(self, statuses: _Optional[_Iterable[_Union[Status, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListProjectStatusesRequest(_message.Message):
    __slots__ = ("integration_id", "project_external_id", "page")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    project_external_id: str
    page: _common_pb2.PageRequest
    def __init__(self, integration_id: _Optional[str] = ..., project_external_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListProjectStatusesResponse(_message.Message):
    __slots__ = ("project_statuses", "next_page_token")
    PROJECT_STATUSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    project_statuses: _containers.RepeatedCompositeFieldContainer[ProjectStatus]
    next_page_token: str
    def __init__(self, project_statuses: _Optional[_Iterable[_Union[ProjectStatus, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WorkItem(_message.Message):
    __slots__ = ("integration_id", "external_id", "key", "summary", "status", "work_item_type", "project_key", "assignee_name", "created", "updated", "description_text", "status_category_key", "priority", "reporter_name", "resolution_date", "resolution", "parent_key", "epic_key", "labels", "components", "fix_versions", "sprint", "story_points", "team", "deleted_at", "url", "assignee_account_id")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WORK_ITEM_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_TEXT_FIELD_NUMBER: _ClassVar[int]
    STATUS_CATEGORY_KEY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REPORTER_NAME_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_DATE_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    PARENT_KEY_FIELD_NUMBER: _ClassVar[int]
    EPIC_KEY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    FIX_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    SPRINT_FIELD_NUMBER: _ClassVar[int]
    STORY_POINTS_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    external_id: str
    key: str
    summary: str
    status: str
    work_item_type: str
    project_key: str
    assignee_name: str
    created: _timestamp_pb2.Timestamp
    updated: _timestamp_pb2.Timestamp
    description_text: str
    status_category_key: str
    priority: str
    reporter_name: str
    resolution_date: _timestamp_pb2.Timestamp
    resolution: str
    parent_key: str
    epic_key: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    components: _containers.RepeatedScalarFieldContainer[str]
    fix_versions: _containers.RepeatedScalarFieldContainer[str]
    sprint: str
    story_points: float
    team: str
    deleted_at: _timestamp_pb2.Timestamp
    url: str
    assignee_account_id: str
    def __init__(self, integration_id: _Optional[str] = ..., external_id: _Optional[str] = ..., key: _Optional[str] = ..., summary: _Optional[str] = ..., status: _Optional[str] = ..., work_item_type: _Optional[str] = ..., project_key: _Optional[str] = ..., assignee_name: _Optional[str] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., description_text: _Optional[str] = ..., status_category_key: _Optional[str] = ..., priority: _Optional[str] = ..., reporter_name: _Optional[str] = ..., resolution_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolution: _Optional[str] = ..., parent_key: _Optional[str] = ..., epic_key: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., components: _Optional[_Iterable[str]] = ..., fix_versions: _Optional[_Iterable[str]] = ..., sprint: _Optional[str] = ..., story_points: _Optional[float] = ..., team: _Optional[str] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., url: _Optional[str] = ..., assignee_account_id: _Optional[str] = ...) -> None: ...

class ListWorkItemsRequest(_message.Message):
    __slots__ = ("integration_id", "project_key", "page", "work_item_types", "statuses", "status_categories", "assignee", "updated", "deleted", "text")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    WORK_ITEM_TYPES_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    STATUS_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    project_key: str
    page: _common_pb2.PageRequest
    work_item_types: _containers.RepeatedScalarFieldContainer[str]
    statuses: _containers.RepeatedScalarFieldContainer[str]
    status_categories: _containers.RepeatedScalarFieldContainer[str]
    assignee: str
    updated: _common_pb2.TimeRange
    deleted: DeletedFilter
    text: str
    def __init__(self, integration_id: _Optional[str] = ..., project_key: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., work_item_types: _Optional[_Iterable[str]] = ..., statuses: _Optional[_Iterable[str]] = ..., status_categories: _Optional[_Iterable[str]] = ..., assignee: _Optional[str] = ..., updated: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., deleted: _Optional[_Union[DeletedFilter, str]] = ..., text: _Optional[str] = ...) -> None: ...

class ListWorkItemsResponse(_message.Message):
    __slots__ = ("work_items", "next_page_token")
    WORK_ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    work_items: _containers.RepeatedCompositeFieldContainer[WorkItem]
    next_page_token: str
    def __init__(self, work_items: _Optional[_Iterable[_Union[WorkItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetWorkItemRequest(_message.Message):
    __slots__ = ("integration_id", "key")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    key: str
    def __init__(self, integration_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class CustomFieldValue(_message.Message):
    __slots__ = ("field_id", "name", "column", "value_json")
    FIELD_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    field_id: str
    name: str
    column: int
    value_json: str
    def __init__(self, field_id: _Optional[str] = ..., name: _Optional[str] = ..., column: _Optional[int] = ..., value_json: _Optional[str] = ...) -> None: ...

class ChangelogEntry(_message.Message):
    __slots__ = ("history_id", "item_index", "field", "field_id", "from_string", "to_string", "author_name", "changed_at")
    HISTORY_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_INDEX_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    FIELD_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_STRING_FIELD_NUMBER: _ClassVar[int]
    TO_STRING_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_NAME_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    history_id: str
    item_index: int
    field: str
    field_id: str
    from_string: str
    to_string: str
    author_name: str
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, history_id: _Optional[str] = ..., item_index: _Optional[int] = ..., field: _Optional[str] = ..., field_id: _Optional[str] = ..., from_string: _Optional[str] = ..., to_string: _Optional[str] = ..., author_name: _Optional[str] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DevStatusItem(_message.Message):
    __slots__ = ("kind", "ref_id", "name", "status", "url", "repository", "author_name", "last_update")
    KIND_FIELD_NUMBER: _ClassVar[int]
    REF_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    ref_id: str
    name: str
    status: str
    url: str
    repository: str
    author_name: str
    last_update: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[str] = ..., ref_id: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[str] = ..., url: _Optional[str] = ..., repository: _Optional[str] = ..., author_name: _Optional[str] = ..., last_update: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetWorkItemResponse(_message.Message):
    __slots__ = ("work_item", "custom_fields", "changelog", "dev_status", "linked_pull_requests")
    WORK_ITEM_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CHANGELOG_FIELD_NUMBER: _ClassVar[int]
    DEV_STATUS_FIELD_NUMBER: _ClassVar[int]
    LINKED_PULL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    work_item: WorkItem
    custom_fields: _containers.RepeatedCompositeFieldContainer[CustomFieldValue]
    changelog: _containers.RepeatedCompositeFieldContainer[ChangelogEntry]
    dev_status: _containers.RepeatedCompositeFieldContainer[DevStatusItem]
    linked_pull_requests: _containers.RepeatedCompositeFieldContainer[PullRequest]
    def __init__(self, work_item: _Optional[_Union[WorkItem, _Mapping]] = ..., custom_fields: _Optional[_Iterable[_Union[CustomFieldValue, _Mapping]]] = ..., changelog: _Optional[_Iterable[_Union[ChangelogEntry, _Mapping]]] = ..., dev_status: _Optional[_Iterable[_Union[DevStatusItem, _Mapping]]] = ..., linked_pull_requests: _Optional[_Iterable[_Union[PullRequest, _Mapping]]] = ...) -> None: ...

class PullRequest(_message.Message):
    __slots__ = ("integration_id", "repository", "number", "title", "state", "author", "created_at", "updated_at", "merged_at", "merged", "draft", "base_ref", "head_ref", "additions", "deletions", "changed_files", "merged_by", "url", "body", "closed_at", "repository_id")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    MERGED_AT_FIELD_NUMBER: _ClassVar[int]
    MERGED_FIELD_NUMBER: _ClassVar[int]
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    BASE_REF_FIELD_NUMBER: _ClassVar[int]
    HEAD_REF_FIELD_NUMBER: _ClassVar[int]
    ADDITIONS_FIELD_NUMBER: _ClassVar[int]
    DELETIONS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FILES_FIELD_NUMBER: _ClassVar[int]
    MERGED_BY_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    REPOSITORY_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    repository: str
    number: int
    title: str
    state: str
    author: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    merged_at: _timestamp_pb2.Timestamp
    merged: bool
    draft: bool
    base_ref: str
    head_ref: str
    additions: int
    deletions: int
    changed_files: int
    merged_by: str
    url: str
    body: str
    closed_at: _timestamp_pb2.Timestamp
    repository_id: int
    def __init__(self, integration_id: _Optional[str] = ..., repository: _Optional[str] = ..., number: _Optional[int] = ..., title: _Optional[str] = ..., state: _Optional[str] = ..., author: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., merged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., merged: _Optional[bool] = ..., draft: _Optional[bool] = ..., base_ref: _Optional[str] = ..., head_ref: _Optional[str] = ..., additions: _Optional[int] = ..., deletions: _Optional[int] = ..., changed_files: _Optional[int] = ..., merged_by: _Optional[str] = ..., url: _Optional[str] = ..., body: _Optional[str] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., repository_id: _Optional[int] = ...) -> None: ...

class ListPullRequestsRequest(_message.Message):
    __slots__ = ("integration_id", "repository", "page", "state", "author", "updated", "text")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    repository: str
    page: _common_pb2.PageRequest
    state: str
    author: str
    updated: _common_pb2.TimeRange
    text: str
    def __init__(self, integration_id: _Optional[str] = ..., repository: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., state: _Optional[str] = ..., author: _Optional[str] = ..., updated: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., text: _Optional[str] = ...) -> None: ...

class ListPullRequestsResponse(_message.Message):
    __slots__ = ("pull_requests", "next_page_token")
    PULL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pull_requests: _containers.RepeatedCompositeFieldContainer[PullRequest]
    next_page_token: str
    def __init__(self, pull_requests: _Optional[_Iterable[_Union[PullRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPullRequestRequest(_message.Message):
    __slots__ = ("integration_id", "repository", "number")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    repository: str
    number: int
    def __init__(self, integration_id: _Optional[str] = ..., repository: _Optional[str] = ..., number: _Optional[int] = ...) -> None: ...

class PullRequestCommit(_message.Message):
    __slots__ = ("sha", "message", "author_name", "author_login", "authored_at", "url")
    SHA_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_NAME_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_LOGIN_FIELD_NUMBER: _ClassVar[int]
    AUTHORED_AT_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    sha: str
    message: str
    author_name: str
    author_login: str
    authored_at: _timestamp_pb2.Timestamp
    url: str
    def __init__(self, sha: _Optional[str] = ..., message: _Optional[str] = ..., author_name: _Optional[str] = ..., author_login: _Optional[str] = ..., authored_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., url: _Optional[str] = ...) -> None: ...

class PullRequestReview(_message.Message):
    __slots__ = ("review_id", "author", "state", "body", "submitted_at")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    review_id: int
    author: str
    state: str
    body: str
    submitted_at: _timestamp_pb2.Timestamp
    def __init__(self, review_id: _Optional[int] = ..., author: _Optional[str] = ..., state: _Optional[str] = ..., body: _Optional[str] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PullRequestComment(_message.Message):
    __slots__ = ("comment_id", "kind", "author", "body", "path", "created_at", "url")
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    comment_id: int
    kind: str
    author: str
    body: str
    path: str
    created_at: _timestamp_pb2.Timestamp
    url: str
    def __init__(self, comment_id: _Optional[int] = ..., kind: _Optional[str] = ..., author: _Optional[str] = ..., body: _Optional[str] = ..., path: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., url: _Optional[str] = ...) -> None: ...

class GetPullRequestResponse(_message.Message):
    __slots__ = ("pull_request", "commits", "reviews", "comments", "linked_work_items")
    PULL_REQUEST_FIELD_NUMBER: _ClassVar[int]
    COMMITS_FIELD_NUMBER: _ClassVar[int]
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    COMMENTS_FIELD_NUMBER: _ClassVar[int]
    LINKED_WORK_ITEMS_FIELD_NUMBER: _ClassVar[int]
    pull_request: PullRequest
    commits: _containers.RepeatedCompositeFieldContainer[PullRequestCommit]
    reviews: _containers.RepeatedCompositeFieldContainer[PullRequestReview]
    comments: _containers.RepeatedCompositeFieldContainer[PullRequestComment]
    linked_work_items: _containers.RepeatedCompositeFieldContainer[WorkItem]
    def __init__(self, pull_request: _Optional[_Union[PullRequest, _Mapping]] = ..., commits: _Optional[_Iterable[_Union[PullRequestCommit, _Mapping]]] = ..., reviews: _Optional[_Iterable[_Union[PullRequestReview, _Mapping]]] = ..., comments: _Optional[_Iterable[_Union[PullRequestComment, _Mapping]]] = ..., linked_work_items: _Optional[_Iterable[_Union[WorkItem, _Mapping]]] = ...) -> None: ...
