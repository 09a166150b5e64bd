using System.Buffers;
using System.Text;

namespace Metering.Contracts.Usage;

/// <summary>
/// What every string a client sends must be, whatever its field. PostgreSQL text cannot hold U+0000 (a stored event
/// holding one fails its whole batch), and a lone surrogate cannot be written as UTF-8: neither is ever accepted.
/// Identifiers (ids, services, attribute keys) hold no control character at all; free text (names, reasons,
/// attribute values) may hold tabs and line breaks.
/// </summary>
public static class TextRules
{
    public const string IdentifierRule = "must not contain control characters or lone surrogates";
    public const string FreeTextRule = "must not contain U+0000, lone surrogates or control characters other than tab and line breaks";

    /// <summary>True when every surrogate of <paramref name="text"/> is half of a pair, so it encodes as UTF-8.</summary>
    public static bool IsWellFormed(string text)
    {
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out _, out var used) != OperationStatus.Done) return false;
            rest = rest[used..];
        }
        return true;
    }

    public static bool IsIdentifier(string text) => !text.Any(char.IsControl) && IsWellFormed(text);

    public static bool IsFreeText(string text) => !text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r')) && IsWellFormed(text);
}
