"""The `pi` command: a distributed π run over every live compute worker."""

from __future__ import annotations

import shlex
from pathlib import Path

from client.parsing import UsageError, parse_int, pop_option
from client.progress import ProgressBar
from compute.coordinator import PiRun, run_pi


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
    """Mixed into the Console, whose name-server settings and `stdout` it uses."""

    def do_pi(self, arg: str) -> None:
        """pi N [--workers K] [--slice S] [--json FILE]: pi from N Leibniz terms, sliced over every live compute worker (python -m compute)"""  # noqa: E501
        words = shlex.split(arg)
        workers, slice_terms, json_file = (pop_option(words, option)
                                           for option in ("--workers", "--slice", "--json"))
        if len(words) != 1:
            raise UsageError(f"expected 1 argument: N (got {len(words)})")
        bar = ProgressBar()
        try:
            run = run_pi(parse_int("N", words[0]),
                         workers=parse_int("K", workers) if workers else None,
                         slice_terms=parse_int("S", slice_terms) if slice_terms else None,
                         ns_host=self.ns_host, ns_port=self.ns_port, progress=bar)
        finally:
            bar.finish()
        for line in report(run):
            print(line, file=self.stdout)
        if json_file:
            Path(json_file).write_text(run.to_json() + "\n")
            print(f"wrote {json_file}", file=self.stdout)
        self.stdout.flush()
