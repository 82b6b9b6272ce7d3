"""Compose the DR app: primary, secondary (joins primary), global (routes to both)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cdktf import App

from infrastructure.config import DrConfig
from infrastructure.stacks.global_stack import GlobalStack
from infrastructure.stacks.regional import RegionalStack

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_NAMES = ("primary", "secondary", "global")


def build_app(outdir: Path, config: DrConfig | None = None) -> App:
    """Build all three stacks into an App that synthesizes to ``outdir``."""
    config = config or DrConfig()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    app = App(outdir=str(outdir))
    primary = RegionalStack(app, "primary", config=config, region=config.primary)
    secondary = RegionalStack(
        app, "secondary", config=config, region=config.secondary, primary=primary
    )
    GlobalStack(app, "global", config=config, primary=primary, secondary=secondary)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Synthesize the DR stacks.")
    # The cdktf CLI tells the app where to write through CDKTF_OUTDIR.
    default = Path(os.environ.get("CDKTF_OUTDIR") or REPO_ROOT / "cdktf.out")
    parser.add_argument("--outdir", type=Path, default=default)
    args = parser.parse_args(argv)
    build_app(args.outdir.resolve()).synth()


if __name__ == "__main__":
    main()
