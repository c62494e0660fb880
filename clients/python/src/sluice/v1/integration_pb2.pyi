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

class GithubApi(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GITHUB_API_AUTO: _ClassVar[GithubApi]
    GITHUB_API_GRAPHQL: _ClassVar[GithubApi]
    GITHUB_API_REST: _ClassVar[GithubApi]
GITHUB_API_AUTO: GithubApi
GITHUB_API_GRAPHQL: GithubApi
GITHUB_API_REST: GithubApi

class BasicAuth(_message.Message):
    __slots__ = ("email", "api_token")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    API_TOKEN_FIELD_NUMBER: _ClassVar[int]
    email: str
    api_token: str
    def __init__(self, email: _Optional[str] = ..., api_token: _Optional[str] = ...) -> None: ...

class BearerToken(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class GithubTokens(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tokens: _Optional[_Iterable[str]] = ...) -> None: ...

class Credentials(_message.Message):
    __slots__ = ("basic", "bearer", "github")
    BASIC_FIELD_NUMBER: _ClassVar[int]
    BEARER_FIELD_NUMBER: _ClassVar[int]
    GITHUB_FIELD_NUMBER: _ClassVar[int]
    basic: BasicAuth
    bearer: BearerToken
    github: GithubTokens
    def __init__(self, basic: _Optional[_Union[BasicAuth, _Mapping]] = ..., bearer: _Optional[_Union[BearerToken, _Mapping]] = ..., github: _Optional[_Union[GithubTokens, _Mapping]] = ...) -> None: ...

class JiraSettings(_message.Message):
    __slots__ = ("project_keys", "time_zone", "page_size", "pull_requests_from_github")
    PROJECT_KEYS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PULL_REQUESTS_FROM_GITHUB_FIELD_NUMBER: _ClassVar[int]
    project_keys: _containers.RepeatedScalarFieldContainer[str]
    time_zone: str
    page_size: int
    pull_requests_from_github: bool
    def __init__(self, project_keys: _Optional[_Iterable[str]] = ..., time_zone: _Optional[str] = ..., page_size: _Optional[int] = ..., pull_requests_from_github: _Optional[bool] = ...) -> None: ...

class GithubSettings(_message.Message):
    __slots__ = ("repositories", "organizations", "include_archived", "pull_requests_api")
    REPOSITORIES_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATIONS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    PULL_REQUESTS_API_FIELD_NUMBER: _ClassVar[int]
    repositories: _containers.RepeatedScalarFieldContainer[str]
    organizations: _containers.RepeatedScalarFieldContainer[str]
    include_archived: bool
    pull_requests_api: GithubApi
    def __init__(self, repositories: _Optional[_Iterable[str]] = ..., organizations: _Optional[_Iterable[str]] = ..., include_archived: _Optional[bool] = ..., pull_requests_api: _Optional[_Union[GithubApi, str]] = ...) -> None: ...

class IntegrationSettings(_message.Message):
    __slots__ = ("jira", "github")
    JIRA_FIELD_NUMBER: _ClassVar[int]
    GITHUB_FIELD_NUMBER: _ClassVar[int]
    jira: JiraSettings
    github: GithubSettings
    def __init__(self, jira: _Optional[_Union[JiraSettings, _Mapping]] = ..., github: _Optional[_Union[GithubSettings, _Mapping]] = ...) -> None: ...

class Integration(_message.Message):
    __slots__ = ("id", "type", "name", "base_url", "active", "credentials_kind", "settings", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_KIND_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: _common_pb2.IntegrationType
    name: str
    base_url: str
    active: bool
    credentials_kind: str
    settings: IntegrationSettings
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., type: _Optional[_Union[_common_pb2.IntegrationType, str]] = ..., name: _Optional[str] = ..., base_url: _Optional[str] = ..., active: _Optional[bool] = ..., credentials_kind: _Optional[str] = ..., settings: _Optional[_Union[IntegrationSettings, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateIntegrationRequest(_message.Message):
    __slots__ = ("type", "name", "base_url", "credentials", "settings")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    type: _common_pb2.IntegrationType
    name: str
    base_url: str
    credentials: Credentials
    settings: IntegrationSettings
    def __init__(self, type: _Optional[_Union[_common_pb2.IntegrationType, str]] = ..., name: _Optional[str] = ..., base_url: _Optional[str] = ..., credentials: _Optional[_Union[Credentials, _Mapping]] = ..., settings: _Optional[_Union[IntegrationSettings, _Mapping]] = ...) -> None: ...

class CreateIntegrationResponse(_message.Message):
    __slots__ = ("integration", "job_ids")
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    integration: Integration
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, integration: _Optional[_Union[Integration, _Mapping]] = ..., job_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetIntegrationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetIntegrationResponse(_message.Message):
    __slots__ = ("integration",)
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    integration: Integration
    def __init__(self, integration: _Optional[_Union[Integration, _Mapping]] = ...) -> None: ...

class ListIntegrationsRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListIntegrationsResponse(_message.Message):
    __slots__ = ("integrations", "next_page_token")
    INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    integrations: _containers.RepeatedCompositeFieldContainer[Integration]
    next_page_token: str
    def __init__(self, integrations: _Optional[_Iterable[_Union[Integration, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateIntegrationRequest(_message.Message):
    __slots__ = ("id", "name", "base_url", "credentials", "settings")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    base_url: str
    credentials: Credentials
    settings: IntegrationSettings
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., base_url: _Optional[str] = ..., credentials: _Optional[_Union[Credentials, _Mapping]] = ..., settings: _Optional[_Union[IntegrationSettings, _Mapping]] = ...) -> None: ...

class UpdateIntegrationResponse(_message.Message):
    __slots__ = ("integration",)
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    integration: Integration
    def __init__(self, integration: _Optional[_Union[Integration, _Mapping]] = ...) -> None: ...

class SetIntegrationActiveRequest(_message.Message):
    __slots__ = ("id", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class SetIntegrationActiveResponse(_message.Message):
    __slots__ = ("integration",)
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    integration: Integration
    def __init__(self, integration: _Optional[_Union[Integration, _Mapping]] = ...) -> None: ...

class DeleteIntegrationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteIntegrationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TestConnectionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class TestConnectionResponse(_message.Message):
    __slots__ = ("ok", "message", "account_name", "latency_ms")
    OK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NAME_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    message: str
    account_name: str
    latency_ms: int
    def __init__(self, ok: _Optional[bool] = ..., message: _Optional[str] = ..., account_name: _Optional[str] = ..., latency_ms: _Optional[int] = ...) -> None: ...
