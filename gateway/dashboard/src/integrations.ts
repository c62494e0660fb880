import { createContext, useContext } from "react";
import { IntegrationType } from "./gen/sluice/v1/common_pb";
import type { Integration } from "./gen/sluice/v1/integration_pb";

export interface IntegrationsApi {
  integrations: Integration[];
  byId: Map<string, Integration>;
  loading: boolean;
  error: unknown;
  reload: () => void;
}

export const IntegrationsContext = createContext<IntegrationsApi | null>(null);

export function useIntegrations(): IntegrationsApi {
  const ctx = useContext(IntegrationsContext);
  if (!ctx) throw new Error("useIntegrations outside IntegrationsProvider");
  return ctx;
}

export function integrationName(api: IntegrationsApi, id: string): string {
  return api.byId.get(id)?.name ?? (id ? `${id.slice(0, 8)}…` : "—");
}

export function typeLabel(type: IntegrationType): string {
  switch (type) {
    case IntegrationType.JIRA:
      return "Jira";
    case IntegrationType.GITHUB:
      return "GitHub";
    default:
      return "unknown";
  }
}
