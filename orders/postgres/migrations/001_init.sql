-- chatpay's tables. Every table but secrets carries shop_id and every query filters
-- by it, so that one shop never sees another's rows. Identifiers are UUIDv7 text in the
-- "C" collation, so that ordering by id is ordering by creation time on any server.
-- Amounts are bigint minor units; times are timestamptz.
--
-- Rows that are updated on the payment path (orders, attempts, messages, gateway
-- events) leave free space in their pages (fillfactor) and keep the columns those
-- updates change out of indexes, so that Postgres can update them in place (HOT)
-- without touching any index.

CREATE TABLE order_codes (
    shop_id text PRIMARY KEY,
    next    bigint NOT NULL
);

CREATE TABLE conversations (
    id              text COLLATE "C" PRIMARY KEY,
    shop_id         text NOT NULL,
    channel         text NOT NULL,
    external_id     text NOT NULL,
    customer_name   text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    last_inbound_at timestamptz,
    UNIQUE (shop_id, channel, external_id)
);

CREATE TABLE orders (
    id                   text COLLATE "C" PRIMARY KEY,
    shop_id              text NOT NULL,
    code                 text NOT NULL,
    status               text NOT NULL,
    payment_status       text NOT NULL,
    payment_method       text NOT NULL,
    currency             text NOT NULL,
    items                jsonb,
    shipping_fee         bigint NOT NULL,
    total                bigint NOT NULL,
    customer_channel     text NOT NULL DEFAULT '',
    customer_external_id text NOT NULL DEFAULT '',
    customer_name        text NOT NULL DEFAULT '',
    customer_phone       text NOT NULL DEFAULT '',
    conversation_id      text COLLATE "C" REFERENCES conversations (id),
    ship_on_payment      boolean NOT NULL DEFAULT false,
    metadata             jsonb,
    version              bigint NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    paid_at              timestamptz,
    UNIQUE (shop_id, code)
) WITH (fillfactor = 80);

-- ListOrders pages newest first within a shop. A status filter walks the same index:
-- indexing status would make every payment's status change a non-HOT update.
CREATE INDEX orders_shop_id_idx ON orders (shop_id, id);

CREATE TABLE payment_links (
    order_id     text COLLATE "C" PRIMARY KEY REFERENCES orders (id),
    shop_id      text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    sealed_token bytea NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE TABLE attempts (
    id             text COLLATE "C" PRIMARY KEY,
    shop_id        text NOT NULL,
    order_id       text COLLATE "C" NOT NULL REFERENCES orders (id),
    gateway        text NOT NULL,
    session_id     text NOT NULL DEFAULT '',
    amount         bigint NOT NULL,
    currency       text NOT NULL,
    status         text NOT NULL,
    failure_reason text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
) WITH (fillfactor = 80);

-- A gateway session belongs to exactly one attempt; attempts start without one.
CREATE UNIQUE INDEX attempts_session_idx ON attempts (shop_id, gateway, session_id) WHERE session_id <> '';
CREATE INDEX attempts_order_idx ON attempts (shop_id, order_id, id);
-- Reconciliation scans attempts left open, across shops, by age. Not a partial index
-- on the open statuses: status changes would then touch it.
CREATE INDEX attempts_created_idx ON attempts (created_at);

CREATE TABLE payments (
    id              text COLLATE "C" PRIMARY KEY,
    shop_id         text NOT NULL,
    order_id        text COLLATE "C" NOT NULL REFERENCES orders (id),
    attempt_id      text NOT NULL DEFAULT '',
    gateway         text NOT NULL,
    gateway_ref     text NOT NULL DEFAULT '',
    status          text NOT NULL,
    amount          bigint NOT NULL,
    refunded_amount bigint NOT NULL DEFAULT 0,
    currency        text NOT NULL,
    duplicate       boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL
);

CREATE INDEX payments_order_idx ON payments (shop_id, order_id, id);

CREATE TABLE refunds (
    id              text COLLATE "C" PRIMARY KEY,
    shop_id         text NOT NULL,
    order_id        text COLLATE "C" NOT NULL REFERENCES orders (id),
    payment_id      text COLLATE "C" NOT NULL REFERENCES payments (id),
    amount          bigint NOT NULL,
    currency        text NOT NULL,
    status          text NOT NULL,
    reason          text NOT NULL,
    idempotency_key text NOT NULL UNIQUE,
    gateway_ref     text NOT NULL DEFAULT '',
    failure_reason  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE INDEX refunds_order_idx ON refunds (shop_id, order_id, id);
CREATE INDEX refunds_payment_idx ON refunds (shop_id, payment_id);

CREATE TABLE shipments (
    id              text COLLATE "C" PRIMARY KEY,
    shop_id         text NOT NULL,
    order_id        text COLLATE "C" NOT NULL REFERENCES orders (id),
    carrier         text NOT NULL,
    tracking_number text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);

CREATE INDEX shipments_order_idx ON shipments (shop_id, order_id, id);

CREATE TABLE messages (
    id              text COLLATE "C" PRIMARY KEY,
    shop_id         text NOT NULL,
    conversation_id text NOT NULL,
    order_id        text COLLATE "C" NOT NULL DEFAULT '',
    direction       text NOT NULL,
    kind            text NOT NULL,
    text            text NOT NULL,
    buttons         jsonb,
    status          text NOT NULL,
    external_id     text NOT NULL DEFAULT '',
    failure_reason  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz
) WITH (fillfactor = 90);

CREATE INDEX messages_order_idx ON messages (shop_id, order_id, id);

CREATE TABLE notices (
    id         text COLLATE "C" PRIMARY KEY,
    shop_id    text NOT NULL,
    order_id   text NOT NULL DEFAULT '',
    kind       text NOT NULL,
    text       text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX notices_shop_idx ON notices (shop_id, id);

-- Gateway events are deduplicated here, never in Redis: a replay hits the unique key.
CREATE TABLE gateway_events (
    id          text COLLATE "C" PRIMARY KEY,
    shop_id     text NOT NULL,
    gateway     text NOT NULL,
    event_id    text NOT NULL,
    type        text NOT NULL,
    session_id  text NOT NULL DEFAULT '',
    payment_ref text NOT NULL DEFAULT '',
    amount      bigint NOT NULL DEFAULT 0,
    currency    text NOT NULL DEFAULT '',
    reason      text NOT NULL DEFAULT '',
    payload     bytea,
    outcome     text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL,
    UNIQUE (shop_id, gateway, event_id)
) WITH (fillfactor = 90);

-- Instance-wide secrets (the link key, generated demo API keys): the one table that
-- belongs to no shop.
CREATE TABLE secrets (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
