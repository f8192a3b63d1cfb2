-- Messages still queued, per conversation, oldest first: a message is delivered only
-- when none queued before it in its conversation is still waiting, which keeps each
-- chat's order.
CREATE INDEX messages_queued_idx ON messages (shop_id, conversation_id, created_at, id)
    WHERE status = 'queued';
