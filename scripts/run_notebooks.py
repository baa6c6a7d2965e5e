"""Runs notebooks top to bottom headless with nbclient, from the notebooks/ folder.

Fails if a notebook in git carries outputs (they are cleared before committing), or if any
cell raises. The executed copies go to the folder given by --out (never back into notebooks/).

    python scripts/run_notebooks.py --out /tmp/nb notebooks/*.ipynb
"""
import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="folder for the executed copies")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    ap.add_argument("notebooks", nargs="+")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in map(Path, args.notebooks):
        nb = nbformat.read(path, as_version=4)
        dirty = [i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
        if dirty:
            print(f"{path}: cells {dirty} carry outputs: clear them before committing", file=sys.stderr)
            failed += 1
            continue
        start = time.time()
        client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        try:
            client.execute()
        except Exception as e:  # a cell raised: report it and go on with the next notebook
            print(f"{path}: FAILED\n{e}", file=sys.stderr)
            failed += 1
        else:
            print(f"{path}: ok, {len(nb.cells)} cells in {time.time() - start:.1f} s")
        nbformat.write(nb, out / path.name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
