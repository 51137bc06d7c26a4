"""The docs can only show code that works: every Python and console block of the site is executed when it is
built (markdown-exec, ``mkdocs build --strict`` in CI); what the build does not run — the commands a page asks
the reader to try — must at least parse as netkit commands. The README stays short, and every install line
names netkit's own distribution."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from netkit.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").rglob("*.md"))
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```", flags=re.M | re.S)
FILE_ARGUMENT = re.compile(r"\.(h5|hdf5|pkl|pickle|png|jpg|svg|onnx|npz|csv)$")


def _blocks(path: Path) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2), m.group(3)) for m in FENCE.finditer(path.read_text(encoding="utf-8"))]


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_site_has_its_pages() -> None:
    names = {_page_id(path) for path in PAGES}
    assert {"docs/index.md", "docs/getting-started.md", "docs/cli.md", "docs/python.md", "docs/plugins.md"} <= names
    chapters = sorted(path.name for path in (ROOT / "docs" / "course").glob("[1-9]-*.md"))
    assert len(chapters) == 7, chapters
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for path in PAGES:
        assert str(path.relative_to(ROOT / "docs")) in nav, f"{_page_id(path)} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_python_and_console_block_is_executed(page: Path) -> None:
    for language, options, body in _blocks(page):
        if language in ("python", "console"):
            assert 'exec="on"' in options, f"{_page_id(page)}: a {language} block is not run by the build:\n{body}"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_no_page_shows_output_it_did_not_produce(page: Path) -> None:
    """Command output on a page comes from running it: a static block may show commands, not their output."""
    for language, _, body in _blocks(page):
        if language in ("text", ""):
            assert not re.search(r"^\$ ", body, flags=re.M), f"{_page_id(page)}: a captured run:\n{body}"


def _commands_to_try() -> list[tuple[str, str]]:
    found = []
    for path in [*PAGES, README]:
        for language, options, body in _blocks(path):
            if language not in ("bash", "sh") or 'exec="on"' in options:
                continue
            for line in body.splitlines():
                command = line.split("  #", 1)[0].strip()
                if command.startswith("netkit "):
                    found.append((_page_id(path), command))
    return found


COMMANDS = _commands_to_try()


def test_the_pages_ask_the_reader_to_try_commands() -> None:
    assert len(COMMANDS) >= 25
    assert len({page for page, _ in COMMANDS if page.startswith("docs/course/")}) == 7  # every chapter ends so


@pytest.mark.parametrize(("page", "command"), COMMANDS, ids=[f"{p}: {c[:60]}" for p, c in COMMANDS])
def test_every_command_to_try_parses(page: str, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each option exists and each value is valid (plugin specs included); the files it reads are stand-ins."""
    monkeypatch.chdir(tmp_path)
    words = shlex.split(command)[1:]
    for word in words:
        if FILE_ARGUMENT.search(word) and "=" not in word:
            Path(word).parent.mkdir(parents=True, exist_ok=True)
            Path(word).touch()
    group_context = cli.make_context("netkit", list(words), resilient_parsing=True)
    name, subcommand, arguments = cli.resolve_command(group_context, list(words))
    assert subcommand is not None, f"{page}: no command {words[0]!r}"
    try:
        subcommand.make_context(name or "", arguments, parent=group_context)
    except click.ClickException as error:
        pytest.fail(f"{page}: `{command}` does not parse: {error.format_message()}")


def _install_lines() -> list[tuple[str, str]]:
    paths = [README, *PAGES, *sorted((ROOT / "examples").glob("*/README.md"))]
    return [
        (_page_id(path), line.strip())
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if "pip install" in line
    ]


def test_every_install_line_names_netkits_own_distribution() -> None:
    lines = _install_lines()
    assert any("pip install netkit-nn" in line for _, line in lines)
    assert any("'netkit-nn[onnx]'" in line for _, line in lines)
    for page, line in lines:
        # netkit itself only ever as netkit-nn (an extra included); other packages and local paths are fine.
        command = re.split(r" #|`", line.split("pip install", 1)[1])[0]  # up to a comment or the end of the code
        assert not re.search(r"(?<![\w./-])netkit(\[|\s|'|\"|$)", command), (page, line)


def test_the_example_plugins_depend_on_netkit_nn() -> None:
    for example in ("netkit-swish", "netkit-scale"):
        text = (ROOT / "examples" / example / "pyproject.toml").read_text(encoding="utf-8")
        dependencies = re.search(r"^dependencies = \[(.*?)\]", text, flags=re.M)
        assert dependencies is not None and '"netkit-nn"' in dependencies.group(1), example
    assert re.search(r'^name = "netkit-nn"$', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), flags=re.M)


def test_the_readme_is_short_and_says_where_netkit_came_from() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert text.count("the original 784-16-16-10 program that netkit grew from") == 1
    for section in ("## Quick start", "## Shipped models", "## MNIST accuracy", "## Where the maths lives"):
        assert section in text
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / link).is_file(), f"README links to {link}, which does not exist"


def test_the_readme_python_runs(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (block,) = [body for language, _, body in _blocks(README) if language == "python"]
    namespace: dict[str, object] = {}
    exec(compile(block.replace("epochs=1)", "epochs=1, progress=False)"), "README python", "exec"), namespace)
    assert len(namespace["history"].loss) == 1  # type: ignore[attr-defined]
