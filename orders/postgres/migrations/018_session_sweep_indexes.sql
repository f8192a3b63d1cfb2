-- The sweep job (auth.Sweep) deletes sessions and sign-in links a week after they
-- expired, were revoked or were used. Without these indexes each of its batches would
-- scan the whole table to find the few old rows. Touching a session changes only
-- last_seen_at, which stays unindexed, so touches remain HOT updates (sessions has
-- fillfactor 90 for them); revoking is no longer HOT, once per session. The partial
-- indexes leave out the many rows still NULL. Migrations run in a transaction, so
-- these cannot be built CONCURRENTLY: writes to sessions wait for the build, about a
-- second per million rows.
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX signin_links_expires_idx ON signin_links (expires_at);
CREATE INDEX signin_links_used_idx ON signin_links (used_at) WHERE used_at IS NOT NULL;
