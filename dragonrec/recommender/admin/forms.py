"""The experiment admin's forms: validated by the one experiment validation (services.experiments)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from dragonrec.recommender.core.types import SCENARIOS
from dragonrec.recommender.models import (
    Arm,
    Experiment,
)
from dragonrec.recommender.services.experiments import EXPERIMENT_SCENARIOS


class ExperimentForm(forms.ModelForm):
    """The experiment's own fields, checked by the same service as the command and the API
    (services.experiments.experiment_errors); the arms are checked by ArmInlineFormSet."""

    scenarios = forms.MultipleChoiceField(
        choices=[(s, s) for s in EXPERIMENT_SCENARIOS],
        widget=forms.CheckboxSelectMultiple,
        help_text="The lists the experiment runs on.",
    )

    class Meta:
        model = Experiment
        fields = ["name", "kind", "scenarios", "salt", "notes"]

    def clean(self) -> dict[str, Any]:
        from dragonrec.recommender.services.experiments import experiment_errors

        data = super().clean() or {}
        if self.errors:  # a field already refused: its own message says why
            return data
        errors = experiment_errors(
            name=data.get("name") or "",
            scenarios=list(data.get("scenarios") or []),
            kind=data.get("kind") or "",
            exclude_pk=self.instance.pk,
        )
        for field_name, messages_ in errors.items():
            self.add_error(field_name if field_name in self.fields else None, messages_)
        return data


class ArmForm(forms.ModelForm):
    class Meta:
        model = Arm
        fields = ["name", "policy", "share", "overrides", "position"]
        help_texts = {"share": "Fraction of the shoppers, above 0 and at most 1 (0.5 = half); A/B shares add up to 1."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from dragonrec.recommender.services.experiments import policy_choices

        super().__init__(*args, **kwargs)
        # a select from the closed list, not free text: a typo can't be saved
        self.fields["policy"] = forms.ChoiceField(choices=[("", "---------"), *policy_choices()])


class ArmInlineFormSet(BaseInlineFormSet):
    """Checks the arms together through the shared service (services.experiments.arms_errors): each arm's message
    goes beside its field, the ones about all arms (shares adding up to 1) above the arms."""

    def clean(self) -> None:
        from dragonrec.recommender.services.experiments import ArmSpec, arms_errors

        super().clean()
        kept = [
            f
            for f in self.forms
            if getattr(f, "cleaned_data", None) and not self._should_delete_form(f)  # type: ignore[attr-defined]
        ]
        arms = [
            ArmSpec(
                f.cleaned_data.get("name") or "",
                f.cleaned_data.get("policy") or "",
                float(f.cleaned_data["share"]) if f.cleaned_data.get("share") is not None else 0.0,
            )
            for f in kept
        ]
        errors = arms_errors(arms=arms, kind=self.instance.kind)
        general: list[str] = []
        for key, messages_ in errors.items():
            parts = key.split(".")
            if len(parts) == 3:
                form = kept[int(parts[1])]
                if parts[2] not in form.errors:  # a field refused already (a policy not in the select) says why
                    form.add_error(parts[2], messages_)
            else:
                general.extend(messages_)
        if general:
            raise ValidationError(general)


class PreviewForm(forms.Form):
    """Whose list to preview: a shopper, a product page, or a history and preferences stated by hand."""

    scenario = forms.ChoiceField(choices=[(s, s) for s in SCENARIOS], initial="home")
    shopper = forms.CharField(
        required=False, help_text="A username, u:USER_ID, or a session id; empty = a new visitor."
    )
    product_id = forms.IntegerField(required=False, min_value=1, help_text="The product page (scenario product).")
    history = forms.CharField(
        required=False,
        help_text="Instead of the shopper's history: product ids oldest first, e.g. 12, 40:add_to_cart, 7:purchase.",
    )
    categories = forms.CharField(required=False, help_text="Stated preferences: category paths, comma separated.")
    price_min = forms.DecimalField(required=False, min_value=0)
    price_max = forms.DecimalField(required=False, min_value=0)
    n = forms.IntegerField(min_value=1, max_value=100, initial=10)
    request_id = forms.UUIDField(
        required=False, help_text="A served list's request id reproduces its exploration draw (home page)."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scenario") == "product" and not data.get("product_id"):
            self.add_error("product_id", "A product page needs a product.")
        return data
