-- Updates that chat platforms deliver (Telegram updates) are recorded here before
-- anything acts on them, together with the job that processes them. The primary key
-- deduplicates a redelivered update: the source names the bot ("telegram:<bot id>"),
-- because update ids are per bot.
CREATE TABLE chat_updates (
    shop_id TEXT NOT NULL,
    source TEXT NOT NULL,
    update_id INTEGER NOT NULL,
    payload BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, source, update_id)
) STRICT;

-- Where long polling resumes: the offset to send with the next getUpdates. It is
-- written in the transaction that records the updates below it.
CREATE TABLE chat_offsets (
    shop_id TEXT NOT NULL,
    source TEXT NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (shop_id, source)
) STRICT;
