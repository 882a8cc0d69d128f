namespace Gantry.Workflows;

/// <summary>Graph questions about a workflow's steps: is it acyclic, and in which layer each step sits.</summary>
public static class WorkflowGraph
{
    /// <summary>
    /// A cycle among the steps, in the order they would run, with the first repeated at the end
    /// (<c>a, b, c, a</c>: b depends on a, c on b, and a on c); null when there is none.
    /// Every dependency must name a step in <paramref name="dependsOn"/>. Deterministic: steps are visited in order.
    /// </summary>
    public static IReadOnlyList<string>? FindCycle(IReadOnlyList<string> steps, IReadOnlyDictionary<string, IReadOnlyList<string>> dependsOn)
    {
        // Iterative depth-first search (a deep chain must not overflow the stack): 1 = on the path, 2 = done.
        var mark = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var root in steps)
        {
            if (mark.ContainsKey(root)) continue;
            var path = new List<string>();
            var stack = new Stack<(string Step, int Next)>();
            stack.Push((root, 0));
            mark[root] = 1;
            path.Add(root);
            while (stack.Count > 0)
            {
                var (step, next) = stack.Pop();
                var deps = dependsOn[step];
                if (next == deps.Count)
                {
                    mark[step] = 2;
                    path.RemoveAt(path.Count - 1);
                    continue;
                }
                stack.Push((step, next + 1));
                var dep = deps[next];
                if (!mark.TryGetValue(dep, out var m))
                {
                    mark[dep] = 1;
                    path.Add(dep);
                    stack.Push((dep, 0));
                }
                else if (m == 1)
                {
                    // The path follows "depends on" edges; reversed, it reads in run order.
                    var cycle = path.Skip(path.IndexOf(dep)).ToList();
                    cycle.Add(dep);
                    cycle.Reverse();
                    return cycle;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// The layer of each step: 0 for a step without dependencies, else one more than its deepest
    /// dependency's. Steps of one layer can run in parallel. The graph must be acyclic.
    /// </summary>
    public static IReadOnlyDictionary<string, int> Layers(IReadOnlyList<string> steps, IReadOnlyDictionary<string, IReadOnlyList<string>> dependsOn)
    {
        var layer = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var root in steps)
        {
            var stack = new Stack<string>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                var step = stack.Peek();
                if (layer.ContainsKey(step)) { stack.Pop(); continue; }
                var pending = dependsOn[step].Where(d => !layer.ContainsKey(d)).ToArray();
                if (pending.Length > 0) { foreach (var d in pending) stack.Push(d); continue; }
                layer[step] = dependsOn[step].Count == 0 ? 0 : dependsOn[step].Max(d => layer[d]) + 1;
                stack.Pop();
            }
        }
        return layer;
    }
}
