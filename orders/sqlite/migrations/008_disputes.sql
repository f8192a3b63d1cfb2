-- Disputes (chargebacks), one row per (shop, gateway, gateway dispute id). reminded_days
-- records the smallest deadline reminder sent (7, then 2; 0 for none), so that each
-- reminder goes once.
CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    payment_id TEXT NOT NULL REFERENCES payments (id),
    gateway TEXT NOT NULL,
    gateway_dispute_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'won', 'lost')),
    reason TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    evidence_due_at INTEGER,
    reminded_days INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER,
    UNIQUE (shop_id, gateway, gateway_dispute_id)
) STRICT;

CREATE INDEX disputes_order ON disputes (shop_id, order_id);
CREATE INDEX disputes_shop ON disputes (shop_id, id);
CREATE INDEX disputes_due ON disputes (status, evidence_due_at);
