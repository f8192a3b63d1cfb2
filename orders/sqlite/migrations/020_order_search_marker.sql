-- Every indexed order now has, besides its search terms, the row orders.SearchMarker
-- ('!1'), which the search repair job (Store.IndexSearch) looks for: an order whose
-- customer has a name or phone but no marker was stored by a build that wrote no
-- terms (a replica on the previous version during a rolling deploy) and gets its
-- terms from the job. The orders indexed before this migration have today's terms,
-- so they get the marker here rather than each being indexed again by the job. An
-- order still queued in order_search_pending gets it with its terms from Migrate.
INSERT INTO order_search (shop_id, term, order_id)
SELECT DISTINCT shop_id, '!1', order_id FROM order_search WHERE true ON CONFLICT DO NOTHING;
