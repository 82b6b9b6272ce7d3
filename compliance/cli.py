"""Command line: ``synth``, ``check`` and ``run`` (the main job).

Exit codes: 0 compliant, 1 a requirement is violated, 2 bad input (with a
one-line reason naming the file on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from compliance.catalogue import POLICY_ROOT
from compliance.errors import InputError
from compliance.evaluation import Evaluation, Status
from compliance.features_run import run_features
from compliance.mutation_run import render as render_mutants
from compliance.mutation_run import run_catalogue
from compliance.reports.json_report import check_document, write_json_report
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
    _policy_options(check)

    mutants = commands.add_parser("mutants", help="run the mutation catalogue, print kill rate")
    _policy_options(mutants)

    run = commands.add_parser("run", help="main job: synth, check, write reports/")
    run.add_argument("--report-dir", type=Path, default=REPO_ROOT / "reports")
    run.add_argument("--format", choices=("text", "json"), default="text")
    run.add_argument("--no-features", action="store_true", help="skip the Gherkin features")
    _policy_options(run)
    return parser


def _policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policies", type=Path, default=POLICY_ROOT)
    parser.add_argument("--waivers", type=Path, default=None)
    parser.add_argument("--settings", type=Path, default=None)


def _options(args: argparse.Namespace) -> CheckOptions:
    return CheckOptions(policy_root=args.policies, waivers=args.waivers, settings=args.settings)


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


def _main_job(args: argparse.Namespace) -> int:
    """Synthesize, evaluate, write every report; then run the features."""
    synthesized = synthesize()
    evaluation = run_check(synthesized.outdir, _options(args))
    report = write_json_report(evaluation, args.report_dir / "compliance.json")
    code = _emit(evaluation, args.format)
    print(f"report: {report}", file=sys.stderr)
    if not args.no_features:
        features = run_features(args.report_dir, cache_dir=REPO_ROOT / ".cache" / "synth")
        code = max(code, EXIT_VIOLATION if features != 0 else EXIT_OK)
    return code


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
        return _main_job(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
