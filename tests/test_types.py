"""The type checker: it runs with the kit's configuration, it reports errors, and the kit passes it.

`make lint` and `make test` run `python -m mypy` (configured in pyproject.toml's [tool.mypy]); these
tests prove that step can fail (a snippet with known errors is reported, line by line) and that the
kit passes it. Over the kit mypy takes about 20 s cold and 1 s with its cache (.mypy_cache).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"

# Each line marked `# expect: <code>` must be reported with that error code, and nothing else.
SNIPPET = textwrap.dedent(
    """
    import re


    def first_word(text: str) -> str:
        return re.match(r"\\w+", text).group(0)  # expect: union-attr


    def wait(done: set[str] = frozenset()) -> None:  # expect: assignment
        print(done)


    def untyped(x):  # expect: no-untyped-def
        count: int = "three"  # expect: assignment
        return x, count


    print("fine")  # type: ignore[arg-type]  # expect: unused-ignore
    """
)


def mypy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def reported(output: str, path: Path) -> set[tuple[int, str]]:
    """(line, error code) of each error mypy reported in path (named relative to mypy's working directory)."""
    found = set()
    for line in output.splitlines():
        match = re.match(rf"{re.escape(path.name)}:(\d+): error: .*\[([a-z-]+)\]$", line)
        if match:
            found.add((int(match.group(1)), match.group(2)))
    return found


def test_mypy_with_the_kits_configuration_reports_each_error_of_a_snippet(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(SNIPPET)
    expected = {
        (number, line.rsplit("# expect: ", 1)[1].strip())
        for number, line in enumerate(SNIPPET.splitlines(), start=1)
        if "# expect: " in line
    }
    result = mypy(
        "--config-file",
        str(CONFIG),
        "--no-warn-unused-configs",
        "--cache-dir",
        str(tmp_path / "cache"),
        snippet.name,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert reported(result.stdout, snippet) == expected, result.stdout
    # strict: the unannotated function is an error, and its body is checked all the same
    assert any(code == "assignment" and "three" in SNIPPET.splitlines()[line - 1] for line, code in expected)


def test_the_kit_passes_mypy() -> None:
    result = mypy()  # the files and settings of pyproject.toml, with the shared cache
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
