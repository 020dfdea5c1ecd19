"""The README's "Test your own consumer": its test file, run by pytest with kinsim's plugin as a user
would run it, fails on the naive consumer for the two reasons the README gives and passes on the fixed
one. The plugin is found by its entry point, as after ``pip install kinsim``."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def user_project(pytester):
    for name in ("consumer.py", "test_consumer.py"):
        pytester.makepyfile(**{name[:-3]: (EXAMPLES / name).read_text(encoding="utf-8")})
    pytester.syspathinsert()
    return pytester


def test_the_naive_consumer_fails_on_throttling_and_an_expired_iterator(user_project):
    user_project.makeconftest("import consumer\nconsumer.consume = consumer.consume_naive\n")
    result = user_project.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*_ test_reads_everything_within_the_shards_read_limit _*",
                                 "E *ProvisionedThroughputExceededException*",
                                 "*_ test_survives_a_stall_longer_than_an_iterator_lives _*",
                                 "E *ExpiredIteratorException*"])


def test_the_fixed_consumer_passes(user_project):
    result = user_project.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_readme_shows_these_files():
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    test_file = (EXAMPLES / "test_consumer.py").read_text(encoding="utf-8")
    body = test_file.split('"""', 2)[2].strip()  # the file without its docstring
    assert body in readme
    consumer = (EXAMPLES / "consumer.py").read_text(encoding="utf-8")
    naive = consumer[consumer.index("def consume_naive"):consumer.index("def consume(")].strip()
    assert naive.replace("consume_naive", "consume") in readme
