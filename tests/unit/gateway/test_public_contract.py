"""The public API's contract (shared/contracts/api) is what the gateway and the services share on purpose:
the gateway reaches a service only over RPC and through that contract, and shared code sits below the
services, so neither imports `services`."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _imports_of_services(folder: str) -> list[str]:
    """Every `import services...` and `from services... import` in the folder's modules, as file:line."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            if any(name == "services" or name.startswith("services.") for name in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_gateway_imports_nothing_from_the_services():
    assert _imports_of_services("gateway") == []


def test_shared_imports_nothing_from_the_services():
    assert _imports_of_services("shared") == []
