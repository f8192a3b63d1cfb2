-- Platforms that do not number their updates (Messenger: a message's mid, a comment's
-- id) are recorded once per event_key; their update_id is then chatpay's own, taken
-- from chat_offsets.next, which such sources use as a sequence (they are never
-- polled).
ALTER TABLE chat_updates ADD COLUMN event_key text COLLATE "C";
CREATE UNIQUE INDEX chat_updates_event_key_idx ON chat_updates (shop_id, source, event_key)
    WHERE event_key IS NOT NULL;
