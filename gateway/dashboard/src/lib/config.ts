/** Operator settings the gateway serves at /dashboard-config.json. */
export interface DashboardConfig {
  /** Link to a run's trace; `{trace_id}` is replaced by the run's trace id. */
  traceUrlTemplate: string;
}

export const DEFAULT_CONFIG: DashboardConfig = {
  traceUrlTemplate: "http://localhost:16686/trace/{trace_id}",
};

export function parseConfig(value: unknown): DashboardConfig {
  if (typeof value !== "object" || value === null) return DEFAULT_CONFIG;
  const t = (value as Record<string, unknown>).traceUrlTemplate;
  return {
    traceUrlTemplate: typeof t === "string" && t.includes("{trace_id}") ? t : DEFAULT_CONFIG.traceUrlTemplate,
  };
}

export function traceUrl(config: DashboardConfig, traceId: string): string | null {
  if (!/^[0-9a-fA-F]{16,32}$/.test(traceId)) return null;
  return config.traceUrlTemplate.split("{trace_id}").join(encodeURIComponent(traceId));
}

let loading: Promise<DashboardConfig> | null = null;

/** Fetched once; the Jaeger default when the file is missing or not JSON. */
export function loadConfig(): Promise<DashboardConfig> {
  loading ??= fetch("/dashboard-config.json", { cache: "no-store", headers: { accept: "application/json" } })
    .then(async (res) => {
      if (!res.ok || !(res.headers.get("content-type") ?? "").includes("json")) return DEFAULT_CONFIG;
      return parseConfig(await res.json());
    })
    .catch(() => DEFAULT_CONFIG);
  return loading;
}
