"""`jobpub validate` and `jobpub schema` end to end, through the CLI."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from publisher.cli import cli
from publisher.loader import load_text
from tests.factories import ROOT, line_of, posting_text

pytestmark = pytest.mark.usefixtures("fake_today")  # dates are judged against it

SEED = ROOT / "tests/data/invalid/seed-with-blanks.yaml"


def run(*args: str, cwd: Path | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def problems(result: Result) -> list[dict[str, object]]:
    return list(json.loads(result.stdout)["problems"])


def test_shipped_postings_are_valid() -> None:
    result = run("--config", str(ROOT / "config/jobpub.toml"), "validate", str(ROOT / "postings"))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip().endswith("0 error(s), 0 warning(s)")


def test_seed_with_blanks_fails_on_the_blank_lines_text() -> None:
    text = SEED.read_text()
    result = run("validate", str(SEED))
    assert result.exit_code == 1
    city = line_of(text, "[City, State]")
    email = line_of(text, "[email address or application portal]")
    assert (
        f"{SEED}:{city}:12: error placeholder unfilled template text '[City, State]'"
        in result.stdout
    )
    col = text.splitlines()[email - 1].index("[email") + 1
    assert f"{SEED}:{email}:{col}: error placeholder" in result.stdout


def test_seed_with_blanks_json_and_github() -> None:
    text = SEED.read_text()
    found = problems(run("validate", "--format", "json", str(SEED)))
    placeholder_lines = [p["line"] for p in found if p["rule"] == "placeholder"]
    assert placeholder_lines == [
        line_of(text, "[City, State]"),
        line_of(text, "[email address or application portal]"),
    ]
    assert all(p["board"] is None and p["severity"] == "error" for p in found)
    github = run("validate", "--format", "github", str(SEED))
    assert github.exit_code == 1
    city = line_of(text, "[City, State]")
    assert (
        f"::error file={SEED},line={city},col=12,title=placeholder::unfilled template "
        "text '[City, State]' in locations[0].city"
    ) in github.stdout.splitlines()


def _replace(old: str, new: str) -> str:
    text = posting_text("case")
    assert old in text
    return text.replace(old, new)


BAD_INPUT = [
    # name, file content, rule, line (None: any), message fragment
    ("empty", "", "schema", 1, "file is empty"),
    ("only-comment", "# nothing here\n", "schema", 1, "file is empty"),
    ("list", "- id: x\n- title: y\n", "schema", 1, "must be a mapping"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "yaml-syntax", 1, "not UTF-8"),
    (
        "latin-1",
        "id: case\ntitle: Caf\xe9 manager\n".encode("latin-1"),
        "yaml-syntax",
        2,
        "not UTF-8",
    ),
    ("nul-byte", b"id: case\ntitle: a\x00b\n", "yaml-syntax", 2, ""),
    ("five-mib", b"summary: " + b"x" * (5 * 1024 * 1024), "yaml-syntax", 1, "larger than"),
    (
        "alias-bomb",
        "\n".join(
            ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
            + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
        ),
        "yaml-syntax",
        None,
        "alias expansion",
    ),
    ("deep-nesting", "skills: " + "[" * 200 + "]" * 200 + "\n", "yaml-syntax", 1, "nesting"),
    (
        "unknown-key",
        _replace("title: Data Analyst", "title: Data Analyst\ntitel: typo"),
        "schema",
        3,
        "unknown field 'titel' (did you mean 'title'?)",
    ),
    (
        "wrong-type",
        _replace("workplace: onsite", "workplace: onsite\nopenings: three"),
        "schema",
        7,
        "openings: Input should be a valid integer",
    ),
    (
        "numeric-postal-code",
        _replace('postal_code: "80301"', "postal_code: 80301"),
        "schema",
        11,
        "quote it",
    ),
    (
        "naive-datetime",
        _replace("publish_at: 2026-12-01", "publish_at: 2026-12-01T09:00:00"),
        "schema",
        29,
        "no UTC offset",
    ),
    (
        "bad-zone",
        _replace("timezone: America/Denver", "timezone: Mars/Olympus"),
        "schema",
        31,
        "not an IANA time zone",
    ),
    ("bad-currency", _replace("currency: USD", "currency: XYZ"), "schema", 15, "not an ISO 4217"),
    ("bad-country", _replace("country: US", "country: QQ"), "schema", 10, "not an ISO 3166-1"),
    ("lowercase-country", _replace("country: US", "country: us"), "schema", 10, "pattern"),
    ("bad-region", _replace("region: CO", "region: ZZ"), "schema", 9, "not a region of US"),
    ("http-apply", _replace("url: https://jobs", "url: http://jobs"), "schema", 28, "https"),
    (
        "missing-title",
        _replace("title: Data Analyst\n", ""),
        "schema",
        1,
        "missing required field 'title'",
    ),
    (
        "duplicate-key",
        _replace("workplace: onsite", "workplace: onsite\nworkplace: remote"),
        "yaml-syntax",
        7,
        "duplicate key",
    ),
    (
        "custom-tag",
        _replace("title: Data Analyst", "title: !shell Data Analyst"),
        "yaml-syntax",
        2,
        "tag not allowed",
    ),
    ("id-mismatch", posting_text("other-id"), "id-mismatch", 1, "does not match"),
    ("salary", _replace("max: 90000", "max: 60000"), "salary", 14, "greater than salary.max"),
    (
        "dates",
        _replace("expires_at: 2027-01-31", "expires_at: 2026-11-30"),
        "dates",
        30,
        "not after publish_at",
    ),
    (
        "remote",
        _replace("workplace: onsite", "workplace: remote"),
        "remote-eligibility",
        6,
        "remote_eligibility is missing",
    ),
    (
        "boards-empty",
        _replace("boards:\n  indeed_feed: {}\n", "boards: {}\n"),
        "schema",
        32,
        "at least 1 item",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "rule", "line", "fragment"), BAD_INPUT, ids=[case[0] for case in BAD_INPUT]
)
def test_bad_input(
    tmp_path: Path, name: str, content: str | bytes, rule: str, line: int | None, fragment: str
) -> None:
    path = write(tmp_path, "case.yaml", content)
    result = run("validate", "--format", "json", str(path))
    assert result.exit_code == 1, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    found = [p for p in problems(result) if p["rule"] == rule]
    assert found, problems(result)
    first = found[0]
    assert first["file"] == str(path)
    assert isinstance(first["line"], int) and isinstance(first["column"], int)
    if line is not None:
        assert first["line"] == line, first
    assert fragment in str(first["message"])


def test_norway_is_a_country(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "case.yaml",
        _replace("country: US", "country: NO").replace("    region: CO\n", ""),
    )
    result = run("validate", str(path))
    assert result.exit_code == 0, result.stdout


def test_every_problem_is_reported_sorted(tmp_path: Path) -> None:
    bad = _replace("currency: USD", "currency: XYZ").replace(
        "title: Data Analyst", "title: TBD\nfoo: 1"
    )
    path = write(tmp_path, "case.yaml", bad)
    lines = [p["line"] for p in problems(run("validate", "--format", "json", str(path)))]
    assert len(lines) == 3 and lines == sorted(lines)  # type: ignore[type-var]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    write(tmp_path / "a", "case.yaml", posting_text("case"))
    write(tmp_path, "case.yml", posting_text("case"))
    found = [
        p
        for p in problems(run("validate", "--format", "json", str(tmp_path)))
        if p["severity"] == "error"
    ]
    assert sorted((p["file"], p["rule"]) for p in found) == [
        (str(tmp_path / "a/case.yaml"), "duplicate-id"),
        (str(tmp_path / "case.yml"), "duplicate-id"),
    ]


def test_strict_fails_on_warnings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "case.yaml",
        _replace("eeo_statement: Example Corp is an equal opportunity employer.\n", ""),
    )
    assert run("validate", str(path)).exit_code == 0
    strict = run("validate", "--strict", str(path))
    assert strict.exit_code == 1
    assert "warning eeo-statement" in strict.stdout


def test_missing_path_is_a_usage_error() -> None:
    result = run("validate", "does/not/exist.yaml")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        ('timezone = "America/Denver"\n[company\nname = "x"\n', 2, "invalid TOML"),
        ('timezone = "Mars/Base"\n', 1, "not an IANA time zone"),
        (
            'timezone = "UTC"\n\n[company]\nname = "X"\nwebsite = "https://x.example"\n',
            5,
            "company.website: unknown key",
        ),
    ],
)
def test_broken_config_is_exit_2(tmp_path: Path, content: str, line: int, fragment: str) -> None:
    config = write(tmp_path, "jobpub.toml", content)
    result = run("--config", str(config), "validate", str(ROOT / "postings"))
    assert result.exit_code == 2
    assert f"{config}:{line}: " in result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_config_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(
        tmp_path,
        "jobpub.toml",
        'eeo_statement = "We are EEO."\n\n'
        '[company]\nname = "Example Corp"\nemail = "jobs@example.com"\n',
    )
    path = write(
        tmp_path,
        "case.yaml",
        _replace("eeo_statement: Example Corp is an equal opportunity employer.\n", ""),
    )
    monkeypatch.setenv("JOBPUB_CONFIG", str(config))
    assert run("validate", "--strict", str(path)).exit_code == 0


def test_company_may_come_from_config(tmp_path: Path) -> None:
    path = write(tmp_path, "case.yaml", _replace("company:\n  name: Example Corp\n", ""))
    assert "company is missing" in run("validate", str(path)).stdout
    config = write(tmp_path, "jobpub.toml", '[company]\nname = "Example Corp"\n')
    assert run("--config", str(config), "validate", str(path)).exit_code == 0


def test_schema_is_shipped_and_accepts_the_examples() -> None:
    result = run("schema")
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    shipped = json.loads((ROOT / "schema/posting.schema.json").read_text())
    assert shipped == schema, "schema/posting.schema.json is stale: run jobpub schema"
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((ROOT / "postings").glob("*.yaml")):
        data = load_text(path.read_text())
        assert list(validator.iter_errors(data)) == [], path
    bad = load_text(posting_text().replace("title: Data Analyst", "titel: x"))
    assert list(validator.iter_errors(bad))
    # What validate rejects and a JSON Schema can say, the schema says (editors agree).
    for old, new in [
        ("indeed_feed: {}", "Google: {}"),
        ("indeed_feed: {}", "monster: {}"),
        ("indeed_feed: {}", "indeed_feed: {ouput: 1}"),
        ("  url: https://jobs.example.com/data-analyst", "  instructions: call"),
    ]:
        text = posting_text().replace(old, new)
        assert old in posting_text() and list(validator.iter_errors(load_text(text))), new
        assert (
            run(
                "validate", str(write(Path(tempfile.mkdtemp()), "data-analyst.yaml", text))
            ).exit_code
            == 1
        ), new


def test_large_sets_are_checked_in_parallel_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import publisher.validate as validate_module

    for i in range(6):
        text = posting_text(f"job-{i}")
        if i == 3:
            text = text.replace("currency: USD", "currency: XYZ")
        write(tmp_path, f"job-{i}.yaml", text)
    write(tmp_path, "copy.yaml", posting_text("job-1"))
    serial = run("validate", "--format", "json", str(tmp_path)).stdout
    monkeypatch.setattr(validate_module, "PARALLEL_FROM", 1)
    parallel = run("validate", "--format", "json", str(tmp_path)).stdout
    assert parallel == serial
    rules = sorted(p["rule"] for p in json.loads(parallel)["problems"] if p["severity"] == "error")
    assert rules == ["duplicate-id", "duplicate-id", "id-mismatch", "schema"]


def test_board_rule_names_the_board_and_line(tmp_path: Path) -> None:
    text = posting_text("case").replace(
        "boards:\n  indeed_feed: {}\n", "boards:\n  jooble_feed: {}\n"
    )
    short = (
        text[: text.index("summary: |")]
        + "summary: Short.\n"
        + text[text.index("responsibilities:") :]
    )
    short = short.replace("benefits:\n  - Health insurance\n", "").replace(
        "eeo_statement: Example Corp is an equal opportunity employer.\n", ""
    )
    path = write(tmp_path, "case.yaml", short)
    found = problems(run("validate", "--format", "json", str(path)))
    assert [(p["rule"], p["board"], p["line"]) for p in found] == [
        ("eeo-statement", None, 1),
        ("benefits-required", None, line_of(short, "region: CO")),  # a Colorado job
        ("board-rule", "jooble_feed", line_of(short, "summary:")),
    ]
    text_out = run("validate", str(path)).stdout
    assert "error board-rule [jooble_feed] description is" in text_out


def test_unknown_board_lists_known_boards(tmp_path: Path) -> None:
    path = write(tmp_path, "case.yaml", _replace("indeed_feed: {}", "monster: {}"))
    found = problems(run("validate", "--format", "json", str(path)))
    assert found[0]["rule"] == "schema" and "known boards: adzuna_feed" in str(found[0]["message"])


def test_boards_and_preview_commands() -> None:
    config = str(ROOT / "config/jobpub.toml")
    listing = json.loads(run("--config", config, "boards", "--json").stdout)["boards"]
    from publisher.registry import boards

    assert [(b["board"], b["kind"]) for b in listing] == [
        (name, cls.kind) for name, cls in sorted(boards().items())
    ]
    by = {b["board"]: b for b in listing}
    assert by["webhook"]["operations"] == ["publish", "update", "refresh", "withdraw"]  # no lookup
    assert by["ziprecruiter"]["operations"][-1] == "lookup"
    assert by["linkedin"]["operations"] == [
        "publish",
        "update",
        "refresh",
        "withdraw",
        "batch of 100",
        "poll tasks",
    ]
    assert by["google"]["operations"] == ["write"]  # google without indexing
    manager = str(ROOT / "postings/ecommerce-operations-manager.yaml")
    page = run("--config", config, "preview", manager, "--board", "google")
    assert page.exit_code == 0 and '"@type": "JobPosting"' in page.stdout
    feed = run(
        "--config",
        config,
        "preview",
        str(ROOT / "postings/warehouse-associate.yaml"),
        "--board",
        "indeed_feed",
    )
    assert feed.exit_code == 0 and feed.stdout.count("<job>") == 3
    bad = run("--config", config, "preview", str(SEED), "--board", "google")
    assert bad.exit_code == 1 and "placeholder" in bad.stderr
    unknown = run("--config", config, "preview", str(SEED), "--board", "nope")
    assert unknown.exit_code in (1, 2)


def test_parallel_validation_returns_the_same_postings(tmp_path: Path) -> None:
    """From PARALLEL_FROM files on, postings come back from worker processes as JSON."""
    from publisher.config import load_config
    from publisher.validate import PARALLEL_FROM, validate_paths
    from tests.factories import context

    examples = sorted((ROOT / "postings").glob("*.yaml"))
    for i in range(PARALLEL_FROM // len(examples) + 1):
        for example in examples:
            text = example.read_text().replace(f"id: {example.stem}", f"id: {example.stem}-{i}")
            (tmp_path / f"{example.stem}-{i}.yaml").write_text(text)
    config = load_config(ROOT / "config/jobpub.toml")
    parallel = validate_paths([tmp_path], config, context(), keep=True)
    single = validate_paths(sorted(tmp_path.glob("*-0.yaml")), config, context(), keep=True)
    assert validate_paths([tmp_path], config, context()).postings == []  # validate: not kept
    assert parallel.files >= PARALLEL_FROM and len(parallel.postings) == parallel.files
    by_id = {p.id: p for p in parallel.postings}
    assert len(single.postings) == len(examples)
    for posting in single.postings:
        assert by_id[posting.id].model_dump_json() == posting.model_dump_json()


def test_validate_does_not_load_the_engine() -> None:
    """CI and pre-commit run validate on every push: no SQLAlchemy, httpx or tenacity, no
    asyncio, no Markdown or HTML renderer, no template engine, no pycountry tables, and no
    worker pool's modules for a few files."""
    import subprocess
    import sys

    # The whole command runs (on the shipped postings, every board checked); when it ends
    # the process (at once: os._exit, skipping the interpreter's teardown), the modules it
    # loaded are listed.
    code = (
        "import os, sys\n"
        "end = os._exit\n"
        "def listed(code):\n"
        "    print('LOADED', sorted(m for m in ('sqlalchemy', 'httpx', 'tenacity', "
        "'alembic', 'publisher.engine', 'publisher.engine_cli', 'asyncio', 'markdown_it', "
        "'nh3', 'jinja2', 'pycountry', 'multiprocessing', 'concurrent.futures', 'logging') "
        "if m in sys.modules), flush=True)\n"
        "    end(code)\n"
        "os._exit = listed\n"
        "sys.argv = ['jobpub', '--config', 'config/jobpub.toml', 'validate', 'postings']\n"
        "from publisher.cli import main\nmain()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 files checked: 0 error(s)" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"


def test_validate_loads_only_the_boards_its_postings_name(tmp_path: Path) -> None:
    """A board's module is imported when a posting or the config names the board: a
    pre-commit hook on a posting for one board does not import the other twelve."""
    import subprocess
    import sys

    write(tmp_path, "data-analyst.yaml", posting_text())  # for indeed_feed alone
    code = (
        "import os, sys\n"
        "end = os._exit\n"
        "def listed(code):\n"
        "    print('LOADED', sorted(m for m in sys.modules if m.startswith('adapters.')), "
        "flush=True)\n"
        "    end(code)\n"
        "os._exit = listed\n"
        f"sys.argv = ['jobpub', 'validate', {str(tmp_path)!r}]\n"
        "from publisher.cli import main\nmain()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "1 file checked: 0 error(s)" in out.stdout, out.stdout + out.stderr
    assert (
        out.stdout.strip().splitlines()[-1]
        == "LOADED ['adapters.feedwriter', 'adapters.indeed_feed']"
    )


def test_validate_ends_at_once_with_its_whole_report_and_exit_code(tmp_path: Path) -> None:
    """The console script ends a validate with os._exit after flushing: the report is all
    there (a pipe, 300 files with problems), and the exit code is validate's."""
    import subprocess
    import sys

    for i in range(300):
        write(
            tmp_path,
            f"job-{i}.yaml",
            posting_text(f"job-{i}").replace("employment_type:", "employment_typ:"),
        )
    code = "from publisher.cli import main\nmain()\n"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "--config",
            str(ROOT / "config/jobpub.toml"),
            "validate",
            "--format",
            "json",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["files"] == 300 and report["errors"] >= 300


def test_poison_files_stay_their_own_problem(tmp_path: Path) -> None:
    """Explicit tags, recursive aliases, multi-line keys and far dates: each file gets its
    own positioned problem, the good file is checked as usual, no internal error."""
    write(tmp_path, "good.yaml", posting_text("good"))
    write(tmp_path, "tags.yaml", posting_text("tags") + "openings: !!float x\n")
    write(
        tmp_path,
        "alias.yaml",
        posting_text("alias").replace("title: Data Analyst", "title: &a [*a]"),
    )
    write(tmp_path, "key.yaml", posting_text("key") + "? |\n  line one\n  line two\n: value\n")
    write(
        tmp_path,
        "far.yaml",
        posting_text("far")
        .replace("expires_at: 2027-01-31", "expires_at: 9999-12-31")
        .replace("timezone: America/Denver", "timezone: Etc/GMT+12"),
    )
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 1 and "internal error" not in result.output
    found = {
        (Path(str(p["file"])).name, p["rule"]): p
        for p in problems(CliRunner().invoke(cli, ["validate", "--format", "json", str(tmp_path)]))
        if p["severity"] == "error"
    }
    assert not [k for k in found if k[0] == "good.yaml"]
    tags = found[("tags.yaml", "yaml-syntax")]
    assert tags["line"] == posting_text().count("\n") + 1
    assert "'x' is not a number" in str(tags["message"])
    assert found[("alias.yaml", "yaml-syntax")]["line"] == 2
    far = found[("far.yaml", "schema")]
    assert far["line"] == line_of(posting_text("far"), "expires_at")
    assert "9999-12-31 is out of range" in str(far["message"])
    key_lines = [line for line in result.output.splitlines() if "key.yaml" in line]
    assert len(key_lines) == 1 and "line one\\nline two" in key_lines[0]


def test_a_ledger_url_with_a_bad_port_is_a_config_error(tmp_path: Path) -> None:
    import publisher.engine_cli  # noqa: F401  (registers the engine's commands)

    config = write(
        tmp_path, "jobpub.toml", 'ledger = "postgresql+psycopg://u:pw@127.0.0.1:abc/db"\n'
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "status"])
    assert result.exit_code == 2
    assert "ledger: not a database URL" in result.output and "pw" not in result.output


@pytest.mark.parametrize("args", [["schema"], ["boards"], ["validate", "postings"]])
def test_a_closed_pipe_ends_quietly(args: list[str]) -> None:
    """`jobpub status | head -1`: the reader goes away; no 'internal error', exit 0."""
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-m", "publisher", "--config", str(ROOT / "config/jobpub.toml"), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # before the child writes: its first write meets a closed pipe
    err = child.stderr.read().decode()
    assert child.wait(60) == 0 and err == ""


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[boards.google]\nsite_url = "https://x.example/{id}"\nouput = 1\n',
            ":3: boards.google.ouput: unknown key (did you mean 'output_dir'?)",
        ),
        (
            'timezone = "UTC"\n\n[boards.indeed_fed]\njob_url = "https://x.example/{id}"\n',
            ":3: boards.indeed_fed: no such board (did you mean 'indeed_feed'?)",
        ),
    ],
)
def test_a_bad_board_table_is_one_config_error(tmp_path: Path, toml: str, message: str) -> None:
    config = write(tmp_path, "jobpub.toml", toml)
    result = CliRunner().invoke(cli, ["--config", str(config), "validate", str(ROOT / "postings")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"jobpub: {config}{message}"]


def test_cross_field_rules_run_despite_a_key_error(tmp_path: Path) -> None:
    text = (
        posting_text("two").replace("  min: 70000\n  max: 90000", "  min: 90000\n  max: 70000")
        + "titel: typo\n"
    )
    path = write(tmp_path, "two.yaml", text)
    found = [
        (p["rule"], p["line"])
        for p in problems(CliRunner().invoke(cli, ["validate", "--format", "json", str(path)]))
    ]
    assert found == [("salary", line_of(text, "max: 70000")), ("schema", line_of(text, "titel"))]
    broken_title = posting_text("three").replace("title: Data Analyst", "title: [1, 2]")
    broken_title = broken_title.replace("expires_at: 2027-01-31", "expires_at: 2026-11-30")
    path = write(tmp_path, "three.yaml", broken_title)
    rules = sorted(
        p["rule"]
        for p in problems(CliRunner().invoke(cli, ["validate", "--format", "json", str(path)]))
    )
    assert rules == ["dates", "schema"]  # expires before it publishes, and the title


def test_error_hints_say_what_to_write(tmp_path: Path) -> None:
    caps = write(tmp_path, "Name-Mismatch.yaml", posting_text("name-mismatch"))
    ohio = write(tmp_path, "ohio.yaml", posting_text("ohio").replace("region: CO", "region: Ohio"))
    typo = write(
        tmp_path, "typo.yaml", posting_text("typo").replace("indeed_feed: {}", "indeed_fed: {}")
    )
    found = {
        Path(str(p["file"])).name: str(p["message"])
        for p in problems(CliRunner().invoke(cli, ["validate", "--format", "json", str(tmp_path)]))
        if p["severity"] == "error"
    }
    assert found["Name-Mismatch.yaml"] == (
        "id 'name-mismatch' does not match the file name 'Name-Mismatch.yaml' ('Name-Mismatch' "
        "cannot be an id: ids are lowercase letters, digits and hyphens; rename the file to "
        "name-mismatch.yaml)"
    )
    assert "'Ohio' is a region name: use its code, OH (ISO 3166-2 US-OH)" in found["ohio.yaml"]
    assert found["typo.yaml"] == "unknown board 'indeed_fed' (did you mean 'indeed_feed'?)"
    assert caps.exists() and ohio.exists() and typo.exists()


@pytest.mark.parametrize("escape", ["\\uFFFE", "\\uFFFF", "\\x07", "\\0"])
def test_a_character_xml_forbids_is_refused_at_its_line(tmp_path: Path, escape: str) -> None:
    text = posting_text().replace("title: Data Analyst", f'title: "Data Analyst {escape}"')
    assert escape in text
    path = write(tmp_path, "data-analyst.yaml", text)
    result = run("validate", "--format", "json", str(path))
    assert result.exit_code == 1, result.output
    (found,) = [p for p in problems(result) if "XML forbids" in str(p["message"])]
    assert found["rule"] == "schema" and found["line"] == line_of(text, "title:")
    code = {"\\0": "0000", "\\x07": "0007"}.get(escape, escape[2:].upper())
    assert str(found["message"]).startswith(f"title holds U+{code}, a character XML forbids")


def test_a_surrogate_escape_is_refused_by_the_parser_at_its_line(tmp_path: Path) -> None:
    text = posting_text().replace("title: Data Analyst", 'title: "Data Analyst \\uD800"')
    result = run("validate", "--format", "json", str(write(tmp_path, "data-analyst.yaml", text)))
    assert result.exit_code == 1
    assert [(p["rule"], p["line"]) for p in problems(result)] == [
        ("yaml-syntax", line_of(text, "title:"))
    ]


def test_a_writer_drops_a_character_xml_forbids() -> None:
    from xml.dom.minidom import parseString

    from adapters.careers import _env

    page = (
        _env()
        .from_string("<feed><title>{{ name }}</title></feed>")
        .render(name="Acme \ufffe\uffff\x07 Jobs")
    )
    assert parseString(page).documentElement.firstChild.firstChild.data == "Acme  Jobs"
