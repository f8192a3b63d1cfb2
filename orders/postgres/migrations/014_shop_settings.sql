-- What a shop's owner changed in the dashboard's settings, laid over the shop's
-- configuration. A NULL column follows the configuration; templates holds the owner's
-- own texts of customer messages as {"<locale>": {"<kind>": "<text/template source>"}}.
-- version is the compare-and-set counter the settings form carries: 1 for the first
-- save, one more for each save after it. updated_by is the dashboard user who saved.
CREATE TABLE shop_settings (
    shop_id                text PRIMARY KEY,
    name                   text,
    locale                 text CHECK (locale IN ('en', 'vi', 'th', 'fa')),
    display_toman          boolean,
    send_paid_confirmation boolean,
    templates              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(templates) = 'object'),
    version                bigint NOT NULL CHECK (version > 0),
    updated_at             timestamptz NOT NULL,
    updated_by             text NOT NULL DEFAULT ''
);
