using System.Reflection;
using Microsoft.AspNetCore.Routing;

namespace Metering.UnitTests;

/// <summary>
/// One style for endpoint classes in Billing, Budgets and Ingest: a class is named for the one operation it maps (its
/// OpenAPI operation, e.g. <c>GetInvoice</c>, <c>PutTenantTeam</c>), by a single <c>Map{Class}</c> extension method.
/// </summary>
public sealed class EndpointNamingTests
{
    public static TheoryData<string> Services => new() { "Metering.Billing", "Metering.Budgets", "Metering.Ingest" };

    [Theory]
    [MemberData(nameof(Services))]
    public void Every_endpoint_class_is_named_for_its_one_operation_and_mapped_by_Map_and_its_name(string service)
    {
        var assembly = Assembly.Load(service);
        var endpoints = assembly.GetTypes()
            .Select(t => (Type: t, Maps: t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
                // A generic Map (BillingEndpoints.MapAdminPut) declares routes its callers name, as ASP.NET's MapPut does: not an endpoint.
                .Where(m => m.Name.StartsWith("Map", StringComparison.Ordinal) && !m.IsGenericMethodDefinition
                            && m.GetParameters() is [var first, ..] && first.ParameterType == typeof(IEndpointRouteBuilder))
                .Select(m => m.Name).ToList()))
            .Where(t => t.Maps.Count > 0)
            .ToList();

        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, e => Assert.Equal(["Map" + e.Type.Name], e.Maps));
    }
}
