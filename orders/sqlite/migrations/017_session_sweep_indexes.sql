-- The sweep job (auth.Sweep) deletes sessions and sign-in links a week after they
-- expired, were revoked or were used. Without these indexes each of its batches would
-- read the whole table to find the few old rows, while holding the only write lock.
-- A session is revoked once and its expiry never changes, so the indexes cost a write
-- per session at its start and at its sign-out; last_seen_at, which every touch
-- changes, stays unindexed. The partial indexes leave out the many rows still NULL.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX signin_links_expires ON signin_links (expires_at);
CREATE INDEX signin_links_used ON signin_links (used_at) WHERE used_at IS NOT NULL;
