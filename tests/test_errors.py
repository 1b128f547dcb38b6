"""Errors carry a code and parameters; each renders in Chinese and English, naming the user's file."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from geo.errors import ENGLISH_ONLY, MESSAGES, NOUNS, PROBLEMS, AreaError, RenewalError, SourceError, message
from geo.limits import Limits
from geo.preview import preview_import

from .common import ROOT, SAMPLE
from .test_cli import run
from .test_importer import BAD_INPUTS

#: Three English words in a row: a sentence the Chinese page must not show.
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){2,}")


def test_every_message_has_both_languages() -> None:
    for code, (en, zh) in {**MESSAGES, **PROBLEMS}.items():
        assert en and zh and not ENGLISH.search(re.sub(r"\{[^}]*\}|`[^`]*`", "", zh)), code


#: Chinese templates that name the Chinese counterpart of an English parameter.
COUNTERPARTS = {"not_allowed": {"codes": "labels"}, "import.unreadable": {"format": "ext"}}
#: Where the code that users read lives: every module the app and the command line run.
SHOWN = [*(ROOT / "geo").rglob("*.py"), *(ROOT / "cli").rglob("*.py"), *(ROOT / "display").rglob("*.py")]
SHOWN += [*(ROOT / "layers").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), ROOT / "app.py"]


def _placeholders(template: str) -> set[str]:
    return {re.split(r"[.\[]", name)[0] for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted({**MESSAGES, **PROBLEMS}))
def test_every_code_says_it_in_chinese_with_the_same_values(code: str) -> None:
    en, zh = MESSAGES.get(code) or PROBLEMS[code]
    assert re.search(r"[\u4e00-\u9fff]", zh), f"{code}: no Chinese in {zh!r}"
    named = {COUNTERPARTS.get(code, {}).get(name, name) for name in _placeholders(en)}
    assert _placeholders(zh) <= named and named - _placeholders(zh) <= ENGLISH_ONLY, code


def test_the_nouns_the_core_passes_have_chinese() -> None:
    assert all(re.search(r"[\u4e00-\u9fff]", zh) for zh in NOUNS.values())
    exc = AreaError("area.empty_text", file="the WKT area")
    assert message(exc, "zh") == "WKT 范围：内容为空，请绘制或给出面、线或点"
    assert str(exc) == "the WKT area: is empty; draw or give a polygon, a line or a point"


def test_an_error_inside_an_error_is_rendered_in_the_same_language() -> None:
    fault = SourceError("store.lost", url="postgresql://u:***@h/db", reason="server closed the connection")
    failed = SourceError("store.failed", fault=fault, doing="publish")
    assert str(failed) == (
        "postgresql://u:***@h/db: the connection was lost (server closed the connection); try again; "
        "publish failed, nothing was changed"
    )
    assert message(failed, "zh") == "postgresql://u:***@h/db：与数据库的连接已断开，请重试；发布失败，未作任何修改"


def _error_classes(trees: list[ast.Module]) -> set[str]:
    """RenewalError and every class deriving from it, as the modules name them."""
    found = {"RenewalError"}
    bases = {
        node.name: {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    while grown := {name for name, of in bases.items() if of & found} - found:
        found |= grown
    return found


def _sentences(node: ast.expr) -> bool:
    """Whether ``node`` writes words itself: a literal, an f-string, a joined or formatted text
    with letters in it (``+ "\\n"`` is not a sentence)."""
    if isinstance(node, ast.JoinedStr):
        return any(_sentences(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _sentences(node.left) or _sentences(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return _sentences(node.func.value)
    if isinstance(node, ast.IfExp):
        return _sentences(node.body) or _sentences(node.orelse)
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(re.search("[A-Za-z]", node.value))


def _called(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def test_errors_are_raised_by_code_not_by_sentence() -> None:
    """A RenewalError made with a sentence reaches the Chinese page in English: every one is
    made with a code of the table, and every code a literal names is in it."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in SHOWN}
    errors = _error_classes(list(trees.values()))
    wrong = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first, name = node.args[0], _called(node)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if name in errors and _sentences(first):
                if not (isinstance(first, ast.Constant) and first.value in MESSAGES):
                    wrong.append(f"{where}: {name}({ast.unparse(first)[:60]})")
            elif name == "message" and isinstance(first, ast.Constant) and first.value not in MESSAGES:
                wrong.append(f"{where}: no code {first.value!r}")
            elif name == "Problem" and len(node.args) > 3 and _sentences(node.args[3]):
                if not (isinstance(node.args[3], ast.Constant) and node.args[3].value in PROBLEMS):
                    wrong.append(f"{where}: Problem({ast.unparse(node.args[3])[:60]})")
    assert not wrong, "\n".join(wrong)


def test_the_command_line_says_everything_through_the_table() -> None:
    """What the command line prints, asks or writes to a terminal comes from MESSAGES (by a
    code, through ``message`` or ``say``), never from a sentence of its own. Usage errors
    (``parser.error``) are argparse's, in its English like ``--help``."""
    wrong = []
    for path in (ROOT / "cli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _called(node)
            said = node.args[1] if name in ("say", "_confirm") and len(node.args) > 1 else None
            coded = isinstance(said, ast.Constant) and said.value in MESSAGES
            if (name in ("print", "input", "write", "exit") and any(_sentences(a) for a in node.args)) or (
                said is not None and _sentences(said) and not coded
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert not wrong, "\n".join(wrong)


def _shown_raw(path: Path) -> list[str]:
    """Where a page shows a caught exception itself (``st.error(md(exc))``, ``str(exc)``): its
    English rendering, whatever the page's language."""
    shows = {"md", "str", "error", "warning", "info", "caption", "write", "markdown", "success", "toast"}
    found = []
    for handler in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(handler, ast.ExceptHandler) or handler.name is None:
            continue
        for node in (n for part in handler.body for n in ast.walk(part)):
            if isinstance(node, ast.Call) and _called(node) in shows:
                if any(isinstance(a, ast.Name) and a.id == handler.name for a in node.args):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_pages_show_errors_in_their_language() -> None:
    pages = [*(ROOT / "ui").rglob("*.py"), ROOT / "app.py"]
    wrong = [line for path in pages for line in _shown_raw(path)]
    assert not wrong, "\n".join(wrong)


def test_the_command_line_speaks_the_language_it_is_asked_for() -> None:
    ok = run("--lang", "zh", "validate", str(SAMPLE))
    assert ok.returncode == 0 and ok.stdout.splitlines()[-1].startswith(f"通过：{SAMPLE} 符合要求（"), ok.stdout
    line = "LINESTRING (125.33 43.85, 125.34 43.85)"
    refused = run("--lang", "zh", "impact", str(SAMPLE), "--area", line)
    assert (refused.returncode, refused.stderr) == (
        1,
        "错误：线或点没有面积：请给出以米为单位的缓冲距离（例如 40 米，命令行 --buffer 40）\n",
    )
    assert run("impact", str(SAMPLE), "--area", line).stderr == (
        "error: a line or a point has no area: give a buffer in metres (for example --buffer 40)\n"
    )


def test_a_sentence_instead_of_a_code_is_shown_as_written() -> None:
    assert message(SourceError("history.db: no change #3"), "zh") == "history.db: no change #3"


def test_file_is_named_as_the_user_knows_it() -> None:
    exc = SourceError("import.empty", file="/srv/session-x/uploads/道路.geojson")
    assert str(exc) == "/srv/session-x/uploads/道路.geojson: the file is empty"
    names = {"/srv/session-x/uploads/道路.geojson": "道路.geojson"}
    assert message(exc, "zh", names=names) == "道路.geojson：文件是空的"
    assert message(exc, "en", names=names) == "道路.geojson: the file is empty"


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_every_import_failure_reads_in_chinese(tmp_path: Path, case: str) -> None:
    """The app's path for an upload: saved in a server folder, previewed, the error shown in Chinese."""
    server = tmp_path / "server-session" / "uploads"
    server.mkdir(parents=True)
    src = BAD_INPUTS[case][0](server)
    layer = "parcels" if "households" in case else "roads"
    from_crs = "EPSG:4326" if case == "swapped axes" else None
    with pytest.raises(RenewalError) as info:
        preview_import(src, layer, base=SAMPLE, from_crs=from_crs, limits=Limits(unzipped_mb=1))
    shown = message(info.value, "zh", names={str(src): src.name})
    assert src.name in shown and str(server) not in shown and "server-session" not in shown, shown
    assert not ENGLISH.search(shown), shown
