-- chatpay_require_row fails the statement when a write that must change a row changed
-- none, with a SQLSTATE of our own: CP404 (no such row in this shop) or CP409 (the
-- row's version moved on). Checking on the server, not by the client reading the row
-- count, is what lets the store pipeline its writes: an unchecked write followed by
-- COMMIT in the same round trip could otherwise commit before the client saw the
-- count. The server aborts the transaction instead, and skips the rest of the
-- pipeline.
CREATE FUNCTION chatpay_require_row(n bigint, code text, msg text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION '%', msg USING ERRCODE = code;
    END IF;
    RETURN n;
END
$$;
