"""Command line: ``synth``, ``check``, ``mutants``, ``run`` (the main job) and ``docs``.

Exit codes: 0 compliant, 1 a requirement is violated (or a feature
scenario failed), 2 bad input (with a one-line reason naming the file on
stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from compliance.catalogue import POLICY_ROOT
from compliance.drills import command as drill_command
from compliance.environment import temporary_environment
from compliance.errors import InputError
from compliance.evaluation import Evaluation, Status
from compliance.features_run import run_features
from compliance.mutation_run import render as render_mutants
from compliance.mutation_run import run_catalogue
from compliance.reports import writer
from compliance.reports.json_report import check_document
from compliance.reports.living_doc import write_living_doc
from compliance.runner import CheckOptions, run_check
from compliance.synth import REPO_ROOT, synthesize

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m compliance", description="DR compliance harness for CDKTF output."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser("synth", help="synthesize this project's app to cdktf.out/")
    synth.add_argument("--outdir", type=Path, default=REPO_ROOT / "cdktf.out")

    check = commands.add_parser("check", help="check a cdktf.out folder or a *.tf.json file")
    check.add_argument("path", type=Path)
    check.add_argument("--format", choices=("text", "json"), default="text")
    source = check.add_mutually_exclusive_group()
    source.add_argument(
        "--source",
        type=Path,
        default=None,
        help="the app's Python source for DR-SCH-03 (default: the output's dr-source.json, "
        "else this repository's infrastructure/ for a cdktf.out folder)",
    )
    source.add_argument(
        "--no-source", action="store_true", help="scan no source: DR-SCH-03 is not applicable"
    )
    _policy_options(check)

    mutants = commands.add_parser("mutants", help="run the mutation catalogue, print kill rate")
    _policy_options(mutants)

    run = commands.add_parser(
        "run", help="main job: synth, check, run the features, write every report to reports/"
    )
    run.add_argument("--report-dir", type=Path, default=REPO_ROOT / "reports")
    run.add_argument("--format", choices=("text", "json"), default="text")
    run.add_argument(
        "--input", type=Path, default=None, help="check this synthesized output instead of synth"
    )
    run.add_argument("--no-features", action="store_true", help="skip the Gherkin features")
    run.add_argument(
        "--no-screenshot", action="store_true", help="skip the headless-Chromium screenshot"
    )
    _policy_options(run)

    docs = commands.add_parser(
        "docs", help="render the features with each requirement's current status"
    )
    docs.add_argument("--report-dir", type=Path, default=REPO_ROOT / "reports")
    docs.add_argument(
        "--input", type=Path, default=None, help="check this synthesized output instead of synth"
    )
    _policy_options(docs)
    drill_command.add_parser(commands)
    return parser


def _policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policies", type=Path, default=POLICY_ROOT)
    parser.add_argument("--waivers", type=Path, default=None)
    parser.add_argument("--settings", type=Path, default=None)


def _options(args: argparse.Namespace) -> CheckOptions:
    return CheckOptions(
        policy_root=args.policies,
        waivers=args.waivers,
        settings=args.settings,
        source=getattr(args, "source", None),
        scan_source=not getattr(args, "no_source", False),
    )


def render_text(evaluation: Evaluation) -> str:
    lines = []
    for result in evaluation.results:
        status = result.status
        lines.append(
            f"{status.value.upper():15} {result.requirement.id}  {result.requirement.title}"
            f"  ({len(result.evaluated)} evaluated)"
        )
        for finding in result.findings:
            mark = "waived" if finding.waiver else "finding"
            lines.append(f"    {mark}: {finding.stack}/{finding.address}: {finding.message}")
    summary = evaluation.summary()
    lines.append(
        f"{summary[Status.PASSED.value]} passed, {summary[Status.FAILED.value]} failed, "
        f"{summary[Status.WAIVED.value]} waived, "
        f"{summary[Status.NOT_APPLICABLE.value]} not applicable "
        f"({summary['resources']} resources)"
    )
    return "\n".join(lines)


def _emit(evaluation: Evaluation, output_format: str) -> int:
    if output_format == "json":
        print(json.dumps(check_document(evaluation), indent=2))
    else:
        print(render_text(evaluation))
    return EXIT_OK if evaluation.compliant else EXIT_VIOLATION


def _drills_file(report_dir: Path, started: float, notes: list[str]) -> Path | None:
    path = report_dir / writer.DRILLS
    if not path.is_file():
        return None
    if path.stat().st_mtime < started:
        notes.append(f"{writer.DRILLS} was not written by this run (it predates it)")
    return path


def _screenshot(report_dir: Path) -> None:
    """The report as Chromium draws it, beside it; a missing browser is only a note."""
    from compliance.reports.browser import BrowserUnavailable, check_page

    try:
        check = check_page(report_dir / writer.HTML, report_dir / writer.SCREENSHOT)
    except BrowserUnavailable as error:
        print(f"screenshot skipped: {error}", file=sys.stderr)
        return
    except Exception as error:  # a browser that fails to start must not lose the reports
        print(f"screenshot skipped: Chromium failed: {error}", file=sys.stderr)
        return
    for problem in check.problems:
        print(f"warning: {writer.HTML} in Chromium: {problem}", file=sys.stderr)
    print(f"screenshot: {check.screenshot}", file=sys.stderr)


def _main_job(args: argparse.Namespace) -> int:
    """Synthesize and evaluate; run the features; write every report from both."""
    report_dir = args.report_dir.resolve()
    source = args.input if args.input is not None else synthesize().outdir
    evaluation = run_check(source, _options(args))
    report_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    features_code: int | None = None
    notes: list[str] = []
    if args.no_features:
        notes.append("the features were not run (--no-features)")
    else:
        with temporary_environment({"DR_REPORT_DIR": str(report_dir)}):
            features_code = run_features(report_dir, cache_dir=REPO_ROOT / ".cache" / "synth")
    written = writer.write_reports(
        evaluation,
        report_dir,
        cucumber=None if args.no_features else report_dir / writer.CUCUMBER,
        junit=None if args.no_features else report_dir / writer.JUNIT,
        drills=_drills_file(report_dir, started, notes),
        features_exit_code=features_code,
        notes=notes,
    )
    code = _emit(evaluation, args.format)
    summary = written.document["summary"]
    if not summary["compliant"] or summary["result"] != "passed":
        code = EXIT_VIOLATION
    if not args.no_screenshot:
        _screenshot(report_dir)
    for path in written.paths.values():
        print(f"report: {path}", file=sys.stderr)
    if features_code not in (None, 0):
        print(f"features: pytest exited {features_code}", file=sys.stderr)
    return code


def _docs(args: argparse.Namespace) -> int:
    """The living documentation alone, with the current status of each requirement."""
    report_dir = args.report_dir.resolve()
    source = args.input if args.input is not None else synthesize().outdir
    evaluation = run_check(source, _options(args))
    cucumber = report_dir / writer.CUCUMBER
    notes = [] if cucumber.is_file() else ["no cucumber.json: run the main job for results"]
    document = writer.build_document(
        evaluation,
        cucumber=cucumber,
        junit=report_dir / writer.JUNIT,
        drills=report_dir / writer.DRILLS,
        notes=notes,
    )
    path = write_living_doc(document, report_dir / writer.LIVING_DOC)
    print(f"living documentation: {path}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "synth":
            result = synthesize(outdir=args.outdir)
            origin = "cache" if result.from_cache else "app"
            print(f"synthesized {result.outdir} from {origin} in {result.seconds:.1f} s")
            return EXIT_OK
        if args.command == "mutants":
            outcomes = run_catalogue(synthesize().outdir, _options(args))
            print(render_mutants(outcomes))
            return EXIT_OK if outcomes and all(o.killed for o in outcomes) else EXIT_VIOLATION
        if args.command == "check":
            return _emit(run_check(args.path, _options(args)), args.format)
        if args.command == "docs":
            return _docs(args)
        if args.command == "drill":
            return drill_command.run(args)
        return _main_job(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
