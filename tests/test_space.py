"""What a Hugging Face Space and a PyPI install need: the README's front matter, requirements.txt
covering every import of app.py and the package, the distribution's name and package data."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# Imported only on a path that needs it installed by the user: jax under KERAS_BACKEND=jax.
# Imported only where optional: Keras' JAX backend, and the [ray] extra (colorize --engine ray).
OPTIONAL = {"jax", "ray", "pyarrow"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def _requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def test_front_matter_matches_what_is_installed_and_tested():
    meta = _front_matter()
    import gradio

    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert meta["sdk_version"] == gradio.__version__, "README's sdk_version is not the gradio " \
        "the tests ran with"
    gradio_requirement = next(r for r in _requirements(ROOT / "requirements.txt")
                              if r.name == "gradio")
    assert gradio_requirement.specifier.contains(meta["sdk_version"])
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(meta["python_version"])
    assert meta["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}", \
        "the Space would run another Python than the tests"


def _imported_modules() -> set[str]:
    """Top-level names imported anywhere in app.py and the package (ast, not importing)."""
    names = set()
    for path in [ROOT / "app.py", *(ROOT / "colorizer").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"colorizer", "__future__"} - OPTIONAL


def _closure(requirements: list[Requirement]) -> set[str]:
    """The distributions `pip install` of these requirements installs (as installed here)."""
    seen, todo = set(), list(requirements)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        try:
            todo += [Requirement(r) for r in importlib.metadata.requires(name) or []]
        except importlib.metadata.PackageNotFoundError:
            pass
    return seen


def test_requirements_give_everything_the_app_and_package_import():
    providers = importlib.metadata.packages_distributions()
    installed = _closure(_requirements(ROOT / "requirements.txt"))
    missing = {}
    for module in sorted(_imported_modules()):
        distributions = {canonicalize_name(d) for d in providers.get(module, [])}
        assert distributions, f"{module} is imported but no installed distribution provides it"
        if not distributions & installed:
            missing[module] = sorted(distributions)
    assert not missing, f"imported but not installed by requirements.txt: {missing}"
    # What the Space's app imports directly is named directly, not left to another package.
    direct = {canonicalize_name(r.name) for r in _requirements(ROOT / "requirements.txt")}
    for module in ("gradio", "numpy", "PIL", "huggingface_hub", "tensorflow", "keras"):
        assert {canonicalize_name(d) for d in providers[module]} & direct, module


def test_distribution_name_and_package_data():
    project = PYPROJECT["project"]
    assert project["name"] == "bw-colorizer"  # free on PyPI; `colorizer` there is another package
    assert "hub/zoo.json" in PYPROJECT["tool"]["setuptools"]["package-data"]["colorizer"]
    assert any(r.startswith("ray") for r in project["optional-dependencies"]["ray"])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install bw-colorizer" in readme
    recipe = readme[readme.index("hf upload "):].split("```")[0]  # the Space: code, no weights/
    assert "--repo-type space" in recipe and '--include "colorizer/*"' in recipe
    assert "weights" not in recipe


def test_the_space_recipe_uploads_the_app_s_modules_and_examples():
    """`hf upload` filters with fnmatch: "colorizer/*" takes colorizer/demo/ too."""
    import shlex

    from huggingface_hub.utils import filter_repo_objects

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    words = shlex.split(readme[readme.index("hf upload "):].split("```")[0].replace("\\\n", " "))
    include = [words[i + 1] for i, word in enumerate(words) if word == "--include"]
    exclude = [words[i + 1] for i, word in enumerate(words) if word == "--exclude"]
    needed = ["app.py", "requirements.txt", "README.md", "colorizer/hub/zoo.json",
              *(str(path.relative_to(ROOT)) for path in (ROOT / "colorizer").rglob("*.py")),
              *(str(path.relative_to(ROOT)) for path in (ROOT / "examples").glob("*.jpg"))]
    assert "colorizer/demo/service.py" in needed and "colorizer/demo/hint_panel.py" in needed
    uploaded = set(filter_repo_objects(needed, allow_patterns=include, ignore_patterns=exclude))
    assert uploaded == set(needed), sorted(set(needed) - uploaded)
    assert not list(filter_repo_objects(["weights/x/model.weights.h5",
                                         "colorizer/__pycache__/x.pyc"],
                                        allow_patterns=include, ignore_patterns=exclude))
