-- Updates that chat platforms deliver (Telegram updates) are recorded here before
-- anything acts on them, together with the job that processes them. The primary key
-- deduplicates a redelivered update: the source names the bot ("telegram:<bot id>"),
-- because update ids are per bot.
CREATE TABLE chat_updates (
    shop_id     text NOT NULL,
    source      text COLLATE "C" NOT NULL,
    update_id   bigint NOT NULL,
    payload     bytea NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (shop_id, source, update_id)
);

-- Where long polling resumes: the offset to send with the next getUpdates. It is
-- written in the transaction that records the updates below it.
CREATE TABLE chat_offsets (
    shop_id text NOT NULL,
    source  text COLLATE "C" NOT NULL,
    next    bigint NOT NULL,
    PRIMARY KEY (shop_id, source)
);
