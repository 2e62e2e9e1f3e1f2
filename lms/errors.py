"""The one base type of the errors domain rules raise for the user to read."""


class DomainError(ValueError):
    """A rule refused what was asked; `str(exc)` (also `exc.message`) is a translated sentence for the user.

    The request's writes are never committed after one (lms/transaction.py): a view that catches it
    calls `transaction.discard()` and shows the message (a flash and a redirect, or the form again);
    one that a view does not catch is rolled back, flashed and sent back by the app's error handler.

    `keeps_flushed`: a subclass sets it when what its rule flushed before refusing is a record that
    must stay (the 代签到 flag of training.rules.ProxyCheckinError): the view that catches it does not
    discard, and the app's handler of uncaught ones does not either, so the request commits as usual.
    """

    keeps_flushed = False

    @property
    def message(self) -> str:
        return str(self)
