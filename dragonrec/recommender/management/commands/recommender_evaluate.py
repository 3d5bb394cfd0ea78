"""`manage.py recommender_evaluate`: the offline evaluation, same options as bench/evaluate.py.

python manage.py recommender_evaluate --dataset ../shared/data/amazon_beauty --rankers popularity,itemknn
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from dragonrec.recommender.evaluation.harness import DEFAULT_RANKERS, SPLITS, run_evaluation
from dragonrec.recommender.evaluation.report import markdown_report


class Command(BaseCommand):
    help = "Evaluate rankers offline (leave-one-out, full ranking) on a dataset folder; prints the Markdown table."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dataset", required=True, help="dataset folder (items.jsonl + events.csv)")
        parser.add_argument("--rankers", default=",".join(DEFAULT_RANKERS), help="comma-separated ranker names")
        parser.add_argument("--split", default="loo", choices=SPLITS)
        parser.add_argument("--max-users", type=int, default=None, help="evaluate a seeded random sample of users")
        parser.add_argument("--out", default=None, help="output folder (default var/eval/<dataset>)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        results = run_evaluation(
            dataset_path=options["dataset"],
            rankers=[name.strip() for name in options["rankers"].split(",") if name.strip()],
            split=options["split"],
            max_users=options["max_users"],
            out_dir=options["out"],
            seed=options["seed"],
            progress=not options["no_progress"],
        )
        self.stdout.write(markdown_report(results))
        self.stdout.write(self.style.SUCCESS(f"wrote {results['settings']['out_dir']}/results.{{json,md,png}}"))
