"""The package's layout rules that a reader would otherwise have to take on trust."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mockserver" / "ipyy_mock"


def runtime_imports() -> dict[str, set[str]]:
    """ipyy_mock module → the ipyy_mock modules it imports when it runs (top level or in a function, not
    under ``if TYPE_CHECKING``)."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        names[".".join(("ipyy_mock", *parts)).removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for module, path in names.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        found = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ipyy_mock"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in names else node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("ipyy_mock")}
        graph[module] = found & set(names)
    return graph


def test_no_runtime_import_cycle():
    graph = runtime_imports()
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in trail:
                cycles.append(trail[trail.index(target) :] + [target])
            elif target not in done:
                visit(target, trail + [target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_admin_handlers_run_no_sql():
    """The admin API calls the Platform and the Store; SQL lives in the store (and the journal's and faults' own files)."""
    for path in (PACKAGE / "admin").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ".execute(" not in text and ".executemany(" not in text, path.name


#: What each part of ipyy_mock may import at run time (besides itself and the package root's __version__).
#: The core imports nothing but the core: its rules never depend on a wire format, a server or a tool. A
#: surface translates one wire format onto the core (push renders in the HTTP surface's format); admin,
#: the tools, the server, the composition and the command line sit above.
ALLOWED = {
    "core": {"core"},
    "soap": {"core"},
    "httpapi": {"core"},
    "push": {"core", "httpapi", "journal"},
    "faults": {"core", "soap", "server"},
    "journal": {"core", "soap", "httpapi", "server"},
    "admin": {"core", "push", "faults", "journal"},
    "server": {"core", "app", "admin", "httpapi", "faults", "journal"},
    "app": {"core", "soap", "httpapi", "push", "admin", "server", "faults", "journal"},
    "testing": {"core", "server"},
    "cli": {"core", "admin", "push", "server", "faults", "journal", "envflags", "app"},
    "__main__": {"cli"},
    "envflags": set(),
}


def part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_imports_run_downward_only():
    graph = runtime_imports()
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if part(target) not in ("", part(module)) and part(target) not in ALLOWED[part(module)]
    )
    assert upward == [], "imports against the layering of tests/test_layout.py: " + "; ".join(upward)


def test_every_part_of_the_package_has_a_rule():
    assert {part(m) for m in runtime_imports()} - {""} <= set(ALLOWED)


#: The ``ipyy.*`` environ keys the package may use, by module: one request object (core/exchange.py) carries the
#: rest, the fault middleware's state included.
ALLOWED_ENVIRON_KEYS = {"ipyy.exchange": {"core/exchange.py"}}
#: ContextVars, by module: only where the runtime forces one (a value that must follow a greenlet or thread
#: without an environ to carry it), each documented where it is made.
ALLOWED_CONTEXT_VARS = {"core/store/__init__.py": 1}


def test_request_state_travels_in_one_object():
    keys: dict[str, set[str]] = {}
    context_vars: dict[str, int] = {}
    for path in PACKAGE.rglob("*.py"):
        where = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("ipyy."):
                if " " not in node.value and not node.value.endswith(".py"):
                    keys.setdefault(node.value, set()).add(where)
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "ContextVar":
                context_vars[where] = context_vars.get(where, 0) + 1
    stray = {key: sorted(where - ALLOWED_ENVIRON_KEYS.get(key, set())) for key, where in keys.items()}
    assert not {k: v for k, v in stray.items() if v}, "request state belongs on the Exchange (core/exchange.py)"
    extra = {m: n for m, n in context_vars.items() if n > ALLOWED_CONTEXT_VARS.get(m, 0)}
    assert not extra, "a new ContextVar: pass the value explicitly, or document why the runtime forces it"
