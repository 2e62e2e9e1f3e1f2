"""`flask --app wsgi worker`: the task queue's consumer (Huey's Consumer), with its periodic work."""
import logging
from typing import Any

import click
from flask import Flask, current_app
from huey.consumer import Consumer, Scheduler


class LookingConsumer(Consumer):
    """Huey's consumer whose scheduler looks at the periodic work every `periodic_seconds` (Huey: 60)."""

    def __init__(self, *args: Any, periodic_seconds: int = 60, **kwargs: Any) -> None:
        self.periodic_seconds = periodic_seconds
        super().__init__(*args, **kwargs)

    def _create_scheduler(self) -> Scheduler:
        scheduler = super()._create_scheduler()
        scheduler.periodic_task_seconds = self.periodic_seconds
        return scheduler


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--workers", "-w", default=2, show_default=True, help="Tasks run at the same time.")
    @click.option("--worker-type", "-k", type=click.Choice(["thread", "process"]), default="thread",
                  show_default=True, help="Threads in this process, or one process per worker.")
    @click.option("--no-periodic", is_flag=True,
                  help="Do not run the periodic work (the sweep, the snapshot, the nightly backup).")
    @click.option("--max-delay", default=2.0, show_default=True, type=float,
                  help="Seconds at most between two looks at an empty queue (SQLite storage polls).")
    def worker_command(workers, worker_type, no_periodic, max_delay):
        """Run the task queue's consumer until stopped (Ctrl-C or SIGINT: after the running tasks end;
        SIGTERM: at once, the running tasks are tried again by the next consumer)."""
        from . import queue

        if queue.immediate:
            raise click.ClickException("TASK_QUEUE=immediate runs every task where it is enqueued: "
                                       "there is nothing for a worker to consume.")
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        logging.getLogger("huey").setLevel(logging.INFO)
        consumer = LookingConsumer(queue, workers=workers, worker_type=worker_type, periodic=not no_periodic,
                                   max_delay=max_delay, check_worker_health=True,
                                   periodic_seconds=current_app.config["PERIODIC_SECONDS"])
        consumer.run()
