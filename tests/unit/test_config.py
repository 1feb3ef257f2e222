import pytest

from llm_vcr import config
from llm_vcr.matching.normalize import RuleError


def test_pyproject_table_and_options_combine(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.llm-vcr]\nignore = ["metadata.request_id"]\n'
        "normalize = ['|\\d+|<n>', {pattern = 'tmp/\\w+', replacement = '<tmp>'}]\n"
    )
    rules = config.rules(tmp_path, ignore=["user"], normalize=["|x|y"])
    assert [p.text for p in rules.ignore] == ["metadata.request_id", "user"]
    assert [(r.pattern, s) for r, s in rules.replace] == [("x", "y"), (r"\d+", "<n>"), (r"tmp/\w+", "<tmp>")]
    assert rules.builtin and rules.sources == (str(tmp_path / "pyproject.toml"),)


def test_llm_vcr_toml_wins_and_can_turn_builtins_off(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.llm-vcr]\nignore = ["a"]\n')
    (tmp_path / "llm-vcr.toml").write_text("builtin_rules = false\n")
    rules = config.rules(tmp_path)
    assert not rules.builtin and rules.ignore == ()


def test_no_config_is_the_defaults(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    rules = config.rules(tmp_path)
    assert rules.builtin and not rules.ignore and rules.sources == ()


@pytest.mark.parametrize(
    ("text", "match"),
    [("[tool.llm-vcr]\nignor = []\n", "unknown llm-vcr settings ignor"), ("[tool.llm-vcr]\nignore = 'a'\n", "list"),
     ("[tool.llm-vcr]\nnormalize = ['nope']\n", "replacement"), ("[tool.llm-vcr\n", "not readable TOML")],
)  # fmt: skip
def test_bad_config_is_a_clear_error_naming_the_file(tmp_path, text, match):
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(RuleError, match=match) as e:
        config.rules(tmp_path)
    assert "pyproject.toml" in str(e.value)
