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

class NotificationChannelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_CHANNEL_KIND_UNSPECIFIED: _ClassVar[NotificationChannelKind]
    NOTIFICATION_CHANNEL_KIND_WEBHOOK: _ClassVar[NotificationChannelKind]
    NOTIFICATION_CHANNEL_KIND_SLACK: _ClassVar[NotificationChannelKind]

class NotificationEvent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_EVENT_UNSPECIFIED: _ClassVar[NotificationEvent]
    NOTIFICATION_EVENT_RUN_FAILED: _ClassVar[NotificationEvent]
    NOTIFICATION_EVENT_JOB_GAVE_UP: _ClassVar[NotificationEvent]
    NOTIFICATION_EVENT_JOB_SKIPPED: _ClassVar[NotificationEvent]
    NOTIFICATION_EVENT_DEAD_LETTERS_OVER_THRESHOLD: _ClassVar[NotificationEvent]
    NOTIFICATION_EVENT_TEST: _ClassVar[NotificationEvent]

class DeliveryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATUS_UNSPECIFIED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_PENDING: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_DELIVERED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_FAILED: _ClassVar[DeliveryStatus]
NOTIFICATION_CHANNEL_KIND_UNSPECIFIED: NotificationChannelKind
NOTIFICATION_CHANNEL_KIND_WEBHOOK: NotificationChannelKind
NOTIFICATION_CHANNEL_KIND_SLACK: NotificationChannelKind
NOTIFICATION_EVENT_UNSPECIFIED: NotificationEvent
NOTIFICATION_EVENT_RUN_FAILED: NotificationEvent
NOTIFICATION_EVENT_JOB_GAVE_UP: NotificationEvent
NOTIFICATION_EVENT_JOB_SKIPPED: NotificationEvent
NOTIFICATION_EVENT_DEAD_LETTERS_OVER_THRESHOLD: NotificationEvent
NOTIFICATION_EVENT_TEST: NotificationEvent
DELIVERY_STATUS_UNSPECIFIED: DeliveryStatus
DELIVERY_STATUS_PENDING: DeliveryStatus
DELIVERY_STATUS_DELIVERED: DeliveryStatus
DELIVERY_STATUS_FAILED: DeliveryStatus

class NotificationChannel(_message.Message):
    __slots__ = ("id", "name", "kind", "url_origin", "has_secret", "events", "dead_letter_threshold", "active", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    URL_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    HAS_SECRET_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: NotificationChannelKind
    url_origin: str
    has_secret: bool
    events: _containers.RepeatedScalarFieldContainer[NotificationEvent]
    dead_letter_threshold: int
    active: bool
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[NotificationChannelKind, str]] = ..., url_origin: _Optional[str] = ..., has_secret: _Optional[bool] = ..., events: _Optional[_Iterable[_Union[NotificationEvent, str]]] = ..., dead_letter_threshold: _Optional[int] = ..., active: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateChannelRequest(_message.Message):
    __slots__ = ("name", "kind", "url", "secret", "events", "dead_letter_threshold")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: NotificationChannelKind
    url: str
    secret: str
    events: _containers.RepeatedScalarFieldContainer[NotificationEvent]
    dead_letter_threshold: int
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[NotificationChannelKind, str]] = ..., url: _Optional[str] = ..., secret: _Optional[str] = ..., events: _Optional[_Iterable[_Union[NotificationEvent, str]]] = ..., dead_letter_threshold: _Optional[int] = ...) -> None: ...

class CreateChannelResponse(_message.Message):
    __slots__ = ("channel", "generated_secret")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    GENERATED_SECRET_FIELD_NUMBER: _ClassVar[int]
    channel: NotificationChannel
    generated_secret: str
    def __init__(self, channel: _Optional[_Union[NotificationChannel, _Mapping]] = ..., generated_secret: _Optional[str] = ...) -> None: ...

class ListChannelsRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListChannelsResponse(_message.Message):
    __slots__ = ("channels", "next_page_token")
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedCompositeFieldContainer[NotificationChannel]
    next_page_token: str
    def __init__(self, channels: _Optional[_Iterable[_Union[NotificationChannel, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ChannelEvents(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedScalarFieldContainer[NotificationEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[NotificationEvent, str]]] = ...) -> None: ...

class UpdateChannelRequest(_message.Message):
    __slots__ = ("id", "name", "url", "secret", "events", "dead_letter_threshold")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    url: str
    secret: str
    events: ChannelEvents
    dead_letter_threshold: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., url: _Optional[str] = ..., secret: _Optional[str] = ..., events: _Optional[_Union[ChannelEvents, _Mapping]] = ..., dead_letter_threshold: _Optional[int] = ...) -> None: ...

class UpdateChannelResponse(_message.Message):
    __slots__ = ("channel", "generated_secret")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    GENERATED_SECRET_FIELD_NUMBER: _ClassVar[int]
    channel: NotificationChannel
    generated_secret: str
    def __init__(self, channel: _Optional[_Union[NotificationChannel, _Mapping]] = ..., generated_secret: _Optional[str] = ...) -> None: ...

class SetChannelActiveRequest(_message.Message):
    __slots__ = ("id", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class SetChannelActiveResponse(_message.Message):
    __slots__ = ("channel",)
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    channel: NotificationChannel
    def __init__(self, channel: _Optional[_Union[NotificationChannel, _Mapping]] = ...) -> None: ...

class DeleteChannelRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteChannelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TestChannelRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class TestChannelResponse(_message.Message):
    __slots__ = ("delivery_id",)
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    def __init__(self, delivery_id: _Optional[str] = ...) -> None: ...

class NotificationDelivery(_message.Message):
    __slots__ = ("id", "channel_id", "channel_name", "event", "status", "attempts", "last_http_status", "last_error", "summary", "created_at", "next_attempt_at", "delivered_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    channel_id: str
    channel_name: str
    event: NotificationEvent
    status: DeliveryStatus
    attempts: int
    last_http_status: int
    last_error: str
    summary: str
    created_at: _timestamp_pb2.Timestamp
    next_attempt_at: _timestamp_pb2.Timestamp
    delivered_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., channel_id: _Optional[str] = ..., channel_name: _Optional[str] = ..., event: _Optional[_Union[NotificationEvent, str]] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ..., attempts: _Optional[int] = ..., last_http_status: _Optional[int] = ..., last_error: _Optional[str] = ..., summary: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_attempt_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListDeliveriesRequest(_message.Message):
    __slots__ = ("channel_id", "page")
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    channel_id: str
    page: _common_pb2.PageRequest
    def __init__(self, channel_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "next_page_token")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[NotificationDelivery]
    next_page_token: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[NotificationDelivery, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
