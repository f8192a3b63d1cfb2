package live

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	c := orders.Change{Kind: orders.ChangeMessage, Shop: "shop-a", Order: "o-1", Conversation: "c-1"}
	origin, got, err := decode(encode("abc", c))
	require.NoError(t, err)
	require.Equal(t, "abc", origin)
	require.Equal(t, c, got)

	// A newer replica may add fields; they are ignored.
	_, got, err = decode([]byte(`{"origin":"x","change":{"kind":"order","shop":"s","order":"o"},"trace":"t"}`))
	require.NoError(t, err)
	require.Equal(t, orders.Change{Kind: "order", Shop: "s", Order: "o"}, got)

	for _, bad := range []string{
		``, `null`, `[]`, `{"origin":"x"}`,
		`{"origin":"x","change":{"shop":"s"}}`,
		`{"origin":"x","change":{"kind":"order"}}`,
		`{"origin":"x","change":{"kind":"order","shop":"` + string(make([]byte, 300)) + `"}}`,
		`{"origin":"x","change":"order"}`,
	} {
		_, _, err := decode([]byte(bad))
		require.Error(t, err, "%q", bad)
	}
}

// FuzzDecode: whatever arrives on the Redis channel, decode returns an error or a
// change with a kind, a shop and bounded identifiers, which encodes back to itself.
func FuzzDecode(f *testing.F) {
	f.Add(encode("abc", orders.Change{Kind: orders.ChangeOrder, Shop: "shop-a", Order: "o-1", Conversation: "c-1"}))
	f.Add([]byte(`{"origin":"x","change":{"kind":"message","shop":"s","conversation":"c"}}`))
	f.Add([]byte(`{"origin":"x","change":{"kind":"order","shop":""}}`))
	f.Add([]byte(`{"change":{"kind":"order","shop":"s"},"change":{"kind":""}}`))
	f.Add([]byte(`{"origin":1}`))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		origin, c, err := decode(b)
		if err != nil {
			return
		}
		require.NotEmpty(t, c.Kind)
		require.NotEmpty(t, c.Shop)
		for _, v := range []string{origin, c.Kind, c.Shop, c.Order, c.Conversation} {
			require.LessOrEqual(t, len(v), maxField)
		}
		o2, c2, err := decode(encode(origin, c))
		require.NoError(t, err)
		require.Equal(t, origin, o2)
		require.Equal(t, c, c2)
	})
}
