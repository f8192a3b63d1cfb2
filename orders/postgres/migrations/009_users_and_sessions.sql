-- Dashboard accounts (package auth). A user belongs to one shop; an email is unique
-- within a shop, not across shops. A session keeps only the SHA-256 of the browser's
-- token. Sessions reference their user with (shop_id, user_id), so that a session can
-- never point at another shop's user.
CREATE TABLE users (
    id            text COLLATE "C" PRIMARY KEY,
    shop_id       text NOT NULL,
    email         text NOT NULL,
    role          text NOT NULL CHECK (role IN ('owner', 'staff')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL,
    disabled_at   timestamptz,
    UNIQUE (shop_id, email),
    UNIQUE (shop_id, id)
);

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    shop_id      text NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    FOREIGN KEY (shop_id, user_id) REFERENCES users (shop_id, id)
) WITH (fillfactor = 90);

CREATE INDEX sessions_user_idx ON sessions (shop_id, user_id);
