"""docs/functions.md is generated from the activation table and must not drift from it."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_functions_md_is_current():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools" / "gen.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    expected = gen.functions_md(gen.load_table())
    assert (ROOT / "docs" / "functions.md").read_text() == expected, \
        "docs/functions.md is stale: run python tools/gen.py --docs"
