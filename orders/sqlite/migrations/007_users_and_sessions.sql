-- Dashboard accounts (package auth). A user belongs to one shop; an email is unique
-- within a shop, not across shops. A session keeps only the SHA-256 of the browser's
-- token. Sessions reference their user with (shop_id, user_id), so that a session can
-- never point at another shop's user.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER,
    UNIQUE (shop_id, email),
    UNIQUE (shop_id, id)
) STRICT;

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    shop_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    FOREIGN KEY (shop_id, user_id) REFERENCES users (shop_id, id)
) STRICT;

CREATE INDEX sessions_user ON sessions (shop_id, user_id);
