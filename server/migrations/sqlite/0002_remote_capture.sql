-- Remote captures: a phone link (one-time token, stored as SHA-256 only) through which the subject
-- captures their own face; an admin then approves (the capture becomes an enrollment transaction
-- with the same tguid) or rejects it with a reason.
CREATE TABLE remote_captures (
    tguid             TEXT PRIMARY KEY NOT NULL,
    kind              TEXT NOT NULL,            -- REMOTE_ENROLL | REMOTE_VERIFY
    status            TEXT NOT NULL,            -- AWAITING_CAPTURE | AWAITING_APPROVAL | APPROVED | REJECTED | EXPIRED
    token_hash        TEXT NOT NULL UNIQUE,
    client_id         TEXT NOT NULL,
    operator_id       TEXT NOT NULL,
    client_email      TEXT,
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    captured_at       INTEGER,
    notified_at       INTEGER,
    liveness_mode     TEXT NOT NULL,
    face_quality      REAL,
    eye_distance      REAL,
    liveness_decision TEXT,
    liveness_score    REAL,
    liveness_feedback TEXT NOT NULL DEFAULT '[]',
    spoof_attempts    INTEGER NOT NULL DEFAULT 0,
    decided_by        TEXT,
    decided_at        INTEGER,
    reason            TEXT
);
CREATE INDEX remote_captures_open ON remote_captures(status) WHERE status IN ('AWAITING_CAPTURE', 'AWAITING_APPROVAL');

-- The stored capture (ISO/IEC 19794-5 face crop as PNG), one row per biometric index.
CREATE TABLE remote_capture_images (
    tguid      TEXT NOT NULL REFERENCES remote_captures(tguid) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    format     TEXT NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    resolution INTEGER,
    content    BLOB NOT NULL,
    PRIMARY KEY (tguid, idx)
);
