"""The server's packages import each other without a circle, not even one that only type checking
sees: a circle is where a module can no longer be read, or loaded, on its own."""
import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from tests.support.instances import ROOT

PACKAGES = ("server", "handlers", "seatmap")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every module's imports of the project's modules: top-level, inside functions and under
    TYPE_CHECKING alike (`from a import b` counts as importing `a.b` when that is a module)."""
    files = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {target for target in imported if target in files and target != name}
    return graph


def test_the_graph_sees_imports_under_type_checking_and_inside_functions():
    graph = import_graph()
    assert len(graph) > 100
    assert "server.wiring" in graph["server.app"]
    assert any("server.wiring" in targets for name, targets in graph.items() if name.startswith("handlers."))


def test_no_module_imports_itself_through_others():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as error:
        raise AssertionError(f"import circle: {' -> '.join(error.args[1])}") from None
