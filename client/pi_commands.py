"""The `pi` command: a distributed π run over every live compute worker."""

from __future__ import annotations

import argparse
from pathlib import Path

from pyro_objects.client.parsing import arg, command, whole_number
from pyro_objects.client.progress import ProgressBar
from compute.coordinator import PiRun, check_request, run_pi
from pyro_objects.errors import UsageError


def report(run: PiRun) -> list[str]:
    """The lines the client prints for a run."""
    lines = [
        f"pi       {run.pi!r}",
        f"error    {run.error:.3e}  (|estimate - math.pi|)",
        f"bound    {run.bound:.3e}  (1/N)",
        f"terms    {run.terms} in {run.seconds:.3f} s: {run.terms_per_second:.3e} terms/s",
        f"workers  {len(run.workers)}",
    ]
    lines += [f"  {w.name}: {w.slices} slices, {w.terms} terms, {w.seconds:.3f} s"
              for w in run.workers]
    if run.failed_slices:
        lines.append(f"failed   {len(run.failed_slices)} slice(s) re-dispatched: "
                     + ", ".join(sorted({f.worker for f in run.failed_slices})))
    return lines


class PiCommands:
    """Mixed into the Console, whose `stdout` it uses."""

    @command("pi from N Leibniz terms over every live compute worker (python -m compute)",
             arg("terms", metavar="N", type=whole_number,
                 help="how many terms: 2000000000, 2_000_000_000, 2e9 or 2*10**9"),
             arg("--workers", metavar="K", type=whole_number, help="use at most K workers"),
             arg("--slice", metavar="S", type=whole_number,
                 help="terms per slice (default: adapted to each worker's speed)"),
             arg("--json", metavar="FILE", type=Path, help="also write the run to FILE"))
    def do_pi(self, args: argparse.Namespace) -> None:
        try:
            check_request(args.terms, args.workers, args.slice)
        except (TypeError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        if args.json and not args.json.parent.is_dir():
            raise UsageError(f"cannot write {args.json}: no directory {args.json.parent}")
        bar = ProgressBar()
        try:
            run = run_pi(args.terms, workers=args.workers, slice_terms=args.slice,
                         progress=bar)
        finally:
            bar.finish()
        for line in report(run):
            print(line, file=self.stdout)
        if args.json:
            args.json.write_text(run.to_json() + "\n")
            print(f"wrote {args.json}", file=self.stdout)
        self.stdout.flush()
