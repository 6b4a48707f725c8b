-- When the personal data of a synced enrollment (its request body, images and biographics) was
-- removed from this station by `Queue::purge_synced`; NULL while it is still held. The row and
-- its events stay as the station's record of what it captured and where it went.
ALTER TABLE enrollments ADD COLUMN purged_at INTEGER;
