import { useCallback, useMemo, type ReactNode } from "react";
import { api } from "./api/client";
import { allPages, useQuery } from "./api/useQuery";
import { IntegrationsContext, type IntegrationsApi } from "./integrations";

/** The tenant's integrations, loaded once after sign-in and reloaded after changes. */
export function IntegrationsProvider({ children }: { children: ReactNode }) {
  const fetcher = useCallback(
    (signal: AbortSignal) =>
      allPages(async (pageToken) => {
        const r = await api.integrations.listIntegrations({ page: { pageSize: 500, pageToken } }, { signal });
        return { items: r.integrations, next: r.nextPageToken };
      }),
    [],
  );
  const q = useQuery(fetcher);
  const value = useMemo<IntegrationsApi>(() => {
    const integrations = q.data ?? [];
    return {
      integrations,
      byId: new Map(integrations.map((i) => [i.id, i])),
      loading: q.loading,
      error: q.error,
      reload: q.reload,
    };
  }, [q.data, q.loading, q.error, q.reload]);
  return <IntegrationsContext.Provider value={value}>{children}</IntegrationsContext.Provider>;
}
