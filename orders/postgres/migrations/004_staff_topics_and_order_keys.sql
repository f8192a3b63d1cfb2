-- The forum topic where staff talk about a conversation (Telegram's
-- message_thread_id in the shop's operator group); 0 until one is opened. The Bot API
-- cannot list topics, so this is the only map from a topic to its customer.
ALTER TABLE conversations ADD COLUMN staff_thread_id bigint NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX conversations_staff_thread ON conversations (shop_id, staff_thread_id)
    WHERE staff_thread_id <> 0;

-- Orders created from a chat command are keyed by the update that asked for them, so
-- that processing the update again finds the order instead of creating another.
CREATE TABLE order_keys (
    shop_id  text NOT NULL,
    key      text COLLATE "C" NOT NULL,
    order_id text COLLATE "C" NOT NULL REFERENCES orders (id),
    PRIMARY KEY (shop_id, key)
);
