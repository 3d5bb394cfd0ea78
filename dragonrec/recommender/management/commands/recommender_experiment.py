"""`manage.py recommender_experiment create|start|stop|results`: drive experiments from scripts and CI as the admin
does.

    manage.py recommender_experiment create NAME --scenario home --arm control=student:active:50 \\
        --arm treatment=trending:50 [--interleaving]
    manage.py recommender_experiment start NAME
    manage.py recommender_experiment stop NAME [--winner ARM]
    manage.py recommender_experiment results NAME [--json]
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dragonrec.recommender.models import Experiment
from dragonrec.recommender.services.experiments import (
    ArmSpec,
    ExperimentError,
    experiment_create,
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
                self.stdout.write(json.dumps(results, indent=2) if options["json"] else results_table(results))
        except ExperimentError as exc:
            raise CommandError(str(exc)) from exc


def results_table(results: dict[str, Any]) -> str:
    if "interleaving" in results:
        r = results["interleaving"]
        return (
            f"{results['experiment']} (interleaving): {r['lists']} lists, {r['a']} won {r['wins_a']}, "
            f"{r['b']} won {r['wins_b']}, ties {r['ties']}; {r['b']} win rate {r['win_rate_b']:.3f} "
            f"[{r['ci'][0]:.3f}, {r['ci'][1]:.3f}], p = {r['p_value']:.4f} over {r['shoppers']} shoppers"
        )
    lines = [f"{results['experiment']} ({results['status']}), control: {results['control']}"]
    lines.append(f"{'arm':<14}{'shoppers':>9}{'lists':>8}{'shown':>9}  CTR [95% CI]             lift vs control")
    for name, arm in results["arms"].items():
        ctr = arm["ctr"]
        lift = results["lift"].get(name, {}).get("ctr")
        lift_text = (
            f"{lift['relative']:+.1%} [{lift['ci'][0]:+.1%}, {lift['ci'][1]:+.1%}] p={lift['p_value']:.4f}"
            if lift
            else "-"
        )
        lines.append(
            f"{name:<14}{arm['shoppers']:>9}{arm['lists']:>8}{arm['impressions']:>9}  "
            f"{ctr['value']:.4f} [{ctr['ci'][0]:.4f}, {ctr['ci'][1]:.4f}]  {lift_text}"
        )
    srm = results.get("sample_ratio")
    if srm:
        verdict = "ok" if srm["ok"] else "SAMPLE RATIO MISMATCH: the split is broken, do not trust these figures"
        lines.append(f"sample ratio check: chi2 {srm['chi2']:.2f}, p = {srm['p_value']:.4f}: {verdict}")
    return "\n".join(lines)
