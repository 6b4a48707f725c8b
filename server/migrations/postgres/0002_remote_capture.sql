-- PostgreSQL twin of migrations/sqlite/0002_remote_capture.sql: the same schema, with BIGINT / DOUBLE PRECISION / BYTEA
-- where SQLite has INTEGER / REAL / BLOB (the server reads every integer as i64, every real as f64).
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
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    captured_at       BIGINT,
    notified_at       BIGINT,
    liveness_mode     TEXT NOT NULL,
    face_quality      DOUBLE PRECISION,
    eye_distance      DOUBLE PRECISION,
    liveness_decision TEXT,
    liveness_score    DOUBLE PRECISION,
    liveness_feedback TEXT NOT NULL DEFAULT '[]',
    spoof_attempts    BIGINT NOT NULL DEFAULT 0,
    decided_by        TEXT,
    decided_at        BIGINT,
    reason            TEXT
);
CREATE INDEX remote_captures_open ON remote_captures(status) WHERE status IN ('AWAITING_CAPTURE', 'AWAITING_APPROVAL');

-- The stored capture (ISO/IEC 19794-5 face crop as PNG), one row per biometric index.
CREATE TABLE remote_capture_images (
    tguid      TEXT NOT NULL REFERENCES remote_captures(tguid) ON DELETE CASCADE,
    idx        BIGINT NOT NULL,
    format     TEXT NOT NULL,
    width      BIGINT NOT NULL,
    height     BIGINT NOT NULL,
    resolution BIGINT,
    content    BYTEA NOT NULL,
    PRIMARY KEY (tguid, idx)
);
