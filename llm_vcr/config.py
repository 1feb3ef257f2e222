"""A project's llm-vcr settings: `[tool.llm-vcr]` in `pyproject.toml`, or `llm-vcr.toml`, in the folder
the proxy or a command runs in. Today they hold matching rules:

    [tool.llm-vcr]
    ignore = ["metadata.request_id", "messages[role=system].content"]   # JSON paths left out of keys
    normalize = ['|\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z?|<time>']                # |regex|replacement on strings
    builtin_rules = true                                                  # the built-in rules (README)

(`llm-vcr.toml` holds the same keys at its top level.) The options `vcr_ignore` and `vcr_normalize`
add to them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from llm_vcr.matching.normalize import RuleError, Rules

FILES = ("llm-vcr.toml", "pyproject.toml")


def find(folder: Path) -> tuple[Path, dict[str, Any]] | None:
    """The first config in `folder`: (file, its llm-vcr table); None when there is none."""
    for name in FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise RuleError(f"{path}: not readable TOML ({e})") from e
        table = doc if name == "llm-vcr.toml" else doc.get("tool", {}).get("llm-vcr")
        if table is not None:
            if not isinstance(table, dict):
                raise RuleError(f"{path}: [tool.llm-vcr] is not a table")
            return path, table
    return None


def rules(folder: Path, ignore: list[str] | tuple[str, ...] = (), normalize: list[str] | tuple[str, ...] = ()) -> Rules:
    """The matching rules for a run in `folder`: its config file's, plus the given ones. RuleError if bad."""
    sources: list[str] = []
    all_ignore, all_normalize, builtin = list(ignore), list(normalize), True
    found = find(folder)
    if found is not None:
        path, table = found
        unknown = set(table) - {"ignore", "normalize", "builtin_rules"}
        if unknown:
            raise RuleError(f"{path}: unknown llm-vcr settings {', '.join(sorted(unknown))} "
                            "(known: ignore, normalize, builtin_rules)")  # fmt: skip
        file_ignore, file_normalize = table.get("ignore", []), table.get("normalize", [])
        if not isinstance(file_ignore, list) or not all(isinstance(p, str) for p in file_ignore):
            raise RuleError(f"{path}: ignore must be a list of JSON paths")
        if not isinstance(file_normalize, list):
            raise RuleError(f"{path}: normalize must be a list of '|regex|replacement' strings or tables")
        for item in file_normalize:
            if isinstance(item, dict):
                all_normalize.append((str(item.get("pattern", "")), str(item.get("replacement", ""))))
            else:
                all_normalize.append(item)
        all_ignore = file_ignore + all_ignore
        builtin = table.get("builtin_rules", True)
        if not isinstance(builtin, bool):
            raise RuleError(f"{path}: builtin_rules must be true or false")
        sources.append(str(path))
    try:
        return Rules.build(all_ignore, all_normalize, builtin, tuple(sources))
    except RuleError as e:
        where = f"{sources[0]}: " if sources else ""
        raise RuleError(f"{where}{e}") from e
