-- chatpay's schema on SQLite. Every tenant-owned table carries shop_id and every query
-- filters by it. Times are INTEGER unix microseconds (UTC), amounts INTEGER minor
-- units, lists and maps JSON text. Optional references (an order's conversation, a
-- notice's order) are NULL rather than '' so that foreign keys hold.

-- order_codes holds each shop's last issued order number.
CREATE TABLE order_codes (
    shop_id TEXT PRIMARY KEY,
    last_code INTEGER NOT NULL
) STRICT;

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_inbound_at INTEGER,
    UNIQUE (shop_id, channel, external_id)
) STRICT;

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    payment_status TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    currency TEXT NOT NULL,
    items TEXT NOT NULL,
    shipping_fee INTEGER NOT NULL,
    total INTEGER NOT NULL,
    customer_channel TEXT NOT NULL,
    customer_external_id TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    customer_phone TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations (id),
    ship_on_payment INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    paid_at INTEGER,
    UNIQUE (shop_id, code)
) STRICT;

-- ListOrders pages by ID (UUIDv7, time-ordered) within a shop, optionally by status.
CREATE INDEX orders_shop_id ON orders (shop_id, id);
CREATE INDEX orders_shop_status_id ON orders (shop_id, status, id);

CREATE TABLE payment_links (
    order_id TEXT PRIMARY KEY REFERENCES orders (id),
    shop_id TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    sealed_token BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    gateway TEXT NOT NULL,
    session_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- A gateway session belongs to one attempt; attempts wait for theirs with ''.
CREATE UNIQUE INDEX attempts_session ON attempts (shop_id, gateway, session_id) WHERE session_id <> '';
CREATE INDEX attempts_order ON attempts (shop_id, order_id, created_at);
CREATE INDEX attempts_open ON attempts (created_at) WHERE status IN ('created', 'pending');

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    attempt_id TEXT NOT NULL,
    gateway TEXT NOT NULL,
    gateway_ref TEXT NOT NULL,
    status TEXT NOT NULL,
    amount INTEGER NOT NULL,
    refunded_amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    duplicate INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX payments_order ON payments (shop_id, order_id, created_at);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    payment_id TEXT NOT NULL REFERENCES payments (id),
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    gateway_ref TEXT NOT NULL,
    failure_reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX refunds_order ON refunds (shop_id, order_id, created_at);
CREATE INDEX refunds_payment ON refunds (shop_id, payment_id);

CREATE TABLE shipments (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX shipments_order ON shipments (shop_id, order_id, created_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations (id),
    order_id TEXT REFERENCES orders (id),
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    buttons TEXT NOT NULL,
    status TEXT NOT NULL,
    external_id TEXT NOT NULL,
    failure_reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
) STRICT;

CREATE INDEX messages_order ON messages (shop_id, order_id, created_at);

CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    order_id TEXT REFERENCES orders (id),
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX notices_shop ON notices (shop_id, created_at);

-- Replays of a gateway event are no-ops: the unique key is the deduplication.
CREATE TABLE gateway_events (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    gateway TEXT NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    session_id TEXT NOT NULL,
    payment_ref TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB NOT NULL,
    outcome TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (shop_id, gateway, event_id)
) STRICT;

-- Instance secrets (the link key, the demo shop's API key) belong to no shop.
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
