-- Operators log in with document (user name) + password; admins manage them.
CREATE TABLE operators (
    document      TEXT PRIMARY KEY NOT NULL,
    status        TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT,
    tguid         TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Bearer tokens are stored as SHA-256 of the secret, never the secret itself.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    document   TEXT NOT NULL REFERENCES operators(document),
    role       TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_document ON tokens(document);

-- Every enroll / verify / delete is a transaction with a TGUID the client polls.
CREATE TABLE transactions (
    tguid           TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    message         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    operator_id     TEXT NOT NULL,
    client_timestamp INTEGER,
    biographics     TEXT NOT NULL DEFAULT '[]',
    missing         TEXT NOT NULL DEFAULT '[]',
    person_guid     TEXT,
    submitted_by    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX transactions_pending ON transactions(status) WHERE status IN ('ENROLL_ENQUEUED', 'ENROLL_PENDING');
CREATE INDEX transactions_user ON transactions(user_id);

-- The client's Idempotency-Key, with a hash of the body it came with.
CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY NOT NULL,
    body_sha256 TEXT NOT NULL,
    tguid       TEXT NOT NULL REFERENCES transactions(tguid),
    created_at  INTEGER NOT NULL
);

-- Images as received (PNG / JPEG / WSQ bytes), one row per biometric index.
CREATE TABLE biometrics (
    tguid      TEXT NOT NULL REFERENCES transactions(tguid) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    format     TEXT NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    resolution INTEGER,
    content    BLOB NOT NULL,
    PRIMARY KEY (tguid, idx)
);

-- A person exists once an enrollment is accepted; user_id is the search key (CPF).
CREATE TABLE people (
    person_guid  TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL UNIQUE,
    tguid        TEXT NOT NULL REFERENCES transactions(tguid),
    enroll_status TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

-- Deletions keep who/when/what for audit; the biometrics themselves are gone.
CREATE TABLE deletions (
    tguid       TEXT PRIMARY KEY NOT NULL REFERENCES transactions(tguid),
    user_id     TEXT NOT NULL,
    person_guid TEXT NOT NULL,
    motive      TEXT,
    deleted_by  TEXT NOT NULL,
    deleted_at  INTEGER NOT NULL
);
