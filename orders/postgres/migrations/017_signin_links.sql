-- One-time sign-in links (package auth): the demo shop's owner gets one at start-up.
-- Only the SHA-256 of the token is kept; used_at spends the link.
CREATE TABLE signin_links (
    token_hash bytea PRIMARY KEY,
    shop_id    text NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    FOREIGN KEY (shop_id, user_id) REFERENCES users (shop_id, id)
);
