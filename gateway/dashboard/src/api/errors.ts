import { Code, ConnectError } from "@connectrpc/connect";

/** A call's failure as the UI shows it. */
export interface ApiError {
  code: Code | null;
  /** Code name as gRPC spells it, e.g. INVALID_ARGUMENT. */
  codeName: string;
  message: string;
}

const CODE_NAMES: Record<number, string> = {
  [Code.Canceled]: "CANCELLED",
  [Code.Unknown]: "UNKNOWN",
  [Code.InvalidArgument]: "INVALID_ARGUMENT",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.NotFound]: "NOT_FOUND",
  [Code.AlreadyExists]: "ALREADY_EXISTS",
  [Code.PermissionDenied]: "PERMISSION_DENIED",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.FailedPrecondition]: "FAILED_PRECONDITION",
  [Code.Aborted]: "ABORTED",
  [Code.OutOfRange]: "OUT_OF_RANGE",
  [Code.Unimplemented]: "UNIMPLEMENTED",
  [Code.Internal]: "INTERNAL",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.DataLoss]: "DATA_LOSS",
  [Code.Unauthenticated]: "UNAUTHENTICATED",
};

export function toApiError(err: unknown): ApiError {
  if (err instanceof ConnectError) {
    return {
      code: err.code,
      codeName: CODE_NAMES[err.code] ?? String(err.code),
      message: err.rawMessage || "request failed",
    };
  }
  if (err instanceof Error) return { code: null, codeName: "ERROR", message: err.message };
  return { code: null, codeName: "ERROR", message: String(err) };
}

export function errorText(err: unknown): string {
  const e = toApiError(err);
  return `${e.codeName}: ${e.message}`;
}

export function isAbort(err: unknown): boolean {
  if (err instanceof ConnectError) return err.code === Code.Canceled;
  return err instanceof DOMException && err.name === "AbortError";
}
