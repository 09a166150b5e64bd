import type { components } from "../api/generated/billing";

type SpendView = components["schemas"]["SpendView"];

/**
 * Every tenant's month to date from one `GET /v1/spend?group_by=tenant&granularity=month` over the days of one month:
 * a tenant's spend is its series' point, the cost the same request with `tenant=` answers as its total; a tenant with
 * no series had no usage in the range, which that request answers as "0.00".
 */
export class TenantSpend {
  private readonly costs = new Map<string, string>();

  constructor(private readonly view: SpendView) {
    for (const series of view.series) {
      if (series.key == null) continue;
      if (series.points.length > 1) throw new Error(`spend of ${series.key} spans ${series.points.length} months, not one`);
      this.costs.set(series.key, series.points[0]?.cost ?? "0.00");
    }
  }

  get currency(): string {
    return this.view.currency;
  }

  of(tenant: string): string {
    return this.costs.get(tenant) ?? "0.00";
  }
}
