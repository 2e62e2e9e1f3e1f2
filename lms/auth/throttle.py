"""Login throttling and lockout, kept in the database so that every app server agrees.

Two kinds of counter, each one row of `login_throttle`:

- an **account** counts its consecutive failed logins. From LOGIN_ACCOUNT_DELAY_AFTER failures
  on, the next attempt must wait 1, 2, 4 … seconds (at most LOGIN_MAX_DELAY_SECONDS) after the
  previous failure; at LOGIN_ACCOUNT_LOCK_AFTER failures the account is locked for
  LOGIN_ACCOUNT_LOCK_MINUTES. A successful login, a lock lifted by an administrator, a password
  reset or the end of a lock starts the count afresh. With the defaults (delay after 5, lock at
  10 for 15 minutes) an account takes at most 40 failures an hour (OWASP ASVS 2.2.1: at most 100).
- a client **address** (an IPv6 address counts as its /64 network) counts every failure from it,
  whether or not the username exists, in a window of LOGIN_ADDRESS_WINDOW_MINUTES that starts at
  its first failure: slowed from LOGIN_ADDRESS_DELAY_AFTER failures, locked at
  LOGIN_ADDRESS_LOCK_AFTER for LOGIN_ADDRESS_LOCK_MINUTES. A successful login does not reset it
  (one valid account must not buy an attacker fresh guesses at others).

An attempt made while slowed or locked is refused without checking the password and is not
counted. An unknown username counts against the address only, so it is answered exactly like a
wrong password until the address itself is slowed or locked.

Domain functions: they take `now` and never commit.
"""
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import insert_or_ignore
from ..extensions import db
from .models import LoginThrottle, User

STALE_AFTER = timedelta(days=1)  # address rows idle this long (and not locked) are deleted


@dataclass(frozen=True)
class Policy:
    delay_after: int
    lock_after: int
    lock_minutes: int
    window_minutes: int | None  # None: consecutive failures, however far apart
    max_delay: int

    def delay(self, failures: int) -> int:
        """Seconds the next attempt must wait after `failures` live failures."""
        if failures < self.delay_after:
            return 0
        return min(2 ** (failures - self.delay_after), self.max_delay)


def account_policy() -> Policy:
    c = current_app.config
    return Policy(c["LOGIN_ACCOUNT_DELAY_AFTER"], c["LOGIN_ACCOUNT_LOCK_AFTER"], c["LOGIN_ACCOUNT_LOCK_MINUTES"],
                  None, c["LOGIN_MAX_DELAY_SECONDS"])


def address_policy() -> Policy:
    c = current_app.config
    return Policy(c["LOGIN_ADDRESS_DELAY_AFTER"], c["LOGIN_ADDRESS_LOCK_AFTER"], c["LOGIN_ADDRESS_LOCK_MINUTES"],
                  c["LOGIN_ADDRESS_WINDOW_MINUTES"], c["LOGIN_MAX_DELAY_SECONDS"])


def address_key(remote_addr: str | None) -> str:
    """The counter key of a client address: IPv4 as is, IPv6 as its /64 network."""
    try:
        ip = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def live_failures(row: LoginThrottle | None, policy: Policy, now: datetime) -> int:
    """Failures that still count: none after a lock has ended or the window has passed."""
    if row is None or not row.failures:
        return 0
    if row.locked_until is not None and row.locked_until <= now:
        return 0
    if policy.window_minutes and row.window_start is not None \
            and row.window_start <= now - timedelta(minutes=policy.window_minutes):
        return 0
    return row.failures


def retry_at(row: LoginThrottle | None, policy: Policy, now: datetime) -> datetime | None:
    """When the next attempt may be made, or None when it may be made now."""
    if row is None:
        return None
    if row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    wait = policy.delay(live_failures(row, policy, now))
    if wait and row.last_failure_at is not None and row.last_failure_at + timedelta(seconds=wait) > now:
        return row.last_failure_at + timedelta(seconds=wait)
    return None


@dataclass(frozen=True)
class Block:
    until: datetime
    locked: bool  # a lock (minutes), not a short slow-down (seconds)
    account: bool  # the account's lock (an administrator may lift it), not the address's


def _account_row(user_id: int) -> LoginThrottle | None:
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.user_id == user_id))


def _address_row(address: str) -> LoginThrottle | None:
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.address == address))


def blocked(address: str, user_id: int | None, now: datetime) -> Block | None:
    """Whether an attempt now, from `address` on account `user_id` (None: unknown username),
    must be refused without checking the password; the latest of the two waits wins."""
    found = []
    for row, policy, is_account in ((_address_row(address), address_policy(), False),
                                    (_account_row(user_id) if user_id else None, account_policy(), True)):
        until = retry_at(row, policy, now)
        if until is not None:
            locked = row is not None and row.locked_until is not None and row.locked_until > now

            found.append(Block(until, locked, is_account))
    return max(found, key=lambda b: b.until) if found else None


def _get_for_update(*, user_id: int | None = None, address: str | None = None) -> LoginThrottle:
    """The counter row, created when missing, locked until the transaction ends
    (PostgreSQL: FOR UPDATE; SQLite: the request's BEGIN IMMEDIATE already serialises writers)."""
    insert_or_ignore(LoginThrottle, user_id=user_id, address=address, failures=0)
    key = LoginThrottle.user_id == user_id if user_id is not None else LoginThrottle.address == address
    return db.session.scalars(select(LoginThrottle).where(key).with_for_update()
                              .execution_options(populate_existing=True)).one()


def _count(row: LoginThrottle, policy: Policy, now: datetime) -> None:
    failures = live_failures(row, policy, now)
    if failures == 0:
        row.window_start = now
        row.locked_until = None
    row.failures = failures + 1
    row.last_failure_at = now
    if row.failures >= policy.lock_after:
        row.locked_until = now + timedelta(minutes=policy.lock_minutes)


def record_failure(address: str, user_id: int | None, now: datetime) -> Block | None:
    """Count a failed login against the address and, when the username exists, the account.
    Returns the lock this failure caused, if any (the account's first)."""
    result = None
    if user_id is not None:
        row = _get_for_update(user_id=user_id)
        _count(row, account_policy(), now)
        if row.locked_until is not None:
            result = Block(row.locked_until, True, True)
    row = _get_for_update(address=address)
    _count(row, address_policy(), now)
    if result is None and row.locked_until is not None:
        result = Block(row.locked_until, True, False)
    db.session.execute(delete(LoginThrottle).where(
        LoginThrottle.address.is_not(None), LoginThrottle.last_failure_at < now - STALE_AFTER,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now)))
    db.session.flush()
    return result


def record_success(user: User) -> None:
    """A successful login starts the account's count afresh (the address keeps its count)."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.user_id == user.id))


def lift(user: User) -> None:
    """An administrator lifts the account's lock (and its slow-down)."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.user_id == user.id))


@dataclass(frozen=True)
class AccountState:
    failures: int
    last_failure_at: datetime | None
    locked_until: datetime | None  # set while the account is locked

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def account_state(user: User, now: datetime) -> AccountState | None:
    """What the account page shows: failures since the last successful login and any lock."""
    row = _account_row(user.id)
    failures = live_failures(row, account_policy(), now)
    if row is None or failures == 0 and not (row.locked_until and row.locked_until > now):
        return None
    locked = row.locked_until if row.locked_until and row.locked_until > now else None
    return AccountState(failures, row.last_failure_at, locked)


_DUMMY_HASH = None


def check_unknown_user(password: str) -> None:
    """Spend the time of one password check when the username does not exist, so that the
    response time does not tell whether it does."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash("not-a-real-password")
    check_password_hash(_DUMMY_HASH, password)
