"""The package's import graph: modules, layers, cycles and lines per layer.

Reads every module of ``nengo_lmu`` (as text; nothing is imported) and records an
edge for each import of another ``nengo_lmu`` module, wherever it stands (at the
top, inside a function, or hidden in ``importlib.import_module("nengo_lmu...")``,
an f-string counting as its fixed prefix). An import of a package's name counts
as an edge to its ``__init__``; ``from package import module`` to that module.

Prints the number of modules and edges, the cycles (strongly connected
components of more than one module, or a module importing itself), each module's
layer (0: imports no other module of the package; otherwise one more than the
highest layer it imports), and the lines of code per top-level part of the
package. ``--check`` exits 1 if there is a cycle (the tests run it).

Usage::

    python benchmarks/import_graph.py [--root DIR] [--check]
"""

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path


def module_name(path, root):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(name, modules):
    """The module ``name`` is, or the package whose ``__init__`` holds it."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(node, current, is_package):
    """Dotted names an import node asks for (absolute)."""
    if isinstance(node, ast.Import):
        return [(alias.name, alias.name) for alias in node.names]
    base = node.module or ""
    if node.level:
        package = current if is_package else current.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    # `from package import module` names the module; `from module import name`
    # (a function, a class) the module itself
    return [(f"{base}.{alias.name}", base) for alias in node.names]


def _dynamic(node):
    """``importlib.import_module("nengo_lmu...")`` (an f-string: its prefix)."""
    func = node.func
    name = getattr(func, "attr", None) or getattr(func, "id", None)
    if name != "import_module" or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values:
        first = arg.values[0]
        if isinstance(first, ast.Constant):
            return first.value.rstrip(".")
    return None


def graph(root):
    """``({module: set of imported modules}, {module: lines})``."""
    package_dir = root / "nengo_lmu"
    paths = {module_name(p, root): p for p in sorted(package_dir.rglob("*.py"))}
    edges, lines = defaultdict(set), {}
    for name, path in paths.items():
        text = path.read_text(encoding="utf-8")
        lines[name] = len(text.splitlines())
        is_package = path.name == "__init__.py"
        edges[name]
        for node in ast.walk(ast.parse(text)):
            wanted = []
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                wanted = _imported(node, name, is_package)
            elif isinstance(node, ast.Call) and _dynamic(node):
                wanted = [(_dynamic(node), _dynamic(node))]
            for target, fallback in wanted:
                if not target.startswith("nengo_lmu"):
                    continue
                resolved = target if target in paths else _resolve(fallback, paths)
                # `from pkg import name` where name is not a module: the package
                if resolved and resolved != name:
                    edges[name].add(resolved)
    # a package's __init__ importing its own submodules is not a cycle of the
    # design, but the submodule importing the package back is: keep both
    return dict(edges), lines


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _through_packages(edges):
    """The graph between modules: an import of a package (its ``__init__``)
    stands for the modules that ``__init__`` imports (transitively), and the
    ``__init__`` modules themselves are left out. A package re-exporting its
    modules is then no cycle; a module importing one that imports it back is."""
    packages = {m for m in edges if any(t.startswith(m + ".") for t in edges)}

    def expand(target, seen=()):
        if target not in packages:
            return {target}
        if target in seen:
            return set()
        out = set()
        for t in edges[target]:
            out |= expand(t, seen + (target,))
        return out

    return {
        m: {x for t in targets for x in expand(t) if x != m}
        for m, targets in edges.items()
        if m not in packages
    }


def layers(edges):
    """Each module's layer in the graph (cycles collapsed to their first module)."""
    level = {}

    def depth(m, seen=()):
        if m in level:
            return level[m]
        if m in seen:
            return 0
        below = [depth(t, seen + (m,)) for t in edges.get(m, ()) if t != m]
        level[m] = 1 + max(below) if below else 0
        return level[m]

    for m in edges:
        depth(m)
    return level


def part(module):
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).parents[1])
    parser.add_argument("--check", action="store_true", help="exit 1 on a cycle")
    args = parser.parse_args(argv)
    edges, lines = graph(args.root.resolve())
    design = _through_packages(edges)
    found = cycles(design)
    level = layers(design)
    n_edges = sum(len(t) for t in design.values())
    print(f"{len(edges)} modules ({len(design)} outside __init__), ", end="")
    print(f"{n_edges} imports between those, ", end="")
    print(f"{max(level.values()) + 1} layers, {len(found)} cycle(s)")
    for component in found:
        print("  cycle:", " <-> ".join(component))
    by_level = defaultdict(list)
    for m, lv in level.items():
        by_level[lv].append(m)
    for lv in sorted(by_level):
        print(f"  layer {lv}: {', '.join(sorted(by_level[lv]))}")
    per_part = defaultdict(int)
    for m, n in lines.items():
        per_part[part(m)] += n
    print(
        "lines per part: " + ", ".join(f"{p} {n}" for p, n in sorted(per_part.items()))
    )
    largest = max(lines, key=lines.get)
    print(f"largest module: {largest} ({lines[largest]} lines)")
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
