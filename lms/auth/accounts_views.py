"""Account management for admins and offices: list, detail, create, edit, import, export."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from .. import clock
from ..database import utcnow
from ..extensions import db
from ..imports import Outcome, run_import
from ..orgs.models import OrgUnit
from ..orgs.tree import unit_choices, unit_rows
from ..tabular import download, write_csv, write_template, write_xlsx
from ..tasks.exports import background
from ..transaction import discard
from ..util import Page, count_rows, get_or_404, get_or_none, page_arg
from . import choices, throttle
from .accounts import (
    AccountError,
    create_user,
    generate_password,
    import_workers,
    password_problems,
    update_user,
    worker_columns,
)
from .forms import ConfirmForm, ImportForm, UserForm
from .models import User, UserRole
from .scope import (
    can_manage_user,
    can_see_user,
    ensure_can_manage_user,
    get_in_scope_or_404,
    grantable_roles,
    in_subtree,
    roles_required,
    visible_units,
    visible_users,
)

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _filtered():
    """The viewer's accounts narrowed by the list filters in the query string."""
    stmt = visible_users(current_user)
    q = request.args.get("q", "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.name.like(like), User.username.like(like), User.phone.like(like)))
    unit = get_or_none(OrgUnit, request.args.get("unit", type=int))
    if unit is not None:
        stmt = stmt.where(in_subtree(OrgUnit.path, unit))
    role = request.args.get("role")
    if role in choices.ROLES:
        stmt = stmt.where(User.role_rows.any(UserRole.role == role))
    cert = request.args.get("cert_level")
    if cert in choices.CERT_LEVELS:
        stmt = stmt.where(User.cert_level == cert)
    status = request.args.get("status")
    if status in ("active", "inactive"):
        stmt = stmt.where(User.active.is_(status == "active"))
    return stmt.order_by(OrgUnit.path, User.username)


def _unit_choices():
    return unit_choices(visible_units(current_user))


# What the list shows of each account, read as plain rows (50 accounts with their units and roles as
# ORM objects cost more than the rest of the page).
LIST_COLUMNS = (User.id, User.name, User.username, User.cert_level, User.active, OrgUnit.name.label("unit_name"))


@bp.route("/")
@roles_required("admin", "office")
def index():
    page = Page(_filtered().with_only_columns(*LIST_COLUMNS), page_arg(), 50, rows=True)
    held: dict[int, set[str]] = {}
    if page.items:
        for user_id, role in db.session.execute(select(UserRole.user_id, UserRole.role)
                                                .where(UserRole.user_id.in_([row.id for row in page.items]))):
            held.setdefault(user_id, set()).add(role)
    names = {key: str(label) for key, label in choices.ROLES.items()}
    roles = {row.id: "、".join(names[r] for r in choices.ROLES if r in held.get(row.id, ())) for row in page.items}
    return render_template("accounts/index.html", page=page, roles=roles, units=_unit_choices(), choices=choices)


EXPORT_HEADERS = ("username", "name", "gender", "birth_year", "education", "political_status",
                  "cert_level", "years_in_work", "phone", "org_code")


def _export_rows(users):
    for u in users:
        yield [u.username, u.name, u.label("gender"), u.birth_year, u.label("education"), u.label("political_status"),
               u.label("cert_level"), u.years_in_work, u.phone or "", u.org_unit.code, u.org_unit.name,
               "、".join(u.role_labels), _("Yes") if u.active else _("No")]


@bp.route("/export.<fmt>")
@roles_required("admin", "office")
def export(fmt):
    if fmt not in ("xlsx", "csv"):
        abort(404)
    later = background(count_rows(_filtered()))
    if later is not None:
        return later
    labels = {c.key: str(c.label) for c in worker_columns()}
    headers = [labels[k] for k in EXPORT_HEADERS] + [_("Org unit"), _("Roles"), _("Active")]
    rows = _export_rows(db.session.scalars(_filtered()).unique())
    data = write_csv(headers, rows) if fmt == "csv" else write_xlsx(_("Accounts"), headers, rows)
    return download(data, f"accounts-{clock.today().isoformat()}.{fmt}")


def _load_visible(user_id: int) -> User:
    return get_in_scope_or_404(User, user_id, can_see_user)


def _load_manageable(user_id: int) -> User:
    """An account the viewer sees (404 otherwise) and manages (403 saying why otherwise)."""
    user = _load_visible(user_id)
    ensure_can_manage_user(current_user, user)
    return user


@bp.route("/<int:user_id>")
@roles_required("admin", "office")
def detail(user_id):
    user = _load_visible(user_id)
    return render_template("accounts/detail.html", user=user, can_manage=can_manage_user(current_user, user),
                           form=ConfirmForm(), login_state=throttle.account_state(user, utcnow()))


def _prepare_form(form: UserForm):
    form.org_unit_id.choices = _unit_choices()
    form.roles.choices = [(r, choices.ROLES[r]) for r in grantable_roles(current_user)]


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin", "office")
def create():
    form = UserForm()
    _prepare_form(form)
    if request.method == "GET":
        form.roles.data = ["learner"]
        form.cert_level.data = "none"
    if form.validate_on_submit():
        password = form.password.data or generate_password()
        problems = password_problems(password, form.username.data or "")

        if problems:
            form.password.errors = [*form.password.errors, *problems]
        else:
            try:
                user = create_user(current_user, username=(form.username.data or "").strip(), password=password,
                                   org_unit=get_or_404(OrgUnit, form.org_unit_id.data),
                                   roles=form.roles.data or ["learner"], **form.profile())
                user.active = form.active.data
                user.must_change_password = True
            except AccountError as exc:
                discard()
                flash(str(exc), "danger")
            else:
                if form.password.data:
                    flash(_("Account %(u)s created.", u=user.username), "success")
                else:
                    flash(_("Account %(u)s created with the initial password %(p)s. It must be changed at first login.",
                            u=user.username, p=password), "success")
                return redirect(url_for(".detail", user_id=user.id))
    return render_template("accounts/form.html", form=form, user=None)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required("admin", "office")
def edit(user_id):
    user = _load_manageable(user_id)
    form = UserForm(obj=user)
    _prepare_form(form)
    del form.password
    if request.method == "GET":
        form.roles.data = sorted(user.roles)
    form.username.data = user.username  # usernames do not change
    if form.validate_on_submit():
        try:
            update_user(current_user, user, org_unit=get_or_404(OrgUnit, form.org_unit_id.data),
                        roles=form.roles.data, active=form.active.data, **form.profile())
        except AccountError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for(".detail", user_id=user.id))
    return render_template("accounts/form.html", form=form, user=user)


@bp.route("/<int:user_id>/reset-password", methods=["POST"])
@roles_required("admin", "office")
def reset_password(user_id):
    user = _load_manageable(user_id)
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    user.reset_sessions()
    throttle.lift(user)  # the new password must be usable at once
    flash(_("The new initial password of %(u)s is %(p)s. It must be changed at first login.",
            u=user.username, p=password), "success")
    return redirect(url_for(".detail", user_id=user.id))


@bp.route("/<int:user_id>/unlock", methods=["POST"])
@roles_required("admin", "office")
def unlock(user_id):
    """Lift the lock (or slow-down) that failed logins put on the account."""
    user = _load_manageable(user_id)
    throttle.lift(user)
    flash(_("The login lock of %(u)s has been lifted.", u=user.username), "success")
    return redirect(url_for(".detail", user_id=user.id))


@bp.route("/<int:user_id>/require-password-change", methods=["POST"])
@roles_required("admin", "office")
def require_password_change(user_id):
    """Force a password reset: the user is logged out everywhere and must choose a new
    password at the next login (with the current one; a forgotten one needs a reset)."""
    user = _load_manageable(user_id)
    user.must_change_password = True
    user.reset_sessions()
    flash(_("%(u)s has been logged out everywhere and must choose a new password at the next login.",
            u=user.username), "success")
    return redirect(url_for(".detail", user_id=user.id))


@bp.route("/import", methods=["GET", "POST"])
@roles_required("admin", "office")
def import_view():
    form = ImportForm()
    outcome = Outcome()
    if form.validate_on_submit():
        upload = form.file.data
        outcome = run_import(lambda: import_workers(current_user, upload.read(), upload.filename or ""),
                             lambda created, updated: _("Imported: %(c)d new accounts, %(u)d updated.",
                                                        c=len(created), u=updated))
    created = outcome.results[0] if outcome.results else []
    return render_template("accounts/import.html", form=form, report=outcome.report, created=created)


@bp.route("/import/template.xlsx")
@roles_required("admin", "office")
def import_template():
    cols = worker_columns()
    units = unit_rows(visible_units(current_user).where(OrgUnit.level == "community"))
    notes = [
        [_("Column"), _("What to fill in")],
        [_("Username"), _("Login name: 3–64 letters, digits or . _ @ -. An existing username updates that account.")],
        [_("Gender"), "、".join(str(v) for v in choices.GENDERS.values())],
        [_("Birth year"), _("Four digits, e.g. 1988")],
        [_("Education"), "、".join(str(v) for v in choices.EDUCATION.values())],
        [_("Political status"), "、".join(str(v) for v in choices.POLITICAL_STATUS.values())],
        [_("Certificate level"), "、".join(str(v) for v in choices.CERT_LEVELS.values())],
        [
            _("Org unit code"),
            _("Code of the worker's community, e.g. %(codes)s", codes="、".join(u.code for u in units[:5])),
        ],
        [_("Initial password"), _("Optional. Left empty, a password is generated and shown after the import.")],
    ]
    data = write_template(_("Workers"), cols, notes, units=units)
    return download(data, "workers-template.xlsx")
