"""The main database's tables, indexes and triggers, as SQL text.

Why a module of its own: the schema is what every other part of the store reads and writes, and what a
reader checks first; the code that changes an existing file to match it lives in ``migrations.py``.
"""

from __future__ import annotations

FIRST_TASK_ID = 1_000_001

SCHEMA = """
CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL);  -- GET /_mock/health writes here
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    password TEXT NOT NULL,
    userid TEXT NOT NULL DEFAULT '',
    balance TEXT NOT NULL DEFAULT '0',
    pay_type TEXT NOT NULL DEFAULT 'prepaid',
    prices TEXT NOT NULL DEFAULT '{}',
    segment_limit INTEGER NOT NULL DEFAULT 10,
    bind_ips TEXT NOT NULL DEFAULT '',
    stopped INTEGER NOT NULL DEFAULT 0,
    strict_auth INTEGER NOT NULL DEFAULT 0,
    can_read_reports INTEGER NOT NULL DEFAULT 1,
    push_url TEXT NOT NULL DEFAULT '',
    sensitive_words TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    via TEXT NOT NULL,
    content TEXT NOT NULL,
    ext_number TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    send_at REAL NOT NULL,
    scheduled INTEGER NOT NULL DEFAULT 0,
    recipients INTEGER NOT NULL,
    billing_count INTEGER NOT NULL,
    billing_amount TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    account TEXT NOT NULL,
    mobile TEXT NOT NULL,
    country TEXT NOT NULL,
    segments INTEGER NOT NULL,
    price TEXT NOT NULL,
    amount TEXT NOT NULL,
    status TEXT NOT NULL,
    report_due_at REAL,
    report_status INTEGER,
    report_errorcode TEXT,
    reply_text TEXT
);
CREATE INDEX IF NOT EXISTS messages_task ON messages(task_id);
CREATE INDEX IF NOT EXISTS messages_mobile ON messages(account, mobile);
CREATE INDEX IF NOT EXISTS messages_due ON messages(status, report_due_at);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    mobile TEXT NOT NULL,
    status INTEGER NOT NULL,
    errorcode TEXT NOT NULL,
    extno TEXT NOT NULL DEFAULT '',
    receive_time REAL NOT NULL,
    consumed INTEGER NOT NULL DEFAULT 0,
    route TEXT NOT NULL DEFAULT 'pull',  -- pull: the pull queue; push: a push batch owns it (batch_id)
    batch_id INTEGER                     -- the push batch (kept after a failed batch returns it to pull)
);
CREATE INDEX IF NOT EXISTS reports_queue ON reports(account, consumed, id);
CREATE TABLE IF NOT EXISTS uplinks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    mobile TEXT NOT NULL,
    task_id INTEGER,
    content TEXT NOT NULL,
    extno TEXT NOT NULL DEFAULT '',
    receive_time REAL NOT NULL,
    consumed INTEGER NOT NULL DEFAULT 0,
    route TEXT NOT NULL DEFAULT 'pull',
    batch_id INTEGER
);
CREATE INDEX IF NOT EXISTS uplinks_queue ON uplinks(account, consumed, id);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS push_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,              -- statusbox (reports) | callbox (uplinks)
    url TEXT NOT NULL,
    items INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | sending | delivered | returned (to the pull queue)
    tries INTEGER NOT NULL DEFAULT 0,
    next_try_at REAL NOT NULL,       -- platform time (moves with the virtual clock)
    claimed_by TEXT,                 -- the runner pushing it now
    claim_expires REAL,              -- wall time after which an unfinished claim may be taken over
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS push_batches_due ON push_batches(state, next_try_at);
CREATE TABLE IF NOT EXISTS push_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id INTEGER NOT NULL,
    account TEXT NOT NULL,
    url TEXT NOT NULL,
    try_no INTEGER NOT NULL,
    outcome TEXT NOT NULL,           -- sending | delivered | delivered_other | error | connect_error | timeout | interrupted
    http_status INTEGER,
    duration_ms REAL,
    at REAL NOT NULL,                -- platform time of the try
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS push_attempts_batch ON push_attempts(batch_id, id);
CREATE TABLE IF NOT EXISTS warnings (  -- conformance warnings (core/conformance.py): diagnostics, not money
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,                -- platform time
    account TEXT NOT NULL DEFAULT '',
    task_id INTEGER,                 -- the send it was found on, when the send was accepted
    via TEXT NOT NULL,
    code TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS warnings_task ON warnings(task_id);
CREATE TABLE IF NOT EXISTS send_counters (  -- the vendor's sending limits (core/sendlimits.py): one row per number
    account TEXT NOT NULL,
    mobile TEXT NOT NULL,            -- the international form (country code first), as scenario rules match it
    day TEXT NOT NULL,               -- the platform-zone date `sent` counts (YYYY-MM-DD)
    sent INTEGER NOT NULL,           -- messages accepted for this number on `day`
    code_count INTEGER NOT NULL DEFAULT 0,  -- its rows in code_sends: sends with 验证码 not yet out of the window
    PRIMARY KEY (account, mobile)
);
CREATE TABLE IF NOT EXISTS code_sends (  -- one row per send with 验证码 to a number, until it leaves the window
    account TEXT NOT NULL,
    mobile TEXT NOT NULL,
    time REAL NOT NULL               -- platform time
);
CREATE INDEX IF NOT EXISTS code_sends_window ON code_sends(account, mobile, time);
CREATE TABLE IF NOT EXISTS pruned_totals (  -- what retention removed, summed: the books' totals stay exact
    metric TEXT NOT NULL,            -- sends | messages | segments | charged | push_attempts | warnings
    account TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL DEFAULT '',  -- push_attempts: the outcome; warnings: the code
    value TEXT NOT NULL,             -- a whole number, or decimal text (charged)
    PRIMARY KEY (metric, account, label)
);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL         -- wall time
);
CREATE TABLE IF NOT EXISTS faults (  -- injected faults (faults/decision.py reads and fires them)
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint TEXT NOT NULL,          -- soap | send | status | call | pwd | domestic | * | a path such as /pwd.aspx
    kind TEXT NOT NULL,              -- see faults/rules.py KINDS
    value TEXT,                      -- latency: milliseconds; code: a ResultCode name
    remaining INTEGER,               -- NULL = unlimited; a fault at 0 is spent (kept so hits stay visible)
    probability REAL NOT NULL DEFAULT 1.0,
    hits INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    last_hit REAL
);
CREATE TABLE IF NOT EXISTS generation (  -- bumped by the triggers below: what the per-worker caches check
    id INTEGER PRIMARY KEY CHECK (id = 0),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO generation (id, value) VALUES (0, 0);
"""

#: The account columns a worker may cache (every one but the balance, which every send changes): an UPDATE that
#: sets any of them bumps the generation (POST_MIGRATION's triggers); a debit, which sets the balance only, does not.
CACHED_ACCOUNT_COLUMNS = (
    "name",
    "password",
    "userid",
    "pay_type",
    "prices",
    "segment_limit",
    "bind_ips",
    "stopped",
    "strict_auth",
    "strict",
    "can_read_reports",
    "push_url",
    "sensitive_words",
    "created_at",
    "limits",
    "code_limit",
    "code_window",
    "daily_limit",
)
POST_MIGRATION = """
CREATE INDEX IF NOT EXISTS reports_task ON reports(task_id);
CREATE INDEX IF NOT EXISTS uplinks_task ON uplinks(task_id);
CREATE INDEX IF NOT EXISTS reports_batch ON reports(batch_id);
CREATE INDEX IF NOT EXISTS uplinks_batch ON uplinks(batch_id);
CREATE INDEX IF NOT EXISTS reports_unbatched ON reports(id) WHERE route='push' AND batch_id IS NULL;
CREATE INDEX IF NOT EXISTS uplinks_unbatched ON uplinks(id) WHERE route='push' AND batch_id IS NULL;
""" + "".join(
    f"CREATE TRIGGER IF NOT EXISTS {table}_{event.split()[0].lower()}_generation AFTER {event} ON {table} "
    "BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;\n"
    for table, events in (
        # every column of an account but its balance: a send's debit must not empty every worker's cache
        ("accounts", ("INSERT", "DELETE", "UPDATE OF " + ", ".join(CACHED_ACCOUNT_COLUMNS))),
        ("settings", ("INSERT", "DELETE", "UPDATE")),
        ("faults", ("INSERT", "DELETE", "UPDATE")),
    )
    for event in events
)


# Tables a reset empties; accounts are reseeded, the runner's lease is left alone. "journal" is the table of a
# database made by an older version, which kept the request journal in the main file.
RESET_TABLES = (
    "push_attempts",
    "push_batches",
    "reports",
    "uplinks",
    "messages",
    "tasks",
    "journal",
    "faults",
    "warnings",
    "send_counters",
    "code_sends",
    "pruned_totals",
)
