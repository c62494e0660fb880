"""A connection to Sluice's gateway: every public service's generated stub on one channel,
each call carrying the API key (`authorization: Bearer <key>`)."""

from __future__ import annotations

import grpc

from sluice.v1 import (
    account_pb2_grpc,
    catalog_pb2_grpc,
    custom_field_pb2_grpc,
    integration_pb2_grpc,
    job_pb2_grpc,
    notification_pb2_grpc,
    queue_pb2_grpc,
    search_pb2_grpc,
)


class _ApiKey(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds the API key to every call's metadata."""

    def __init__(self, api_key: str):
        self._header = ("authorization", f"Bearer {api_key}")

    def _with_key(self, details):
        metadata = list(details.metadata or []) + [self._header]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._with_key(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._with_key(client_call_details), request)


class Sluice:
    """Stubs of the public services on one channel to the gateway.

    >>> sluice = Sluice.connect("localhost:8080", api_key)
    >>> sluice.jobs.ListJobs(job_pb2.ListJobsRequest())
    """

    def __init__(self, channel: grpc.Channel):
        self.channel = channel
        self.account = account_pb2_grpc.AccountServiceStub(channel)
        self.integrations = integration_pb2_grpc.IntegrationServiceStub(channel)
        self.jobs = job_pb2_grpc.JobServiceStub(channel)
        self.custom_fields = custom_field_pb2_grpc.CustomFieldServiceStub(channel)
        self.queues = queue_pb2_grpc.QueueServiceStub(channel)
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        self.search = search_pb2_grpc.SearchServiceStub(channel)
        self.vectorizer = search_pb2_grpc.VectorizerServiceStub(channel)
        self.notifications = notification_pb2_grpc.NotificationServiceStub(channel)

    @classmethod
    def connect(
        cls,
        target: str,
        api_key: str,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
    ) -> "Sluice":
        """`target` is the gateway's host:port; `tls` for a gateway behind TLS."""
        if not api_key:
            raise ValueError("an API key is required (sluice bootstrap prints one)")
        if tls:
            channel = grpc.secure_channel(
                target, grpc.ssl_channel_credentials(root_certificates=root_certificates)
            )
        else:
            channel = grpc.insecure_channel(target)
        return cls(grpc.intercept_channel(channel, _ApiKey(api_key)))

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Sluice":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
