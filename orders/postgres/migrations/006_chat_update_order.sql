-- Updates of one chat are processed in the order the platform numbered them: chat
-- names the chat an update belongs to ('' when none), and processed_at is set once
-- the handler is done with it. An update waits while an earlier one of its chat is
-- unprocessed.
ALTER TABLE chat_updates ADD COLUMN chat text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE chat_updates ADD COLUMN processed_at timestamptz;
CREATE INDEX chat_updates_pending_idx ON chat_updates (shop_id, source, chat, update_id)
    WHERE processed_at IS NULL;
