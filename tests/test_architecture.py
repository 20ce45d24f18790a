"""The house rules that no single module can see: dependencies run one way, side effects
name their cause."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from evidence.models import CONTENT_MODELS

ROOT = Path(settings.BASE_DIR)


def sources(app: str) -> list[Path]:
    return sorted((ROOT / app).rglob("*.py"))


def names_of_stacks(tree: ast.AST) -> list[str]:
    """Every way a module can reach the stacks app: imports, string imports, get_model."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "stacks"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "stacks":
            found.append(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip()
            if text == "stacks" or text.startswith("stacks."):
                found.append(repr(node.value))
    return found


def test_the_walker_sees_every_kind_of_reference_to_stacks():
    code = """
import stacks.ranking
from stacks import scoring
from django.utils.module_loading import import_string
import_string("stacks.refresh.rescore_all")
apps.get_model("stacks", "GoalScore")
"""
    assert len(names_of_stacks(ast.parse(code))) == 4


@pytest.mark.parametrize("path", sources("evidence"), ids=lambda p: str(p.relative_to(ROOT)))
def test_evidence_never_reaches_into_stacks(path):
    assert names_of_stacks(ast.parse(path.read_text(), str(path))) == []


def receivers_without_sender(tree: ast.AST) -> list[int]:
    """Lines of @receiver(...) decorators and signal.connect(...) calls naming no sender."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        is_receiver = isinstance(func, ast.Name) and func.id == "receiver"
        is_connect = isinstance(func, ast.Attribute) and func.attr == "connect"
        if (is_receiver or is_connect) and "sender" not in {k.arg for k in node.keywords}:
            lines.append(node.lineno)
    return lines


def test_the_walker_finds_a_receiver_without_sender():
    code = """
@receiver(post_save)
def a(sender, **kwargs): ...
post_delete.connect(a)
post_delete.connect(a, sender=Finding)
"""
    assert receivers_without_sender(ast.parse(code)) == [2, 4]


@pytest.mark.parametrize(
    "path", sources("evidence") + sources("stacks"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_signal_receiver_names_its_sender(path):
    assert receivers_without_sender(ast.parse(path.read_text(), str(path))) == []


def test_every_evidence_model_is_content_or_deliberately_not():
    """A new model visitors see must retire cached pages when it changes."""
    # ErrorReport: visitors' reports, shown only in the admin. CertaintyChange: derived, written
    # by the rescore (stacks.refresh) that follows a content edit, which moved the version.
    not_content = {
        "VendorAccount",
        "ContentVersion",
        "OfferClicks",
        "ErrorReport",
        "CertaintyChange",
    }
    models = [
        m
        for m in apps.get_app_config("evidence").get_models()
        if not m.__name__.startswith("Historical")
    ]
    assert sorted(m.__name__ for m in models if m not in CONTENT_MODELS) == sorted(not_content)
