"""The import structure beyond what import-linter checks (its contracts are in pyproject.toml and
run by `make test`): no module reaches into another module's private (underscore) names, and no
test module imports another test module — shared test code lives in conftest.py files and
tests/builders.py."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "core", "partners", "casework", "seed", "bench", "tests")


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _module_name(path: Path) -> str:
    if not path.is_relative_to(ROOT):  # a probe outside the tree (the last test)
        return path.stem
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    package = package[: len(package) - node.level + 1]
    return ".".join([*package, *([node.module] if node.module else [])])


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _reaches_into_private_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _module_name(path)
    found, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(path, node)
            if not source.startswith(PACKAGES) or not _is_module(source):
                continue
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if _is_module(target):
                    modules[alias.asname or alias.name] = target
                elif _private(alias.name) and source != own:
                    found.append(f"{_shown(path)}:{node.lineno} imports {target}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGES) and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and _private(node.attr)
            and modules[node.value.id] != own
        ):
            found.append(f"{_shown(path)}:{node.lineno} uses {modules[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = [hit for path in _sources() for hit in _reaches_into_private_names(path)]
    assert not found, "make the shared name public instead:\n" + "\n".join(found)


def _test_module_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            source = _resolve(path, node)
            names = [source, *(f"{source}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_"):
                found.append(f"{_shown(path)}:{node.lineno} imports {name}")
                break
    return found


def test_no_test_module_imports_another():
    found = [
        hit for path in sorted((ROOT / "tests").rglob("*.py")) for hit in _test_module_imports(path)
    ]
    assert not found, "move shared test code to a conftest.py or tests/builders.py:\n" + "\n".join(
        found
    )


def test_the_checks_see_what_they_look_for(tmp_path):
    # Guards the checks above against passing because they look at nothing.
    assert any(p.name == "test_structure.py" for p in _sources())
    assert _module_name(ROOT / "tests" / "test_structure.py") == "tests.test_structure"
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from casework.audit.access_log import _append_sql\n"
        "from casework import audit\n"
        "from casework.workflows import lifecycle as life\n"
        "audit.digest\n"
        "life._something\n"
        "from tests.casework.workflows import test_referrals\n"
        "from tests import builders\n",
        encoding="utf-8",
    )
    private = _reaches_into_private_names(probe)
    assert [hit.split(" ", 1)[1] for hit in private] == [
        "imports casework.audit.access_log._append_sql",
        "uses casework.workflows.lifecycle._something",
    ]
    assert [hit.split(" ", 1)[1] for hit in _test_module_imports(probe)] == [
        "imports tests.casework.workflows.test_referrals"
    ]
