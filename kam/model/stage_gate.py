"""The stage gate: minimum information per sales stage (DOMAIN.md §1).

An account or a deal may not move into a stage while information that stage requires is missing;
:func:`missing_for_stage` / :func:`missing_for_deal_stage` say exactly what is missing,
:func:`check_stage` / :func:`check_deal_stage` raise.
"""

from __future__ import annotations

from .account import SalesStage
from .base import short_repr
from .deal import Deal, DealOutcome
from .dossier import Dossier

__all__ = [
    "check_deal_stage",
    "check_stage",
    "missing_for_deal_stage",
    "missing_for_stage",
    "recommended_for_stage",
]


def _missing_at(d: Dossier, stage: SalesStage) -> list[str]:
    a = d.account
    active = [p for p in d.persons if p.active]
    missing: list[str] = []
    if stage is SalesStage.LEAD:
        # At least two of {name or contact person, address, phone}.
        have = sum(
            [bool(a.name or active), bool(a.address), bool(a.phone or any(p.phone for p in active))]
        )
        if have < 2:
            missing.append(
                "contact information: at least two of {name or contact person, address, phone} "
                f"(have {have})"
            )
    elif stage is SalesStage.POTENTIAL:
        if not a.address:
            missing.append("address of the account (account.address)")
        if not any(p.position and p.roles for p in active):
            missing.append("a contact person with position and buying-center role (persons)")
    elif stage is SalesStage.SALE:
        if not any(n.product and n.volume is not None and n.wanted_date for n in d.needs):
            missing.append(
                "a need with product/service, volume and wanted delivery date "
                "(needs[].product, .volume, .wanted_date)"
            )
    elif stage is SalesStage.BUYER:
        won = [x for x in d.deals if x.outcome is DealOutcome.WON]
        if not any(x.volume is not None and x.closed_on and x.delivery_terms for x in won):
            missing.append(
                "a won deal with volume, date and delivery terms "
                "(deals[].volume, .closed_on, .delivery_terms)"
            )
    elif stage is SalesStage.REPEAT:
        won = [x for x in d.deals if x.outcome is DealOutcome.WON]
        if len(won) < 2:
            missing.append(f"the deals made: at least two won deals (have {len(won)})")
        if not (a.contract_terms or any(x.contract_terms for x in won)):
            missing.append("contract terms (account.contract_terms or deals[].contract_terms)")
    return missing


def _stage(value: SalesStage | str) -> SalesStage:
    try:
        return SalesStage(value)
    except ValueError:
        names = ", ".join(s.value for s in SalesStage)
        raise ValueError(f"unknown sales stage {short_repr(value)}; the stages are {names}"
                         ) from None


def missing_for_stage(dossier: Dossier, stage: SalesStage | str) -> list[str]:
    """Everything missing for ``dossier`` to be in ``stage`` (requirements are cumulative:
    stage 3 needs what stages 1 and 2 need, plus its own).

    Examples
    --------
    >>> from kam.model import Account, Dossier
    >>> d = Dossier(account=Account(id="ACME", name="Acme Steel", phone="+1 555 0100"))
    >>> missing_for_stage(d, "lead")
    []
    >>> missing_for_stage(d, "potential")  # doctest: +NORMALIZE_WHITESPACE
    ['address of the account (account.address)',
     'a contact person with position and buying-center role (persons)']
    """
    stage = _stage(stage)
    out: list[str] = []
    for s in SalesStage:
        out += _missing_at(dossier, s)
        if s is stage:
            break
    return out


def recommended_for_stage(dossier: Dossier, stage: SalesStage | str) -> list[str]:
    """Information recommended (not required) for a stage: a category from stage 1 on."""
    _stage(stage)
    return [] if dossier.account.category else ["a category (A/B/C) is recommended"]


def check_stage(dossier: Dossier, stage: SalesStage | str | None = None) -> None:
    """Raise :class:`~kam.errors.StageGateError` if ``dossier`` lacks what ``stage`` (default:
    its own sales stage) requires."""
    from ..errors import StageGateError

    stage = _stage(stage or dossier.account.sales_stage)
    missing = missing_for_stage(dossier, stage)
    if missing:
        raise StageGateError(f"Account {dossier.account.id}", stage.value, missing)


# -- deals -----------------------------------------------------------------------------------
def _deal_missing_at(d: Dossier, deal: Deal, stage: SalesStage) -> list[str]:
    need = next((n for n in d.needs if n.id == deal.need), None) if deal.need else None
    missing: list[str] = []
    if stage is SalesStage.POTENTIAL:
        if not any(p.position and p.roles for p in d.persons if p.active):
            missing.append("a contact person with position and buying-center role (persons)")
    elif stage is SalesStage.SALE:
        if not (deal.product or (need and need.product)):
            missing.append("the product/service (deal.product or its need's product)")
        if deal.volume is None and not (need and need.volume is not None):
            missing.append("the volume (deal.volume or its need's volume)")
        if not (deal.expected_close or (need and need.wanted_date)):
            missing.append("the wanted delivery date (deal.expected_close or need.wanted_date)")
    elif stage is SalesStage.BUYER:
        if deal.volume is None:
            missing.append("the volume of the deal (deal.volume)")
        if not deal.closed_on:
            missing.append("the date of the deal (deal.closed_on)")
        if not deal.delivery_terms:
            missing.append("the delivery terms (deal.delivery_terms)")
    elif stage is SalesStage.REPEAT and not (deal.contract_terms or d.account.contract_terms):
        missing.append("the contract terms (deal.contract_terms or account.contract_terms)")
    return missing


def missing_for_deal_stage(
    dossier: Dossier, deal: Deal | str, stage: SalesStage | str
) -> list[str]:
    """What ``deal`` lacks to be in ``stage`` of the five-stage model (cumulative, like
    :func:`missing_for_stage`): a contact with position and role from ``potential`` on; product,
    volume and wanted delivery date from ``sale`` on (the deal's own or its need's); volume, date
    and delivery terms from ``buyer`` on; contract terms for ``repeat``.

    Examples
    --------
    >>> from kam.model import Account, Deal, Dossier
    >>> d = Dossier(account=Account(id="ACME", name="Acme", phone="1"),
    ...             deals=[Deal(id="D1", title="Pumps", product="pump set", volume=4)])
    >>> for item in missing_for_deal_stage(d, "D1", "sale"):
    ...     print(item)
    a contact person with position and buying-center role (persons)
    the wanted delivery date (deal.expected_close or need.wanted_date)
    """
    deal = dossier.deal(deal) if isinstance(deal, str) else deal
    target = _stage(stage)
    out: list[str] = []
    for s in SalesStage:
        out += _deal_missing_at(dossier, deal, s)
        if s is target:
            break
    return out


def check_deal_stage(dossier: Dossier, deal: Deal | str) -> None:
    """Raise :class:`~kam.errors.StageGateError` if ``deal`` lacks what its stage requires.
    Deals whose stage is not one of the five default stages (a CRM's own stages) are not gated."""
    from ..errors import StageGateError

    deal = dossier.deal(deal) if isinstance(deal, str) else deal
    if deal.stage not in _STAGE_VALUES:
        return
    missing = missing_for_deal_stage(dossier, deal, deal.stage)
    if missing:
        raise StageGateError(f"Deal {deal.id} of account {dossier.account.id}", deal.stage, missing)


_STAGE_VALUES = {s.value for s in SalesStage}
