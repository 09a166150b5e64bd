using Orleans.Serialization.Cloning;
using Orleans.Serialization.Configuration;

namespace Metering.Budgets.Authorization;

/// <summary>
/// A grain call copies its arguments and its result, even within the silo; the records of <c>contracts/</c> go through the
/// JSON codec, whose copy serializes and reads back (with the reference tracking around it, 7 % of Budgets' CPU samples
/// when it answered authorize alone). The authorize request and answer are records of strings, numbers and booleans with
/// init-only properties: nothing can change them after the call, so each is passed as it is.
/// </summary>
internal static class AuthorizeCopiers
{
    public static void Register(TypeManifestOptions manifest)
    {
        manifest.Copiers.Add(typeof(RequestCopier));
        manifest.Copiers.Add(typeof(ResponseCopier));
    }

    private sealed class RequestCopier : ShallowCopier<AuthorizeRequest>;

    private sealed class ResponseCopier : ShallowCopier<AuthorizeResponse>;
}
