"""The package's layers import only downward (DESIGN.md, "Layout"), at module level and inside
functions alike: a function-local import is still a dependency, it only hides a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import spacetime

# Bottom to top. A package may import itself and any package before it in this list.
LAYERS = [
    "errors",
    "contracts",
    "video",
    "data",
    "models",
    "diffusion",
    "evaluation",
    "pipelines",
    "training",
    "cli",
]
PACKAGE = Path(spacetime.__file__).parent


def _imports(path: Path) -> list[tuple[str, int]]:
    """``(top-level spacetime package, line)`` of every spacetime import in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "spacetime" and len(parts) > 1:
                found.append((parts[1], node.lineno))
    return found


def test_every_package_sits_in_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__")}
    assert packages | modules == set(LAYERS)


def test_no_import_runs_upward() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        layer = parts[0].removesuffix(".py")
        if layer not in LAYERS:  # __init__.py, __main__.py: the package's entry points
            continue
        for target, line in _imports(path):
            if target in LAYERS and LAYERS.index(target) > LAYERS.index(layer):
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports spacetime.{target}")
    assert not upward, "\n".join(upward)


def test_the_check_sees_function_local_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from spacetime.training.loop import x\n")
    assert _imports(source) == [("training", 2)]
