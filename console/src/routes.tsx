import { createBrowserRouter } from "react-router";
import { SignedInLayout } from "./components/SignedInLayout";
import { AdminOnly } from "./components/AdminOnly";
import { SignInPage } from "./pages/SignInPage";
import { OverviewPage } from "./pages/OverviewPage";
import { SpendExplorerPage } from "./pages/SpendExplorerPage";
import { TenantsPage } from "./pages/TenantsPage";
import { TenantPage } from "./pages/TenantPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { InvoicesPage } from "./pages/InvoicesPage";
import { InvoicePage } from "./pages/InvoicePage";
import { MonthClosePage } from "./pages/MonthClosePage";
import { ChargebackPage } from "./pages/ChargebackPage";
import { AlertsPage } from "./pages/AlertsPage";
import { RateCardsPage } from "./pages/RateCardsPage";
import { TeamsPage } from "./pages/TeamsPage";

/** The pages that exist; the navigation (SignedInLayout) lists the ones the session's role may see. */
export const router = createBrowserRouter([
  { path: "/sign-in", element: <SignInPage /> },
  {
    element: <SignedInLayout />,
    children: [
      { index: true, element: <OverviewPage /> },
      { path: "spend", element: <SpendExplorerPage /> },
      { path: "tenants", element: <AdminOnly><TenantsPage /></AdminOnly> },
      { path: "tenants/:tenant", element: <AdminOnly><TenantPage /></AdminOnly> },
      { path: "invoices", element: <InvoicesPage /> },
      { path: "invoices/:tenant/:period", element: <InvoicePage /> },
      { path: "month-close", element: <AdminOnly><MonthClosePage /></AdminOnly> },
      { path: "chargeback", element: <ChargebackPage /> },
      { path: "alerts", element: <AdminOnly><AlertsPage /></AdminOnly> },
      { path: "rate-cards", element: <AdminOnly><RateCardsPage /></AdminOnly> },
      { path: "teams", element: <AdminOnly><TeamsPage /></AdminOnly> },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);
