"""The `pi` command: a distributed π run over every live compute worker."""

from __future__ import annotations

import argparse
from pathlib import Path

from compute.coordinator import PiRun
from pyro_objects.client.parsing import arg, command
from pyro_objects.client.progress import ProgressBar
from pyro_objects.errors import UsageError
from pyro_objects.library.commands import whole_number
from pyro_objects.library.results import plural


def report(run: PiRun) -> list[str]:
    """The lines the client prints for a run."""
    lines = [
        f"pi       {run.pi!r}",
        f"error    {run.error:.3e}  (|estimate - math.pi|)",
        f"bound    {run.bound:.3e}  (1/N)",
        f"terms    {run.terms} in {run.seconds:.3f} s: {run.terms_per_second:.3e} terms/s",
        f"workers  {len(run.workers)}",
    ]
    lines += [f"  {w.name}: {plural(w.slices, 'slice')}, {plural(w.terms, 'term')}, "
              f"{w.seconds:.3f} s" for w in run.workers]
    if run.failed_slices:
        lines.append(f"failed   {plural(len(run.failed_slices), 'slice')} re-dispatched: "
                     + ", ".join(sorted({f.worker for f in run.failed_slices})))
    return lines


class PiCommands:
    """Mixed into the Console, whose `client`, `show` and `stdout` it uses."""

    @command("pi from N Leibniz terms over every live compute worker (pyro-objects worker)",
             arg("terms", metavar="N", type=whole_number,
                 help="how many terms: 2000000000, 2_000_000_000, 2e9 or 2*10**9"),
             arg("--workers", metavar="K", type=whole_number, help="use at most K workers"),
             arg("--slice", metavar="S", type=whole_number,
                 help="terms per slice (default: adapted to each worker's speed)"),
             arg("--json-file", metavar="FILE", type=Path,
                 help="also write the run to FILE, as JSON (the keys of --json's result)"))
    def do_pi(self, args: argparse.Namespace) -> None:
        path = args.json_file
        if path is not None and not path.parent.is_dir():
            raise UsageError(f"cannot write {path}: no directory {path.parent}")
        with ProgressBar() as bar:
            run = self.client.pi(args.terms, workers=args.workers, slice_terms=args.slice,
                                 progress=bar)
        if path is not None:
            path.write_text(run.to_json() + "\n")
        if self.json:
            self.show("pi", run)
            return
        for line in report(run):
            print(line, file=self.stdout)
        if path is not None:
            print(f"wrote {path}", file=self.stdout)
        self.stdout.flush()
