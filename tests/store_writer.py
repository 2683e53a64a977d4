"""One writer process of the concurrency test (``tests/test_store_concurrency.py``).

``main(location, writer, saves, every)`` (or ``python tests/store_writer.py LOCATION WRITER SAVES
EVERY``) saves ``SAVES`` times: every
``EVERY``-th save appends the token ``w<WRITER>:<i>;`` to the notes of the shared account
``SHARED`` (reloading and retrying after a short random pause on ``StaleRevision``), the others
append it to the writer's own account ``W<WRITER>``. It prints one JSON line: the tokens each
save stored, every
``StaleRevision`` seen (based on, newest) and any other error.
"""

from __future__ import annotations

import json
import random
import sys
import time
import traceback

from kam.errors import StaleRevision
from kam.model import Dossier
from kam.store import Workspace


def main(location: str, writer: int, saves: int, every: int) -> dict[str, object]:
    shared: list[str] = []
    own: list[str] = []
    stale: list[dict[str, object]] = []
    errors: list[str] = []
    rng = random.Random(writer)
    ws = Workspace(location)
    # As one person editing: the dossier stays open between saves (a save leaves it based on
    # the revision it wrote); it is loaded again only when someone else saved in between.
    open_: dict[str, Dossier] = {}
    try:
        for i in range(saves):
            token = f"w{writer}:{i};"
            key = "SHARED" if i % every == 0 else f"W{writer}"
            while True:
                d = open_.get(key) or ws.load(key)
                edited = d.model_copy(deep=True)
                edited._loaded_from = d._loaded_from
                edited.account.notes = (d.account.notes or "") + token
                try:
                    ws.save(edited, author=f"w{writer}", message=token)
                except StaleRevision as e:
                    stale.append({"account": key, "based_on": e.based_on, "head": e.head})
                    open_.pop(key, None)
                    time.sleep(rng.uniform(0, 0.02))  # back off, as a client would, and retry
                    continue
                open_[key] = edited
                break
            (shared if key == "SHARED" else own).append(token)
    except Exception:  # reported to the test, which fails on any
        errors.append(traceback.format_exc())
    finally:
        ws.close()
    return {"writer": writer, "shared": shared, "own": own, "stale": stale, "errors": errors}


if __name__ == "__main__":
    loc, w, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(main(loc, w, n, k)))
