using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("Gantry.Cli.Tests.LongestFirst", "Gantry.Cli.Tests")]

namespace Gantry.Cli.Tests;

/// <summary>About how many seconds a test class's tests take together, on a quiet machine. The classes that take longest
/// start first, so that the run does not end with one long class running alone.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class RunsLongAttribute(int seconds) : Attribute
{
    public int Seconds { get; } = seconds;
}

/// <summary>Starts the test collections (one a class here) longest first, by <see cref="RunsLongAttribute"/>; the rest keep
/// xUnit's own order after them. The tests run several collections at a time (xunit.runner.json): most of their time is
/// spent waiting on processes, leases and schedules, not on the CPU.</summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderByDescending(Seconds).ToList();

    private static int Seconds(ITestCollection collection)
    {
        // A class without a [Collection] has a collection of its own, named after it.
        const string PerClass = "Test collection for ";
        var type = collection.CollectionDefinition?.ToRuntimeType()
            ?? (collection.DisplayName.StartsWith(PerClass, StringComparison.Ordinal)
                ? typeof(LongestFirst).Assembly.GetType(collection.DisplayName[PerClass.Length..])
                : null);
        return type?.GetCustomAttribute<RunsLongAttribute>()?.Seconds ?? 0;
    }
}
