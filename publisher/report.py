"""Output formats of ``jobpub validate``: text, json and GitHub workflow commands."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from publisher.problems import Finding
from publisher.validate import Report

__all__ = ["FORMATS", "render"]


def _summary(report: Report) -> str:
    files = "file" if report.files == 1 else "files"
    return f"{report.files} {files} checked: {report.errors} error(s), {report.warnings} warning(s)"


def _message(finding: Finding) -> str:
    """One line, whatever the file held (a key may be a multi-line block scalar)."""
    message = f"[{finding.board}] {finding.message}" if finding.board else finding.message
    return message.replace("\r", "\\r").replace("\n", "\\n")


def render_text(report: Report) -> str:
    lines = []
    for f in report.findings:
        where = f"{f.file}:{f.line}:{f.column}" if f.line is not None else f.file
        lines.append(f"{where}: {f.severity} {f.rule} {_message(f)}")
    lines.append(_summary(report))
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(
        {
            "files": report.files,
            "errors": report.errors,
            "warnings": report.warnings,
            "problems": [
                {
                    "file": f.file,
                    "line": f.line,
                    "column": f.column,
                    "severity": f.severity,
                    "rule": f.rule,
                    "board": f.board,
                    "message": f.message,
                }
                for f in report.findings
            ],
        },
        indent=2,
    )


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_github(report: Report) -> str:
    """Workflow commands; also a Markdown table in ``$GITHUB_STEP_SUMMARY`` when set."""
    lines = []
    for f in report.findings:
        props = [f"file={_escape_property(f.file)}"]
        if f.line is not None:
            props.append(f"line={f.line}")
        if f.column is not None:
            props.append(f"col={f.column}")
        props.append(f"title={_escape_property(f.rule)}")
        lines.append(f"::{f.severity} {','.join(props)}::{_escape_data(_message(f))}")
    lines.append(_summary(report))
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path and report.findings:
        rows = [
            f"| {f.file}:{f.line or ''} | {f.severity} | {f.rule} | {_cell(_message(f))} |"
            for f in report.findings
        ]
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(
                "### jobpub validate\n\n| where | severity | rule | message |\n"
                "|---|---|---|---|\n" + "\n".join(rows) + f"\n\n{_summary(report)}\n"
            )
    return "\n".join(lines)


FORMATS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
}


def render(report: Report, fmt: str) -> str:
    """The report in the named format."""
    return FORMATS[fmt](report)
