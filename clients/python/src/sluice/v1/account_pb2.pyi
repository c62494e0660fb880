from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class WhoAmIRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WhoAmIResponse(_message.Message):
    __slots__ = ("tenant_id", "tenant_name", "key_name", "key_prefix", "admin")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_NAME_FIELD_NUMBER: _ClassVar[int]
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    tenant_name: str
    key_name: str
    key_prefix: str
    admin: bool
    def __init__(self, tenant_id: _Optional[str] = ..., tenant_name: _Optional[str] = ..., key_name: _Optional[str] = ..., key_prefix: _Optional[str] = ..., admin: _Optional[bool] = ...) -> None: ...
