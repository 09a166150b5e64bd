namespace Metering.Billing.Invoices;

/// <summary>The <c>{tenant}/{period}</c> of the invoice endpoints: checked alike, and the same 404 when there is no usage.</summary>
internal static class InvoiceRoute
{
    public static Dictionary<string, string[]> Errors(string tenant, string period)
    {
        var errors = new Dictionary<string, string[]>();
        if (!UsageEventRules.IsValidTenant(tenant)) errors["tenant"] = [UsageEventRules.TenantRule];
        if (!BillingPeriod.TryParse(period, out _)) errors["period"] = [BillingPeriod.Rule];
        return errors;
    }

    public static IResult NoInvoice(string tenant, string period) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No invoice", detail: $"Tenant '{tenant}' has no usage in {period}.");
}
