"""The baseline of bench/pages.py: a bare Flask route returning a constant."""
from flask import Flask

app = Flask(__name__)


@app.route("/")
def constant():
    return "ok"
