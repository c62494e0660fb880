import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router";
import { IntegrationsProvider } from "./IntegrationsProvider";
import { JobsLiveProvider } from "./JobsLiveProvider";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { JobsPage } from "./pages/JobsPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { SignInPage } from "./pages/SignInPage";
import { useSession } from "./session";

// Heavier pages (charts, drag and drop, tables) load when first opened.
const JobDetailPage = lazy(() => import("./pages/JobDetailPage").then((m) => ({ default: m.JobDetailPage })));
const RunRedirect = lazy(() => import("./pages/JobDetailPage").then((m) => ({ default: m.RunRedirect })));
const IntegrationsPage = lazy(() => import("./pages/IntegrationsPage").then((m) => ({ default: m.IntegrationsPage })));
const CustomFieldsPage = lazy(() => import("./pages/CustomFieldsPage").then((m) => ({ default: m.CustomFieldsPage })));
const CatalogPage = lazy(() => import("./pages/CatalogPage").then((m) => ({ default: m.CatalogPage })));
const WorkItemsPage = lazy(() => import("./pages/WorkItemsPage").then((m) => ({ default: m.WorkItemsPage })));
const WorkItemDetailPage = lazy(() => import("./pages/WorkItemDetailPage").then((m) => ({ default: m.WorkItemDetailPage })));
const QueuesPage = lazy(() => import("./pages/QueuesPage").then((m) => ({ default: m.QueuesPage })));
const NotificationsPage = lazy(() => import("./pages/NotificationsPage").then((m) => ({ default: m.NotificationsPage })));
const SearchPage = lazy(() => import("./pages/SearchPage").then((m) => ({ default: m.SearchPage })));

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading label="Loading the page…" />}>{children}</Suspense>;
}

export function App() {
  const { session } = useSession();
  if (!session) return <SignInPage />;
  return (
    <IntegrationsProvider key={session.apiKey}>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<Navigate to="/jobs" replace />} />
          <Route element={<JobsLiveProvider />}>
            <Route path="jobs" element={<JobsPage />} />
            <Route path="jobs/:jobId" element={<Page><JobDetailPage /></Page>} />
            <Route path="runs/:runId" element={<Page><RunRedirect /></Page>} />
          </Route>
          <Route path="integrations" element={<Page><IntegrationsPage /></Page>} />
          <Route path="integrations/:integrationId" element={<Page><IntegrationsPage /></Page>} />
          <Route path="custom-fields" element={<Page><CustomFieldsPage /></Page>} />
          <Route path="catalog" element={<Page><CatalogPage /></Page>} />
          <Route path="work-items" element={<Page><WorkItemsPage /></Page>} />
          <Route path="work-items/:integrationId/:key" element={<Page><WorkItemDetailPage /></Page>} />
          <Route path="queues" element={<Page><QueuesPage /></Page>} />
          <Route path="search" element={<Page><SearchPage /></Page>} />
          <Route path="notifications" element={<Page><NotificationsPage /></Page>} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </IntegrationsProvider>
  );
}
