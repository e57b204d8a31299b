"""The diagrams in book/_static/diagrams/ are what scripts/draw_diagrams.py draws.

The SVGs are committed so that the book builds without running the script; this
test fails when someone edits the script (or a diagram by hand) without
redrawing: run `python scripts/draw_diagrams.py` and commit the result.
"""

import subprocess
import sys

import draw_diagrams
from conftest import ROOT

SCRIPT = ROOT / "scripts" / "draw_diagrams.py"


def test_committed_diagrams_match_the_script():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"the committed diagrams are stale:\n{result.stdout}\n{result.stderr[-4000:]}"
    )


def test_check_notices_a_changed_diagram(tmp_path):
    written = draw_diagrams.draw_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(draw_diagrams.DIAGRAMS)
    assert draw_diagrams.stale(tmp_path) == []
    changed = written[1]
    changed.write_bytes(changed.read_bytes().replace(b"#1a1a1a", b"#1a1a1b", 1))
    (tmp_path / written[2].name).unlink()
    assert draw_diagrams.stale(tmp_path) == [written[1].name, written[2].name]


def test_layout_check_catches_clipped_and_overlapping_text():
    import matplotlib

    with matplotlib.rc_context(draw_diagrams.STYLE):
        fig, ax = draw_diagrams.new_figure(3, 2)
        draw_diagrams.label(ax, 2.9, 1.0, "runs off the edge")
        draw_diagrams.label(ax, 1.0, 1.5, "one label")
        draw_diagrams.label(ax, 1.2, 1.55, "another label")
        problems = draw_diagrams.layout_problems(fig)
    assert problems == [
        "clipped: 'runs off the edge'",
        "overlap: 'one label' and 'another label'",
    ]
