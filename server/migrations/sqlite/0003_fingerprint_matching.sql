-- One fingerprint template per enrolled finger (positions 0-9), written in the same transaction
-- that creates the person, so the in-memory 1:N gallery can always be rebuilt from this table.
-- `template` is the fingerprint engine's own versioned "FPT1" encoding (fingerprint::Template::
-- to_bytes): lossless for everything the matcher uses (ISO 19794-2:2005 rounds angles to 1.4
-- degrees and is only an export format). A template with no minutiae records that the image
-- held no usable print, so start-up does not try it again.
CREATE TABLE finger_templates (
    person_guid TEXT NOT NULL REFERENCES people(person_guid) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    template    BLOB NOT NULL,
    minutiae    INTEGER NOT NULL,
    PRIMARY KEY (person_guid, idx)
);

-- Match details of a transaction: the candidates a verify compared against, or the enrolled
-- person(s) a deduplication search hit. `candidates` is the JSON of wire::search::Candidate[].
CREATE TABLE match_results (
    tguid      TEXT PRIMARY KEY NOT NULL REFERENCES transactions(tguid),
    threshold  REAL NOT NULL,
    candidates TEXT NOT NULL
);
