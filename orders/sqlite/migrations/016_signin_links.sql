-- One-time sign-in links (package auth): the demo shop's owner gets one at start-up.
-- Only the SHA-256 of the token is kept; used_at spends the link.
CREATE TABLE signin_links (
    token_hash BLOB PRIMARY KEY,
    shop_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    FOREIGN KEY (shop_id, user_id) REFERENCES users (shop_id, id)
) STRICT;
