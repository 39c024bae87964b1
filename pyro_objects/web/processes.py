"""The processes `pyro-objects up` supervises, as the Overview's card shows them: read from
the status file `up` names in $UP_STATUS_FILE, each pid checked here."""

from __future__ import annotations

import os

from flask import Blueprint, Flask, current_app, jsonify

from pyro_objects.processes import pid_alive
from pyro_objects.system.supervisor import STATUS_ENV, read_status

bp = Blueprint("processes", __name__)


@bp.get("/api/processes")
def processes():
    """{"supervised": false} without `up`; else up's pid and its processes, each with pid,
    alive, state, up_since, restarts and last_exit."""
    path = current_app.config["UP_STATUS_FILE"]
    status = read_status(path) if path else None
    if status is None:
        return jsonify(supervised=False, processes=[])
    return jsonify(supervised=True, pid=status["pid"], updated=status["updated"],
                   processes=[{**{key: process[key] for key in (
                       "name", "pid", "state", "up_since", "restarts", "last_exit")},
                       "alive": pid_alive(process["pid"])} for process in status["processes"]])


def init_app(app: Flask) -> None:
    app.config.setdefault("UP_STATUS_FILE", os.environ.get(STATUS_ENV))
    app.register_blueprint(bp)
