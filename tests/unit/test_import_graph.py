"""The layers of app/: a module imports only from its own layer and the
layers below it, so every arrow in the house points down. Read from the
source with `ast` (imports inside functions count too), nothing imported."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
ROOT = "app"  # the app factory (app/__init__.py): it is its own entry, not every module's

# Lowest first. A name covers that module, or that package and all it holds.
LAYERS = [
    (
        "shared",  # utilities that know no service and no feature
        {
            "app.clock",
            "app.extensions",
            "app.faults",
            "app.formatting",
            "app.forms",
            "app.letters",
            "app.logs",
            "app.mailing",
            "app.memory",
            "app.outages",
            "app.text",
            "app.timing",
            "app.tracing",
            "app.web",
        },
    ),
    ("services", {"app.broker", "app.connections", "app.data"}),  # RabbitMQ, Redis, MongoDB
    ("transport", {"app.realtime"}),  # page sockets, streams, hub, pushes, presence: knows no feature
    ("auth", {"app.auth"}),  # who is signed in; knows no feature
    ("notifications", {"app.notifications"}),  # reaching people who are away: the chat worker schedules them
    ("chats", {"app.chats"}),
    ("people", {"app.people"}),  # profiles, search, accounts: over chats
    ("search", {"app.search"}),  # finding words in a person's chats: over chats
    ("api", {"app.api"}),  # the original system's API and events: over chats, people and auth
    ("app", {ROOT, "app.cli", "app.dev", "app.errors", "app.health"}),  # the factory and what wires or watches all
]


def module_name(path):
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    """{module name: path} for every module under app/."""
    return {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def layer_of(module):
    """(the layer's number, its name), or None for a module no layer covers."""
    for number, (name, covered) in enumerate(LAYERS):
        for entry in covered:
            if module == entry or (entry != ROOT and module.startswith(entry + ".")):
                return number, name
    return None


def imports(path, known):
    """(line, module) for each module of app/ that the file imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == ROOT]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == ROOT:
            for alias in node.names:  # `from app import clock` imports app.clock; `from app import create_app`, app
                submodule = f"{node.module}.{alias.name}"
                found.append((node.lineno, submodule if submodule in known else node.module))
    return found


def edges():
    """(path, line, importer, imported) for every import of one module of app/ by another."""
    known = modules()
    return [
        (path, line, module, imported)
        for module, path in known.items()
        for line, imported in imports(path, known)
        if imported != module
    ]


def test_every_module_is_in_a_layer():
    unplaced = [
        f"{path.relative_to(APP.parent)} ({module})" for module, path in modules().items() if not layer_of(module)
    ]
    assert not unplaced, "in no layer, add them to LAYERS: " + ", ".join(unplaced)


def test_no_module_imports_from_a_layer_above_its_own():
    climbing = []
    for path, line, module, imported in edges():
        own, other = layer_of(module), layer_of(imported)
        if own and other and other[0] > own[0]:  # (a module in no layer fails the test above)
            climbing.append(
                f"{path.relative_to(APP.parent)}:{line}: {module} ({own[1]}) imports {imported} ({other[1]})"
            )
    assert not climbing, "imports that climb up a layer:\n" + "\n".join(climbing)


def test_the_graph_sees_imports_inside_functions_and_from_a_package():
    found = {(module, imported) for _, _, module, imported in edges()}
    assert (ROOT, "app.chats.views") in found  # register_blueprints imports each blueprint when called
    assert ("app.chats.receipts", "app.clock") in found  # `from app import clock`
    assert ("app.auth.views", "app.auth.forms") in found  # `from app.auth.forms import SignInForm`
