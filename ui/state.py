"""Session-state keys, named once so pages and tests agree on them."""

ACTOR = "outcomes.actor"  # core.access.Actor of the signed-in user
SETUP_CODE_SHOWN = "outcomes.setup_code_shown"
SUBMISSIONS = "outcomes.submissions"  # idempotency keys of forms submitted in this session
PRESENT_SLIDE = "outcomes.present.slide"
PRESENT_PAUSED = "outcomes.present.paused"
FLASH = "outcomes.flash"  # a message to show once after a write and rerun
SESSION_CHECKED = "outcomes.session_checked"  # set on a browser session's first run
SESSION_LOST = "outcomes.session_lost"  # this session stands in for one the server lost
DATA_VERSION = "outcomes.data_version"  # (this run, db.version.DataVersion), read once a run
