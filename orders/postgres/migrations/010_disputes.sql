-- Disputes (chargebacks), one row per (shop, gateway, gateway dispute id). reminded_days
-- records the smallest deadline reminder sent (7, then 2; 0 for none), so that each
-- reminder goes once.
CREATE TABLE disputes (
    id                 text COLLATE "C" PRIMARY KEY,
    shop_id            text NOT NULL,
    order_id           text COLLATE "C" NOT NULL REFERENCES orders (id),
    payment_id         text COLLATE "C" NOT NULL REFERENCES payments (id),
    gateway            text NOT NULL,
    gateway_dispute_id text NOT NULL,
    status             text NOT NULL CHECK (status IN ('open', 'pending', 'won', 'lost')),
    reason             text NOT NULL DEFAULT '',
    amount             bigint NOT NULL,
    currency           text NOT NULL,
    evidence_due_at    timestamptz,
    reminded_days      integer NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    closed_at          timestamptz,
    UNIQUE (shop_id, gateway, gateway_dispute_id)
);

CREATE INDEX disputes_order_idx ON disputes (shop_id, order_id);
CREATE INDEX disputes_shop_idx ON disputes (shop_id, id);
CREATE INDEX disputes_due_idx ON disputes (evidence_due_at) WHERE status = 'open';
