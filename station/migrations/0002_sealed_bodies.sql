-- From this version on, a capture's SPID request body (`{"data": UserTransaction}`, images in
-- base64) is built once when the capture is stored and sealed as one blob, so a sync only reads,
-- opens and sends it: no per-upload unsealing of each image, base64 and JSON encoding, which cost
-- more CPU than the upload itself on a 2-core station (BENCHMARKS.md). Associated data
-- `body:<id>` binds it to its enrollment.
CREATE TABLE enrollment_bodies (
    enrollment_id TEXT PRIMARY KEY NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    sealed        BLOB NOT NULL
);

-- Rows of `enrollment_images` keep each image's facts for listings. For captures stored from
-- this version on the image itself travels only in the sealed body: `sealed` is empty and
-- `image_bytes` holds the image's size. Older rows keep their sealed image (`image_bytes` NULL)
-- and are still sent by building the body from them.
ALTER TABLE enrollment_images ADD COLUMN image_bytes INTEGER;
