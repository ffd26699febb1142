"""Build the HTML book strictly (warnings are errors) and check what it produced.

Usage:
    python tools/build_book.py [--execute off|force|cache]

``off`` (the default) renders the stored chapter outputs, which ``make test`` validates with
nbval; ``force``/``cache`` execute the chapters during the build through a derived copy of
``_config.yml`` (written under ``_build/``; the committed file is never changed).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files(toc: dict) -> list[str]:
    """Every file named in a jb-book ``_toc.yml`` (root, parts, chapters, sections)."""
    found = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                found.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", choices=["off", "force", "cache"], default="off")
    args = parser.parse_args()

    start = time.perf_counter()
    config_args: list[str] = []
    if args.execute != "off":
        config = yaml.safe_load((ROOT / "_config.yml").read_text())
        config["execute"]["execute_notebooks"] = args.execute
        derived = ROOT / "_build" / f"_config.execute-{args.execute}.yml"
        derived.parent.mkdir(parents=True, exist_ok=True)
        derived.write_text(yaml.safe_dump(config, sort_keys=False))
        config_args = ["--config", str(derived)]
    html = ROOT / "_build" / "html"
    if html.exists():
        shutil.rmtree(html)  # a strict build must see every page, not only the changed ones
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(ROOT), "--builder", "html", "-W", "--keep-going", *config_args]
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, check=False)
    if done.returncode != 0:
        print(f"book build failed (exit {done.returncode})", file=sys.stderr)
        return done.returncode

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    missing = [f for f in toc_files(toc)
               if not (html / Path(f).with_suffix(".html")).exists()]
    if missing:
        print(f"book build is missing pages: {missing}", file=sys.stderr)
        return 1
    print(f"book: {len(toc_files(toc))} pages in {html.relative_to(ROOT)} "
          f"(execute={args.execute}) in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
