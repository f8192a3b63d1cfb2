package bot_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
)

var draftLabels = bot.DraftLabels{TypeItem: "Type", Shipping: "Ship", Create: "Create", Discard: "Discard"}

func money(n int64) string { return "₫" + strconv.FormatInt(n, 10) }

func TestDraft(t *testing.T) {
	t.Parallel()
	offer := []orders.Item{{Name: "Áo thun", UnitPrice: 150000}, {Name: "Mũ", UnitPrice: 50000}}
	d := bot.NewDraft("telegram:1:10", false, offer)
	require.Equal(t, d.ID, bot.NewDraft("telegram:1:10", true, nil).ID, "the same update starts the same draft")
	require.NotEqual(t, d.ID, bot.NewDraft("telegram:1:11", false, nil).ID)
	require.True(t, d.Seen("telegram:1:10"))

	// The keyboard offers both items, two to a row, and cannot create an empty order.
	bs := d.Buttons(draftLabels, money)
	require.Equal(t, "+ Áo thun · ₫150000", bs[0].Label)
	require.False(t, bs[0].SameRow)
	require.True(t, bs[1].SameRow)
	for _, b := range bs {
		require.NotEqual(t, "Create", b.Label)
		require.LessOrEqual(t, len(b.Data), 64)
	}

	press := func(data string) {
		t.Helper()
		p, ok := bot.ParseDraftData(data)
		require.True(t, ok, data)
		require.Equal(t, d.ID, p.ID)
		require.False(t, d.Stale(p), data)
		require.NoError(t, d.Press(p.Op, p.Index))
	}
	press(bs[0].Data) // + Áo thun
	press(bs[0].Data) // again: a stale button adds from the offer, merged into the line
	require.Equal(t, []orders.Item{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000}}, d.Lines)
	bs = d.Buttons(draftLabels, money)
	require.Equal(t, "− 2 × Áo thun", bs[0].Label)
	require.Equal(t, "+", bs[1].Label)
	require.True(t, bs[1].SameRow)
	require.Equal(t, "+ Mũ · ₫50000", bs[2].Label, "only items not chosen are offered")
	press(bs[1].Data) // one more
	require.EqualValues(t, 3, d.Lines[0].Quantity)
	require.NoError(t, d.SetShipping(30000))
	require.EqualValues(t, 3*150000+30000, d.Total())
	var labels []string
	for _, b := range d.Buttons(draftLabels, money) {
		labels = append(labels, b.Label)
	}
	require.Contains(t, labels, "Create")
	for range 3 {
		press(bs[0].Data) // one less, down to none
	}
	require.Empty(t, d.Lines)
	require.NoError(t, d.Press(bot.DraftOpLess, 0), "a stale index changes nothing")

	// A double tap on − from one keyboard: the second press is stale once the first
	// is applied, so it cannot take away the line that moved into its place.
	require.NoError(t, d.AddItems([]orders.Item{{Name: "A", Quantity: 1, UnitPrice: 1}, {Name: "B", Quantity: 1, UnitPrice: 1}}))
	less := d.Buttons(draftLabels, money)[0].Data
	first, ok := bot.ParseDraftData(less)
	require.True(t, ok)
	require.False(t, d.Stale(first))
	require.NoError(t, d.Press(first.Op, first.Index))
	d.MarkApplied("tap-1")
	require.True(t, d.Stale(first), "the same button again")
	require.Equal(t, "B", d.Lines[0].Name)
	added, _ := bot.ParseDraftData(d.Buttons(draftLabels, money)[2].Data)
	require.Equal(t, bot.DraftOpAdd, added.Op)
	d.MarkApplied("tap-2")
	require.False(t, d.Stale(added), "an offered item is the same on every keyboard")
	require.NoError(t, d.Press(bot.DraftOpLess, 0))
	require.Empty(t, d.Lines)

	// Typing an item or the fee is a mode the next message answers.
	require.NoError(t, d.Press(bot.DraftOpItem, 0))
	require.Equal(t, bot.DraftAwaitItem, d.Awaiting)

	// Round trip through storage.
	back, err := bot.DecodeDraft(d.Encode())
	require.NoError(t, err)
	require.Equal(t, d, back)
	_, err = bot.DecodeDraft([]byte("{"))
	require.Error(t, err)

	// Limits are those of an order.
	require.Error(t, d.AddItems([]orders.Item{{Name: "x", Quantity: 1_000_000, UnitPrice: 1}, {Name: "x", Quantity: 1, UnitPrice: 1}}))
	require.Error(t, d.SetShipping(orders.MaxAmount+1))
	require.Empty(t, d.Lines, "a refused addition changes nothing")

	// Applied keys are bounded.
	for i := range 40 {
		d.MarkApplied("k" + strconv.Itoa(i))
	}
	require.Len(t, d.Applied, 16)
	require.True(t, d.Seen("k39"))
	require.False(t, d.Seen("k0"))
}

func TestParseDraftData(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "dlg:", "dlg:abc", "dlg::ok", "dlg:abc:a", "dlg:abc:a:1", "dlg:abc:a:x:1", "dlg:abc:a:-1:0", "dlg:abc:a:100:0", "dlg:abc:d:1:-1", "dlg:abc:d:1:x", "dlg:abc:ok:1", "dlg:abc:zz", "ship:123", "dlg:abc:a:1:2:3"} {
		_, ok := bot.ParseDraftData(bad)
		require.False(t, ok, bad)
	}
	p, ok := bot.ParseDraftData("dlg:abc:d:7:3")
	require.True(t, ok)
	require.Equal(t, bot.DraftPress{ID: "abc", Op: bot.DraftOpLess, Index: 7, Rev: 3}, p)
}

func FuzzParseDraftData(f *testing.F) {
	for _, s := range []string{"dlg:abc:a:1:0", "dlg:abc:ok", "dlg:x:d:99:4", "dlg::", "ship:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		p, ok := bot.ParseDraftData(data)
		if !ok {
			return
		}
		require.NotEmpty(t, p.ID)
		require.GreaterOrEqual(t, p.Index, 0)
		d := bot.NewDraft("k", false, []orders.Item{{Name: "a", UnitPrice: 1}})
		require.NoError(t, d.Press(p.Op, p.Index))
	})
}

func FuzzParseFee(f *testing.F) {
	vnd, _ := orders.LookupCurrency("VND")
	thb, _ := orders.LookupCurrency("THB")
	for _, s := range []string{"30000", "30k", "30.000 ₫", "0", "-5", "1,5", "12.345,67", "abc"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, useVND bool) {
		cur := thb
		if useVND {
			cur = vnd
		}
		v, err := bot.ParseFee(raw, cur)
		if err != nil {
			require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
			return
		}
		require.GreaterOrEqual(t, v, int64(0))
		require.LessOrEqual(t, v, orders.MaxAmount)
	})
}
