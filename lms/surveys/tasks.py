"""The periodic call for evaluations: on the sweep's minutes, every class that has just ended tells its
attendees (the message centre's evaluation_due), once per class."""
import logging

from ..tasks import app_periodic
from ..tasks.periodic import sweep_due

log = logging.getLogger(__name__)


@app_periodic(sweep_due)
def evaluation_calls() -> None:
    from ..transaction import unit
    from .evaluations import call_for_evaluations

    with unit():
        called = call_for_evaluations()
    if called:
        log.info("%d classes called for evaluations", called)
