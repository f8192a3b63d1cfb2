-- What a shop's owner changed in the dashboard's settings, laid over the shop's
-- configuration. A NULL column follows the configuration; templates holds the owner's
-- own texts of customer messages as {"<locale>": {"<kind>": "<text/template source>"}}.
-- version is the compare-and-set counter the settings form carries: 1 for the first
-- save, one more for each save after it. updated_by is the dashboard user who saved.
CREATE TABLE shop_settings (
    shop_id TEXT PRIMARY KEY,
    name TEXT,
    locale TEXT CHECK (locale IN ('en', 'vi', 'th', 'fa')),
    display_toman INTEGER CHECK (display_toman IN (0, 1)),
    send_paid_confirmation INTEGER CHECK (send_paid_confirmation IN (0, 1)),
    templates TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(templates) AND json_type(templates) = 'object'),
    version INTEGER NOT NULL CHECK (version > 0),
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
) STRICT;
