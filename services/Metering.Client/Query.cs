using System.Globalization;
using System.Text;

namespace Metering.Client;

/// <summary>A path with its query parameters, each escaped; parameters without a value are left out.</summary>
internal sealed class Query(string path)
{
    private readonly StringBuilder _text = new(path);
    private bool _any;

    public static string Segment(string value) => Uri.EscapeDataString(value);

    public Query Add(string name, string? value)
    {
        if (value is null) return this;
        _text.Append(_any ? '&' : '?').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        _any = true;
        return this;
    }

    public Query Add(string name, int? value) => Add(name, value?.ToString(CultureInfo.InvariantCulture));

    public Query Add(string name, DateOnly? value) => Add(name, value?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));

    public override string ToString() => _text.ToString();
}
