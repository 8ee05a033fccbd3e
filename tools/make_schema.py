"""Write the parts of ``graphedit/model/project.schema.json`` and ``docs/project-format.md`` that come from the
option declarations (``graphedit/model/training_options.py``).

Run ``.venv/bin/python tools/make_schema.py`` after adding or changing a training setting; a second run changes
nothing, and ``tests/test_options.py`` fails while either file is stale.
"""

from __future__ import annotations

from pathlib import Path

from graphedit.model.project_schema import DOC_PATH, SCHEMA_PATH, doc_text, schema_text

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    for path, make in ((SCHEMA_PATH, schema_text), (ROOT / DOC_PATH, doc_text)):
        old = path.read_text(encoding="utf-8")
        new = make(old)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
