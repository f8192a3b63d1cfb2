-- Every indexed order now has, besides its search terms, the row orders.SearchMarker
-- ('!1'), which the search repair job (Store.IndexSearch) looks for: an order whose
-- customer has a name or phone but no marker was stored by a build that wrote no
-- terms (a replica on the previous version during a rolling deploy) and gets its
-- terms from the job. The orders indexed before this migration have today's terms,
-- so they get the marker here rather than each being indexed again by the job. An
-- order still queued in order_search_pending gets it with its terms from Migrate.
INSERT INTO order_search (shop_id, term, order_id)
SELECT DISTINCT shop_id, '!1', order_id FROM order_search ON CONFLICT DO NOTHING;

-- The job's anti-join walks orders by ID and looks for each one's marker. The primary
-- key, (shop, term, order), answers one probe, but at 100,000 orders the planner
-- preferred hashing every marker out of a sequential scan of the whole table, a dozen
-- rows per order (120 ms, at every run and every batch). This index holds the markers
-- alone, in order ID order: the job merges it with orders' primary key, index only,
-- and stops at a batch's worth (50 ms when no order is missing). Its predicate is
-- the marker: a change of orders.SearchMarker comes with an index on the new one.
CREATE INDEX order_search_marked ON order_search (order_id, shop_id) WHERE term = '!1';
