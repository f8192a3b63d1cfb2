package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// testStaleAttemptsPaging checks that StaleAttempts pages through every open
// attempt of the window in (created_at, id) order, a few at a time, also through
// attempts created in the same microsecond and from a cursor whose own attempt has
// been settled since: reconciliation resumes after the attempts it already asked
// about instead of reading the same oldest ones on every run.
func testStaleAttemptsPaging(t *testing.T, h Harness) {
	ctx := context.Background()
	oa := createOrder(t, h, newOrder(shopA, 0))
	ob := createOrder(t, h, newOrder(shopB, 0))

	var want, all []*orders.Attempt
	add := func(o *orders.Order, n int, status string) *orders.Attempt {
		a := newAttempt(o, n)
		a.Status, a.SessionID = status, fmt.Sprintf("cs_%d_%d", n, len(all))
		all = append(all, a)
		if status == orders.AttemptCreated || status == orders.AttemptPending {
			want = append(want, a)
		}
		return a
	}
	add(oa, 5, orders.AttemptPending) // before the window
	for n := 20; n < 30; n++ {
		add(oa, n, orders.AttemptPending)
		if n%3 == 0 {
			add(ob, n, orders.AttemptSucceeded)
		}
	}
	// Five attempts created in the same microsecond: only their ids order them, and a
	// page boundary falls between them.
	for range 5 {
		add(ob, 30, orders.AttemptCreated)
	}
	add(oa, 31, orders.AttemptFailed)
	add(oa, 32, orders.AttemptCreated)
	add(ob, 60, orders.AttemptPending) // after the window
	want = slices.DeleteFunc(want, func(a *orders.Attempt) bool {
		return a.CreatedAt.Before(at(15)) || !a.CreatedAt.Before(at(50))
	})
	slices.SortFunc(want, func(x, y *orders.Attempt) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	require.Len(t, want, 16)
	inTx(t, h, func(tx orders.Tx) error {
		// Inserted newest first, so that the suite checks the store sorts.
		for _, a := range slices.Backward(all) {
			if err := tx.InsertAttempt(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})

	page := func(after *orders.Attempt, limit int) []*orders.Attempt {
		t.Helper()
		got, err := h.Store.StaleAttempts(ctx, at(15), at(50), after.CreatedAt, after.ID, limit)
		require.NoError(t, err)
		return got
	}

	// A zero cursor, or one older than the window, starts at the window's oldest.
	got, err := h.Store.StaleAttempts(ctx, at(15), at(50), time.Time{}, "", 3)
	require.NoError(t, err)
	require.Equal(t, want[:3], got)
	got, err = h.Store.StaleAttempts(ctx, at(15), at(50), at(1), "", 3)
	require.NoError(t, err)
	require.Equal(t, want[:3], got)

	// Three at a time, each page after the last attempt of the one before, the pages
	// together are every open attempt of the window once.
	for pages := 0; len(got) < len(want); pages++ {
		require.Less(t, pages, len(want), "paging does not end")
		p := page(got[len(got)-1], 3)
		require.NotEmpty(t, p, "paging stopped after %d of %d", len(got), len(want))
		require.LessOrEqual(t, len(p), 3)
		got = append(got, p...)
	}
	require.Equal(t, want, got, "every open attempt of the window once, oldest first, every shop")

	// The attempt a cursor names may have been settled since: paging goes on after it.
	settled := want[7]
	inTx(t, h, func(tx orders.Tx) error {
		a, err := tx.LockAttempt(ctx, settled.ShopID, settled.ID)
		if err != nil {
			return err
		}
		a.Status, a.UpdatedAt = orders.AttemptSucceeded, at(40)
		return tx.UpdateAttempt(ctx, a)
	})
	require.Equal(t, want[8:12], page(settled, 4))

	// Past the last one there is nothing.
	require.Empty(t, page(want[len(want)-1], 3))
}
