-- The dashboard's inbox lists a shop's conversations by their latest activity: the
-- newest message in or out (staff-topic traffic does not count), or the
-- conversation's creation while it has none. Computing that from messages for every
-- conversation of a shop on each page view grows with the shop; a column kept by
-- triggers, in the same transaction as the insert that moves it, lets a page read the
-- newest 30 straight from an index, whatever the shop's size. Triggers rather than
-- the store's Go code: every path that writes a message or a conversation keeps the
-- column right, including ones written after this, and the store's pipelined
-- transactions send no extra statement.
--
-- The cost: each message in or out updates its conversation's row, which takes the
-- row's lock until commit (two messages of one conversation commit one after the
-- other, as their delivery does anyway) and, the column being indexed, is not a HOT
-- update. Conversations are few next to messages, and the row is small.
ALTER TABLE conversations ADD COLUMN last_activity_at timestamptz;

-- A conversation's transcript, newest first for its latest page (and each
-- conversation's latest message for the inbox's preview). Its columns never change after
-- insert, so delivery updates stay HOT.
-- Built before the backfill below, which looks up each conversation's newest
-- message: without it each lookup reads all of the shop's messages, conversations
-- times messages on an existing database.
CREATE INDEX messages_conversation_idx ON messages (shop_id, conversation_id, created_at, id);

UPDATE conversations c SET last_activity_at = greatest(c.created_at,
    (SELECT max(m.created_at) FROM messages m
     WHERE m.shop_id = c.shop_id AND m.conversation_id = c.id COLLATE "default"
       AND m.direction IN ('in', 'out')));

CREATE FUNCTION chatpay_conversation_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_activity_at := greatest(NEW.last_activity_at, NEW.created_at);
    RETURN NEW;
END
$$;

CREATE TRIGGER conversations_activity_insert BEFORE INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION chatpay_conversation_created();

ALTER TABLE conversations ALTER COLUMN last_activity_at SET NOT NULL;

-- A message recorded late with an older time (a platform's retry) does not move the
-- conversation back.
CREATE FUNCTION chatpay_message_activity() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET last_activity_at = NEW.created_at
    WHERE id = NEW.conversation_id COLLATE "C" AND shop_id = NEW.shop_id
      AND last_activity_at < NEW.created_at;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_activity_insert AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.direction IN ('in', 'out'))
    EXECUTE FUNCTION chatpay_message_activity();

-- The inbox, newest activity first, all channels or one.
CREATE INDEX conversations_activity_idx ON conversations (shop_id, last_activity_at, id);
CREATE INDEX conversations_channel_activity_idx ON conversations (shop_id, channel, last_activity_at, id);

-- The orders of a conversation, on its inbox page.
CREATE INDEX orders_conversation_idx ON orders (shop_id, conversation_id, id);
