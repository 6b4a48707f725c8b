-- One row per enrollment captured at this station. `id` doubles as the Idempotency-Key sent to
-- the server, so a resend after a crash can never create a second person.
CREATE TABLE enrollments (
    id              TEXT PRIMARY KEY NOT NULL,
    state           TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    operator_id     TEXT NOT NULL,
    captured_at     INTEGER NOT NULL,
    -- biographics + missing biometrics, JSON, sealed with the station key (personal data)
    sealed_details  BLOB NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    server_tguid    TEXT,
    server_status   TEXT,
    server_code     TEXT,
    server_message  TEXT,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX enrollments_due ON enrollments(state, next_attempt_at);

-- Captured images, each sealed (XChaCha20-Poly1305) with the enrollment id and index as
-- associated data, so a blob cannot be swapped onto another person or finger unnoticed.
CREATE TABLE enrollment_images (
    enrollment_id TEXT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    resolution    INTEGER,
    sealed        BLOB NOT NULL,
    PRIMARY KEY (enrollment_id, idx)
);

-- Every state change, for `queue show` and for support.
CREATE TABLE enrollment_events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id TEXT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    detail        TEXT
);
CREATE INDEX enrollment_events_id ON enrollment_events(enrollment_id, seq);
