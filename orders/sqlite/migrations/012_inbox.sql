-- The dashboard's inbox lists a shop's conversations by their latest activity: the
-- newest message in or out (staff-topic traffic does not count), or the
-- conversation's creation while it has none. Computing that from messages for every
-- conversation of a shop on each page view grows with the shop; a column kept by
-- triggers, in the same transaction as the insert that moves it, lets a page read the
-- newest 30 straight from an index, whatever the shop's size. Triggers rather than
-- the store's Go code: every path that writes a message or a conversation keeps the
-- column right, including ones written after this.
ALTER TABLE conversations ADD COLUMN last_activity_at INTEGER NOT NULL DEFAULT 0;

-- A conversation's transcript, newest first for its latest page (and each
-- conversation's latest message for the inbox's preview).
-- Built before the backfill below, which looks up each conversation's newest
-- message: without it each lookup reads all of the shop's messages, conversations
-- times messages on an existing database.
CREATE INDEX messages_conversation ON messages (shop_id, conversation_id, created_at, id);

UPDATE conversations SET last_activity_at = max(created_at, coalesce(
    (SELECT max(m.created_at) FROM messages m
     WHERE m.shop_id = conversations.shop_id AND m.conversation_id = conversations.id
       AND m.direction IN ('in', 'out')), 0));

CREATE TRIGGER conversations_activity_insert AFTER INSERT ON conversations BEGIN
    UPDATE conversations SET last_activity_at = NEW.created_at
    WHERE id = NEW.id AND last_activity_at < NEW.created_at;
END;

-- A message recorded late with an older time (a platform's retry) does not move the
-- conversation back.
CREATE TRIGGER messages_activity_insert AFTER INSERT ON messages
WHEN NEW.direction IN ('in', 'out') AND NEW.conversation_id IS NOT NULL BEGIN
    UPDATE conversations SET last_activity_at = NEW.created_at
    WHERE id = NEW.conversation_id AND shop_id = NEW.shop_id AND last_activity_at < NEW.created_at;
END;

-- The inbox, newest activity first, all channels or one.
CREATE INDEX conversations_activity ON conversations (shop_id, last_activity_at, id);
CREATE INDEX conversations_channel_activity ON conversations (shop_id, channel, last_activity_at, id);

-- The orders of a conversation, on its inbox page.
CREATE INDEX orders_conversation ON orders (shop_id, conversation_id, id);
