"""Every Python block of README.md runs, and the tour prints what its comments say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_python_blocks_run_and_print_their_comments(tmp_path):
    blocks = python_blocks()
    assert blocks, "README has no python block"
    for i, code in enumerate(blocks):
        script = tmp_path / f"block{i}.py"
        script.write_text(code)
        proc = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        printed = proc.stdout.splitlines()
        expected = [m.group(1).strip() for m in re.finditer(r"print\(.*\)\s+# (.*)", code)]
        for want in expected:
            assert want in printed, (want, printed)
