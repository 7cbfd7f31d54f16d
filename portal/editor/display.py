"""How the editor pages word things: actions in the history, the done messages, moments in time."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_datetime
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import clock
from portal.i18n import current_language, long_date

ACTIONS: dict[str, LazyString] = {
    "publish": _l("Published"),
    "restore": _l("Restored an earlier version"),
    "load": _l("Loaded from the libraries file"),
    "schedule": _l("Scheduled a change of the cut-off date"),
    "unschedule": _l("Cancelled a scheduled change of the cut-off date"),
}

# After a change the page says what happened (?done=<key>; any other value shows nothing).
DONE_MESSAGES: dict[str, LazyString] = {
    "saved": _l("The draft is saved. Citizens do not see it until you publish it: preview it first."),
    "discarded": _l("The draft is discarded. The form shows what citizens see now."),
    "published": _l("Published. Citizens now see the new version."),
    "restored": _l("The earlier version is published again. The restore is recorded in the history."),
    "scheduled": _l("The change of the cut-off date is scheduled. It takes effect by itself."),
    "unscheduled": _l("The scheduled change is cancelled."),
}
# After the tally's one step (?done=cutoff_drafted): names the date the draft now holds.
CUTOFF_DRAFTED = "cutoff_drafted"

# Why the tally's suggested date was not drafted; nothing was saved.
SUGGESTION_REFUSED: dict[str, LazyString] = {
    "changed": _l(
        "The suggested cut-off date has changed since the page was loaded, or there is none any more. "
        "The page now shows the current suggestion, if there is one."
    ),
    "future": _l("The suggested cut-off date is after today. Schedule a later cut-off date instead."),
}


def edit_done_messages(draft_cutoff: date | None) -> dict[str, str | LazyString]:
    """The edit page's done messages; the one after drafting the suggestion only while there is a draft.

    Its date is the draft's own, read from the storage: nothing of the URL is shown.
    """
    messages: dict[str, str | LazyString] = dict(DONE_MESSAGES)
    if draft_cutoff is not None:
        messages[CUTOFF_DRAFTED] = _(
            "The draft now has cut-off date %(date)s. Citizens see it only when you publish.",
            date=long_date(draft_cutoff, current_language()),
        )
    return messages


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def when(moment: datetime) -> str:
    """'21. november 2026 kl. 14.05' / '21 November 2026, 14:05' in Danish time, whatever the server's zone."""
    language = current_language()
    pattern = "d. MMMM y 'kl.' HH.mm" if language == "da" else "d MMMM y, HH:mm"
    return format_datetime(clock.local(moment), pattern, tzinfo=clock.TIMEZONE, locale=language)


def iso_long_date(value: str) -> str:
    """A stored ISO date as '15. juni 2021' / '15 June 2021' (as it was stored, if it is not one)."""
    try:
        return long_date(date.fromisoformat(value), current_language())
    except ValueError:
        return value
