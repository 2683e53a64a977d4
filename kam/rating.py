"""Client rating: status + event + personal = total, and the ranking by it (DOMAIN.md §8).

The rating entries (:class:`~kam.model.RatingEntry`, the ``ratings`` frame of
:func:`kam.model.tables`) are combined like this:

- **status** rating: assigned automatically from the results of work with the client, per
  campaign or event; every status entry counts (they add up);
- **event** rating: assigned once for a given campaign / event; if a campaign has several event
  entries the latest one holds (it corrects the earlier one), and the campaigns add up;
- **personal** rating: assigned once by the manager to flag a priority client; the latest
  personal entry holds.

The **total** is their sum. Every account of the tables is rated (0 without entries).

A special programme (:mod:`kam.programmes`) feeds the event part: applying it writes one event
entry per account it was delivered to, with the programme's id as the campaign and points by
how far it reached the client (:func:`kam.programmes.apply_programme`);
:func:`campaign_points` reads them back.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .errors import InputError, ValidationProblem
from .model import Tables
from .periods import frame_of
from .profitability import account_names

__all__ = ["KINDS", "campaign_points", "client_rating"]

KINDS = ("status", "event", "personal")


def client_rating(t: Tables, *, as_of: date | None = None) -> pd.DataFrame:
    """The rating of every account, ranked from the highest total.

    Returns ``rank`` (1 = highest; equal totals share a rank), ``account_id``, ``name``,
    ``status``, ``event``, ``personal``, ``total`` and ``entries``. ``as_of`` counts only the
    entries made on or before that date.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier, RatingEntry, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), ratings=[
    ...     RatingEntry(kind="status", points=3, on=date(2025, 1, 10), campaign="seminar"),
    ...     RatingEntry(kind="status", points=2, on=date(2025, 3, 1), campaign="mailing"),
    ...     RatingEntry(kind="event", points=4, on=date(2025, 1, 5), campaign="seminar"),
    ...     RatingEntry(kind="personal", points=5, on=date(2025, 2, 1))])
    >>> client_rating(tables([d]))[["status", "event", "personal", "total"]].iloc[0].tolist()
    [5.0, 4.0, 5.0, 14.0]
    """
    r = frame_of(t, "ratings")
    if as_of is not None and not r.empty:
        r = r[~(pd.to_datetime(r["on"]) > pd.Timestamp(as_of)).to_numpy(bool)]
    ids = pd.Index(frame_of(t, "accounts")["account_id"].drop_duplicates().to_numpy(object))
    if not r.empty:
        ids = ids.union(pd.Index(r["account_id"].unique()).astype(object))
    out = pd.DataFrame({"account_id": ids.to_numpy(object)})
    out["name"] = account_names(t, out["account_id"])
    if r.empty:
        for k in (*KINDS, "total"):
            out[k] = 0.0
        out["entries"] = 0
    else:
        kind = r["kind"].astype(object)
        bad = ~kind.isin(KINDS)
        if bad.any():
            first = r[bad.to_numpy()].iloc[0]
            raise InputError([ValidationProblem(
                record=f"{int(bad.sum())} rating entries (e.g. account {first['account_id']})",
                field="kind", message=f"unknown rating kind {first['kind']!r}; valid kinds: "
                                      f"{', '.join(KINDS)}")])
        r = r.assign(kind=kind, points=pd.to_numeric(r["points"]).astype("float64"),
                     on=pd.to_datetime(r["on"]), campaign=r["campaign"].astype(object).fillna(""))
        r = r.sort_values("on", kind="stable")
        status = r[r["kind"] == "status"].groupby("account_id")["points"].sum()
        event = (r[r["kind"] == "event"].drop_duplicates(["account_id", "campaign"], keep="last")
                 .groupby("account_id")["points"].sum())
        personal = (r[r["kind"] == "personal"].drop_duplicates("account_id", keep="last")
                    .set_index("account_id")["points"])
        for k, s in (("status", status), ("event", event), ("personal", personal)):
            out[k] = s.reindex(ids).fillna(0.0).to_numpy()
        out["total"] = out["status"] + out["event"] + out["personal"]
        out["entries"] = r.groupby("account_id").size().reindex(ids).fillna(0).astype(
            "int64").to_numpy()
    out = out.sort_values(["total", "account_id"], ascending=[False, True], ignore_index=True)
    out.insert(0, "rank", out["total"].rank(method="min", ascending=False).astype(np.int64))
    return out


def campaign_points(t: Tables, campaign: str, *, as_of: date | None = None) -> pd.DataFrame:
    """The event points each account holds for one ``campaign`` (a programme's id): its
    latest event entry of that campaign (``account_id``, ``points``, ``on``), accounts without
    one left out.

    >>> from datetime import date
    >>> from kam.model import Account, Dossier, RatingEntry, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), ratings=[
    ...     RatingEntry(kind="event", points=1, on=date(2026, 3, 1), campaign="SEM"),
    ...     RatingEntry(kind="event", points=3, on=date(2026, 3, 12), campaign="SEM")])
    >>> campaign_points(tables([d]), "SEM")["points"].tolist()
    [3.0]
    """
    r = frame_of(t, "ratings")
    cols = ["account_id", "points", "on"]
    if r.empty:
        return pd.DataFrame(columns=cols)
    r = r[((r["kind"].astype(object) == "event") & (r["campaign"] == campaign)).to_numpy(bool)]
    if as_of is not None:
        r = r[~(pd.to_datetime(r["on"]) > pd.Timestamp(as_of)).to_numpy(bool)]
    r = r.assign(points=pd.to_numeric(r["points"]).astype("float64"))
    return (r.sort_values("on", kind="stable").drop_duplicates("account_id", keep="last")[cols]
            .sort_values("account_id", ignore_index=True))
