using Gantry.Protocol;

namespace Gantry.Core.Tests.Protocol;

public sealed class TextFieldsTests
{
    // Built in code: an attribute's strings are stored as UTF-8, which cannot hold half a surrogate pair.
    public static TheoryData<string, string> Texts() => new()
    {
        { "plain text", "plain text" },
        { "a\0b", "a\uFFFDb" },
        { "\0", "\uFFFD" },
        { "lone high " + '\uD800' + " here", "lone high \uFFFD here" },
        { "lone low " + '\uDC00', "lone low \uFFFD" },
        { "ends high " + '\uD83D', "ends high \uFFFD" },
        { "pair \U0001F600 stays", "pair \U0001F600 stays" },
        { "two highs " + '\uD83D' + "\U0001F600", "two highs \uFFFD\U0001F600" },
        { "reversed " + '\uDE00' + '\uD83D', "reversed \uFFFD\uFFFD" },
        { "pair \U0001F600 then \0", "pair \U0001F600 then \uFFFD" },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Storable_ReplacesNulsAndLoneSurrogates_KeepsPairs(string text, string expected) =>
        Assert.Equal(expected, TextFields.Storable(text));

    [Fact]
    public void Storable_TextWithNothingToReplace_SameInstance()
    {
        var text = "ok \U0001F600 é";
        Assert.Same(text, TextFields.Storable(text));
        Assert.Null(TextFields.Storable(null));
    }
}
