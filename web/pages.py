"""The console's pages: each is a frame its script fills from the JSON API (/api/)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from compute.arithmetic import OPERATIONS
from pyro_objects.web import remote

bp = Blueprint("pages", __name__)

# (endpoint, label) of the navigation, in order; chat comes with the chat issue.
NAVIGATION = [("pages.overview", "Overview"), ("pages.calculator", "Calculator"),
              ("pages.pi", "π"), ("pages.ring", "Ring"), ("pages.chat", "Chat")]


@bp.app_context_processor
def navigation() -> dict:
    return {"navigation": NAVIGATION}


@bp.get("/")
def overview():
    return render_template("overview.html")


@bp.get("/calc")
def calculator():
    return render_template("calc.html", operations=list(OPERATIONS.values()),
                           max_input=remote.MAX_INPUT)


@bp.get("/pi")
def pi():
    return render_template("pi.html")


@bp.get("/ring")
def ring():
    return render_template("ring.html")


@bp.get("/chat")
def chat():
    return render_template("chat.html")


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"))
