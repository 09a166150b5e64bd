using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Metering.Console.Hosting;

/// <summary>
/// The built single-page app: its files, and <c>index.html</c> for every other GET that is no file, so that a client
/// route (<c>/tenants/acme</c>) loads the app. Vite names what it builds into <c>assets/</c> by content hash, so those
/// are cached for a year; <c>index.html</c>, which names the current hashes, is revalidated every time. Paths of the
/// host itself (<c>/api/</c>, <c>/auth/</c>, <c>/healthz/</c>) never fall back to the page. Without a build, every page
/// is a 503 that says how to make one.
/// </summary>
public static class AppFiles
{
    private const string HashedAssets = "/assets";
    private static readonly string[] HostPrefixes = ["/api", "/auth", "/healthz"];

    public static WebApplication MapAppFiles(this WebApplication app, string dist)
    {
        var files = Directory.Exists(dist) ? (IFileProvider)new PhysicalFileProvider(dist) : new NullFileProvider();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl =
                context.Context.Request.Path.StartsWithSegments(HashedAssets) ? "public, max-age=31536000, immutable" : "no-cache",
        });
        app.MapFallback(context => ServePage(context, files, dist))
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]))
            .ExcludeFromDescription();
        return app;
    }

    private static async Task ServePage(HttpContext context, IFileProvider files, string dist)
    {
        if (HostPrefixes.Any(prefix => context.Request.Path.StartsWithSegments(prefix)))
        {
            await Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found",
                detail: $"The console has no route {context.Request.Path}.").ExecuteAsync(context);
            return;
        }
        var index = files.GetFileInfo("index.html");
        if (!index.Exists)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.CacheControl = "no-store";
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(NotBuilt(dist));
            return;
        }
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.ContentLength = index.Length;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await context.Response.SendFileAsync(index);
    }

    private static string NotBuilt(string dist) =>
        $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Metering console: not built</title></head>
        <body><h1>The console is not built</h1>
        <p>This host serves the web console from {System.Net.WebUtility.HtmlEncode(dist)}, which holds no build (no index.html).
        Run <code>./metering up</code>, which builds the console (npm ci and npm run build in console/) and starts this host.</p>
        </body></html>
        """;
}
