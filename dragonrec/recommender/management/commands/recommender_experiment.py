"""`manage.py recommender_experiment create|start|stop|results`: drive experiments from scripts and CI as the admin
does.

    manage.py recommender_experiment create NAME --scenario home --arm control=student:active:50 \\
        --arm treatment=trending:50 [--interleaving]
    manage.py recommender_experiment start NAME
    manage.py recommender_experiment stop NAME [--winner ARM]
    manage.py recommender_experiment results NAME [--json] [--lift 10]

The command validates through the same service as the admin (services.experiments.experiment_validate): shares
here are percentages (50 = half of the shoppers) and must add up to 100.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dragonrec.recommender.models import Experiment
from dragonrec.recommender.services.experiments import (
    DETECTABLE_LIFT,
    ArmSpec,
    ExperimentError,
    experiment_create,
    experiment_readiness,
    experiment_results,
    experiment_start,
    experiment_stop,
)


def parse_arm(value: str) -> ArmSpec:
    """name=policy:share, the share in percent (policy may contain a colon: student:v3)."""
    name, sep, rest = value.partition("=")
    policy, _, share = rest.rpartition(":")
    if not sep or not name or not policy or not share:
        raise CommandError(f"--arm {value!r}: expected name=policy:share, e.g. control=student:active:50")
    try:
        percent = float(share)
    except ValueError as exc:
        raise CommandError(f"--arm {value!r}: the share {share!r} is not a number") from exc
    return ArmSpec(name=name, policy=policy, share=percent / 100)


class Command(BaseCommand):
    help = "Create, start, stop experiments and read their results."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("name")
        create.add_argument("--scenario", action="append", required=True, dest="scenarios")
        create.add_argument("--arm", action="append", required=True, dest="arms", help="name=policy:share_percent")
        create.add_argument("--interleaving", action="store_true", help="interleave the two arms in every list")
        for action in ("start", "stop", "results"):
            p = sub.add_parser(action)
            p.add_argument("name")
            if action == "stop":
                p.add_argument("--winner", default="")
            if action == "results":
                p.add_argument("--json", action="store_true")
                p.add_argument(
                    "--lift",
                    type=float,
                    default=100 * DETECTABLE_LIFT,
                    help="the CTR lift in percent that 'enough data' is sized to detect (default %(default)s)",
                )

    def handle(self, *args: Any, action: str, name: str, **options: Any) -> None:
        experiment: Experiment | None
        try:
            if action == "create":
                experiment = experiment_create(
                    name=name,
                    scenarios=options["scenarios"],
                    arms=[parse_arm(a) for a in options["arms"]],
                    kind=Experiment.Kind.INTERLEAVING if options["interleaving"] else Experiment.Kind.AB,
                )
                self.stdout.write(self.style.SUCCESS(f"created {experiment.name} (draft)"))
                return
            experiment = Experiment.objects.filter(name=name).first()
            if experiment is None:
                raise CommandError(f"no experiment {name!r}")
            if action == "start":
                experiment_start(experiment=experiment)
                self.stdout.write(self.style.SUCCESS(f"{name} is running"))
            elif action == "stop":
                experiment_stop(experiment=experiment, winner=options["winner"], note="stopped by manage.py")
                self.stdout.write(self.style.SUCCESS(f"{name} is stopped"))
            else:
                results = experiment_results(experiment=experiment)
                if options["json"]:
                    self.stdout.write(json.dumps(results, indent=2))
                else:
                    self.stdout.write(results_table(results, lift=options["lift"] / 100))
        except ExperimentError as exc:
            raise CommandError(str(exc)) from exc


def _figure(value: Any, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, int | float) else "-"


def results_table(results: dict[str, Any], *, lift: float = DETECTABLE_LIFT) -> str:
    """The results as text; an arm without figures yet says "not enough data yet" (and how much it needs) instead,
    one with figures but fewer items than a CTR `lift` needs says so beside them, and the sample-ratio check is
    only judged once the arms have enough shoppers for it."""
    from dragonrec.recommender.services.experiments import not_enough_text

    if "interleaving" in results:
        r = results["interleaving"]
        ci = r.get("ci") or [None, None]
        if not r.get("shoppers") or r.get("win_rate_b") is None:
            return (
                f"{results['experiment']} (interleaving): {r['lists']} lists, {r['a']} won {r['wins_a']}, "
                f"{r['b']} won {r['wins_b']}, ties {r['ties']}: not enough data yet (no list decided by a click)"
            )
        return (
            f"{results['experiment']} (interleaving): {r['lists']} lists, {r['a']} won {r['wins_a']}, "
            f"{r['b']} won {r['wins_b']}, ties {r['ties']}; {r['b']} win rate {_figure(r['win_rate_b'], '.3f')} "
            f"[{_figure(ci[0], '.3f')}, {_figure(ci[1], '.3f')}], p = {_figure(r.get('p_value'), '.4f')} "
            f"over {r['shoppers']} shoppers"
        )
    readiness = experiment_readiness(results=results, lift=lift)
    lines = [f"{results['experiment']} ({results['status']}), control: {results['control']}"]
    lines.append(f"{'arm':<14}{'shoppers':>9}{'lists':>8}{'shown':>9}  CTR [95% CI]             lift vs control")
    for name, arm in results["arms"].items():
        head = f"{name:<14}{arm['shoppers']:>9}{arm['lists']:>8}{arm['impressions']:>9}  "
        if not readiness[name]["has_figures"]:
            lines.append(head + not_enough_text(readiness[name]))
            continue
        ctr = arm["ctr"]
        ci = ctr.get("ci") or [None, None]
        lift_row = results["lift"].get(name, {}).get("ctr")
        lift_text = "-"
        if lift_row and lift_row.get("relative") is not None:
            lci = lift_row.get("ci") or [None, None]
            lift_text = (
                f"{_figure(lift_row['relative'], '+.1%')} [{_figure(lci[0], '+.1%')}, {_figure(lci[1], '+.1%')}] "
                f"p={_figure(lift_row.get('p_value'), '.4f')}"
            )
        note = "" if readiness[name]["enough"] else f"  ({not_enough_text(readiness[name])})"
        lines.append(
            head
            + f"{_figure(ctr.get('value'), '.4f')} [{_figure(ci[0], '.4f')}, {_figure(ci[1], '.4f')}]  {lift_text}"
            + note
        )
    srm = results.get("sample_ratio")
    if srm and not srm.get("judged", True):
        lines.append("sample ratio check: not enough shoppers yet to judge the split")
    elif srm:
        verdict = "ok" if srm["ok"] else "SAMPLE RATIO MISMATCH: the split is broken, do not trust these figures"
        lines.append(f"sample ratio check: chi2 {srm['chi2']:.2f}, p = {srm['p_value']:.4f}: {verdict}")
    return "\n".join(lines)
