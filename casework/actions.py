"""One table of actions for the pages and the API (STYLE.md: no action ladders).

An action is what a user does to an object by name: the workflow it runs, the keyword
arguments that workflow takes from the caller's input, and each surface's input class — the
page's form, and the API's serializer by name (casework/api sits above this module, so the
API looks the name up in its own serializers). Each table names how its objects are found:
the access package's guarded read, so that on both surfaces an object the user may not see
answers 404 before any input is read. Whether the user may take the action is the workflow's
own check (403), the same on both surfaces.

A surface that reads its input its own way (the case page's checklist, the API's assignee
id) turns it into the arguments named here and calls `Action.run`.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from casework import access
from casework.forms import (
    ConsentForm,
    NoteForm,
    PlanForm,
    ReasonForm,
    ReferralDecisionForm,
    TeamForm,
    TransitionForm,
)
from casework.workflows import lifecycle, planning, records, team, transfers
from casework.workflows import referrals as wf

ALL = None  # `takes`: every field of the parsed input


@dataclass(frozen=True)
class Action:
    workflow: Callable
    takes: tuple[str, ...] | None = ()
    form: type | None = None  # the page's input
    body: str | None = None  # the API's input: a serializer of casework.api.serializers
    text: str | None = None  # the argument the page's one text box fills (referral decisions)

    def arguments(self, data: Mapping) -> dict:
        """The workflow's keyword arguments out of parsed input."""
        if self.takes is ALL:
            return dict(data)
        return {name: data[name] for name in self.takes if name in data}

    def run(self, obj, *, by, **data):
        return self.workflow(obj, by=by, **self.arguments(data))


@dataclass(frozen=True)
class Actions:
    """The actions on one kind of object, and the guarded read that finds it: `find(user, pk)`
    answers the object or raises Http404."""

    find: Callable
    table: Mapping[str, Action]

    def __getitem__(self, name: str) -> Action:
        return self.table[name]

    def __contains__(self, name: str) -> bool:
        return name in self.table

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def get(self, name: str) -> Action | None:
        return self.table.get(name)


CASE = Actions(
    find=access.get_visible_case_or_404,
    table={
        "update": Action(records.update_case, ALL, body="CaseUpdateSerializer"),
        "transition": Action(
            lifecycle.transition_case,
            ("to", "reason", "closure_reason", "version"),
            form=TransitionForm,
            body="TransitionSerializer",
        ),
        # The note amended is looked up by each surface among the notes the user may read.
        "note": Action(records.add_note, ALL, form=NoteForm, body="NoteSerializer"),
        "consent": Action(records.record_consent, ALL, form=ConsentForm, body="ConsentSerializer"),
        "plan": Action(planning.create_plan, ALL, form=PlanForm, body="PlanSerializer"),
        "team_add": Action(
            team.add_team_member, ("user", "role"), form=TeamForm, body="TeamAddSerializer"
        ),
        "team_remove": Action(team.remove_team_member, ("user",)),
        "assessment": Action(records.record_assessment, ("instrument", "answers")),
    },
)

PLAN = Actions(
    find=access.get_visible_plan_or_404,
    table={
        "update": Action(planning.update_plan, ALL, body="PlanUpdateSerializer"),
        "submit": Action(planning.submit_plan, ("version",), body="VersionSerializer"),
        "approve": Action(planning.approve_plan, ("version",), body="VersionSerializer"),
        "return": Action(
            planning.return_plan, ("reason",), form=ReasonForm, body="ReasonSerializer"
        ),
        "intervention": Action(planning.add_intervention, ALL, body="InterventionSerializer"),
    },
)

INTERVENTION = Actions(
    find=access.get_visible_intervention_or_404,
    table={"log": Action(planning.log_service, ALL, body="ServiceLogSerializer")},
)

REFERRAL = Actions(
    find=access.get_visible_referral_or_404,
    table={
        "send": Action(
            wf.send_referral, ("version",), form=ReferralDecisionForm, body="VersionSerializer"
        ),
        "open": Action(wf.open_referral, form=ReferralDecisionForm),
        "accept": Action(
            wf.accept_referral,
            ("reasons", "version"),
            form=ReferralDecisionForm,
            body="ReferralAcceptSerializer",
            text="reasons",
        ),
        "decline": Action(
            wf.decline_referral,
            ("reason", "version"),
            form=ReferralDecisionForm,
            body="ReferralReasonSerializer",
            text="reason",
        ),
        "start": Action(
            wf.start_referral, ("version",), form=ReferralDecisionForm, body="VersionSerializer"
        ),
        "complete": Action(
            wf.complete_referral,
            ("outcome", "version"),
            form=ReferralDecisionForm,
            body="ReferralOutcomeSerializer",
            text="outcome",
        ),
        "cancel": Action(
            wf.cancel_referral,
            ("reason", "version"),
            form=ReferralDecisionForm,
            body="ReferralReasonSerializer",
            text="reason",
        ),
        # The assignee is a user each surface looks up from the id it was given.
        "assign": Action(
            wf.assign_referral,
            ("assignee",),
            form=ReferralDecisionForm,
            body="ReferralAssignSerializer",
        ),
    },
)

TRANSFER = Actions(
    find=access.get_visible_transfer_or_404,
    table={
        "accept": Action(transfers.accept_transfer, body="OptionalReasonSerializer"),
        "decline": Action(transfers.decline_transfer, ("reason",), body="OptionalReasonSerializer"),
        "cancel": Action(transfers.cancel_transfer, ("reason",), body="OptionalReasonSerializer"),
    },
)

CLAIM = Actions(
    find=access.get_visible_claim_or_404,
    table={
        "confirm": Action(transfers.confirm_claim, body="OptionalReasonSerializer"),
        "decline": Action(transfers.decline_claim, ("reason",), body="OptionalReasonSerializer"),
    },
)
