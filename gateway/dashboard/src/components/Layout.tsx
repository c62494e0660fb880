import { NavLink, Outlet } from "react-router";
import { useSession } from "../session";

const NAV = [
  { to: "/jobs", label: "Jobs" },
  { to: "/integrations", label: "Integrations" },
  { to: "/custom-fields", label: "Custom fields" },
  { to: "/catalog", label: "Types & statuses" },
  { to: "/work-items", label: "Work items" },
  { to: "/queues", label: "Queues" },
  { to: "/search", label: "Search" },
  { to: "/notifications", label: "Notifications" },
];

export function Layout() {
  const { session, signOut } = useSession();
  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ≋
          </span>
          Sluice
        </div>
        <nav className="nav" aria-label="Main">
          {NAV.map((n) => (
            <NavLink key={n.to} to={n.to} className={({ isActive }) => (isActive ? "nav-link active" : "nav-link")}>
              {n.label}
            </NavLink>
          ))}
        </nav>
        <div className="account">
          {/* The tenant above its key: side by side they crowd the nav out at 1280 px. */}
          <span className="who">
            <span className="tenant" data-testid="tenant-name" title={`tenant ${session?.who.tenantId ?? ""}`}>
              {session?.who.tenantName}
            </span>
            <span className="key-name" title="API key">
              {session?.who.keyName} ({session?.who.keyPrefix}…){session?.who.admin ? " · admin" : ""}
            </span>
          </span>
          <button type="button" className="btn btn-small" onClick={() => signOut()} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      <main className="main">
        <Outlet />
      </main>
    </div>
  );
}
