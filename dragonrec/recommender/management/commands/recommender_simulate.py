"""`manage.py recommender_simulate`: the closed-loop simulator, same options as bench/closed_loop.py."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from dragonrec.recommender.evaluation import simulator


class Command(BaseCommand):
    help = "Simulate shoppers on a dataset's real sequences against frozen and self-updating policies."

    def add_arguments(self, parser: ArgumentParser) -> None:
        simulator.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        results = simulator.run_from_options(options)
        self.stdout.write(simulator.markdown(results))
