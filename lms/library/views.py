"""一教五库 pages (being built)."""
from flask import Blueprint

bp = Blueprint("library", __name__, url_prefix="/library")
