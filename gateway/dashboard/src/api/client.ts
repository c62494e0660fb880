import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { DescService } from "@bufbuild/protobuf";
import { AccountService } from "../gen/sluice/v1/account_pb";
import { CatalogService } from "../gen/sluice/v1/catalog_pb";
import { CustomFieldService } from "../gen/sluice/v1/custom_field_pb";
import { IntegrationService } from "../gen/sluice/v1/integration_pb";
import { JobService } from "../gen/sluice/v1/job_pb";
import { NotificationService } from "../gen/sluice/v1/notification_pb";
import { QueueService } from "../gen/sluice/v1/queue_pb";
import { SearchService, VectorizerService } from "../gen/sluice/v1/search_pb";

/** The API key every call carries; set by the session on sign-in. */
let apiKey: string | null = null;
/** Called when a call with the current key is refused (key revoked meanwhile). */
let onUnauthenticated: (() => void) | null = null;

export function setApiKey(key: string | null): void {
  apiKey = key;
}

export function setUnauthenticatedHandler(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

const auth: Interceptor = (next) => async (req) => {
  if (apiKey !== null && !req.header.has("authorization")) {
    req.header.set("authorization", `Bearer ${apiKey}`);
  }
  try {
    return await next(req);
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.Unauthenticated && req.header.get("authorization") === `Bearer ${apiKey}`) {
      onUnauthenticated?.();
    }
    throw err;
  }
};

// One origin: the gateway serves the dashboard and grpc-web side by side.
const transport = createGrpcWebTransport({
  baseUrl: window.location.origin,
  interceptors: [auth],
});

function client<T extends DescService>(service: T): Client<T> {
  return createClient(service, transport);
}

export const api = {
  account: client(AccountService),
  integrations: client(IntegrationService),
  jobs: client(JobService),
  customFields: client(CustomFieldService),
  queues: client(QueueService),
  catalog: client(CatalogService),
  search: client(SearchService),
  vectorizer: client(VectorizerService),
  notifications: client(NotificationService),
};

/** Checks a key without making it the session's key (sign-in). */
export async function whoAmI(key: string, signal?: AbortSignal) {
  return api.account.whoAmI({}, { headers: { authorization: `Bearer ${key}` }, signal });
}
