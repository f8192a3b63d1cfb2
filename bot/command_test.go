package bot_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// The domain's limits on an order, as orders.Service enforces them.
const (
	domainMaxItems    = 100
	domainMaxQuantity = 1_000_000
	domainMaxItemName = 200
)

func currency(t testing.TB, code string) orders.Currency {
	t.Helper()
	c, ok := orders.LookupCurrency(code)
	require.True(t, ok, code)
	return c
}

// requireInvalid checks that err is an EINVALID *orders.Error whose message contains
// every part given.
func requireInvalid(t *testing.T, err error, parts ...string) {
	t.Helper()
	require.Error(t, err)
	var e *orders.Error
	require.True(t, errors.As(err, &e), "%T is not *orders.Error", err)
	require.Equal(t, orders.EINVALID, e.Code)
	for _, p := range parts {
		require.Contains(t, e.Message, p)
	}
}

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want bot.Command
	}{
		{"/start", bot.Command{Name: "start"}},
		{"/order 2 x Áo @ 150000", bot.Command{Name: "order", Args: "2 x Áo @ 150000"}},
		{"/ORDER 1", bot.Command{Name: "order", Args: "1"}},
		{"/Order_Ship@ChatPayBot  Mũ @ 5 ", bot.Command{Name: "order_ship", Bot: "ChatPayBot", Args: "Mũ @ 5"}},
		{"/ship@chatpay_bot", bot.Command{Name: "ship", Bot: "chatpay_bot"}},
		{"  /cancel #1001", bot.Command{Name: "cancel", Args: "#1001"}},
		{"/order\n2 x Áo @ 1\n1 x Mũ @ 2\n", bot.Command{Name: "order", Args: "2 x Áo @ 1\n1 x Mũ @ 2"}},
		{"/order@Bot\r\nMũ @ 5", bot.Command{Name: "order", Bot: "Bot", Args: "Mũ @ 5"}},
		{"/refund\t1001 50k", bot.Command{Name: "refund", Args: "1001 50k"}},
		{"/order\u00a0Mũ @ 5", bot.Command{Name: "order", Args: "Mũ @ 5"}},
		{"/" + strings.Repeat("a", 32), bot.Command{Name: strings.Repeat("a", 32)}},
	}
	for _, tt := range tests {
		got, ok := bot.ParseCommand(tt.text)
		require.True(t, ok, "%q", tt.text)
		require.Equal(t, tt.want, got, "%q", tt.text)
	}

	for _, text := range []string{
		"", "order 1", "hello /order", "/", "/ 1", "/@Bot", "/order@", "/order@ 1",
		"/tmp/x", "/order:1", "/ordér", "/-5", "/order@Bot!", "//order",
		"/" + strings.Repeat("a", 33), "/a@" + strings.Repeat("b", 33),
	} {
		_, ok := bot.ParseCommand(text)
		require.False(t, ok, "%q", text)
	}
}

func TestCommandFor(t *testing.T) {
	t.Parallel()
	require.True(t, bot.Command{Name: "order"}.For("ChatPayBot"))
	require.True(t, bot.Command{Name: "order", Bot: "chatpaybot"}.For("ChatPayBot"))
	require.True(t, bot.Command{Name: "order", Bot: "ChatPayBot"}.For("@chatpaybot"))
	require.False(t, bot.Command{Name: "order", Bot: "OtherBot"}.For("ChatPayBot"))
	require.False(t, bot.Command{Name: "order", Bot: "ChatPayBot2"}.For("ChatPayBot"))
}

func TestParseOrder(t *testing.T) {
	t.Parallel()
	vnd, thb, jpy := currency(t, "VND"), currency(t, "THB"), currency(t, "JPY")
	item := func(q int64, name string, price int64) orders.Item {
		return orders.Item{Name: name, Quantity: q, UnitPrice: price}
	}
	tests := []struct {
		name string
		cur  orders.Currency
		args string
		want bot.OrderSpec
	}{
		{"Example", vnd, "2 x Áo thun @ 150000; 1 x Mũ @ 50000; ship 30000",
			bot.OrderSpec{Items: []orders.Item{item(2, "Áo thun", 150000), item(1, "Mũ", 50000)}, ShippingFee: 30000}},
		{"NoSpaces", vnd, "2x Áo thun @150000", bot.OrderSpec{Items: []orders.Item{item(2, "Áo thun", 150000)}}},
		{"TimesSigns", vnd, "2X a @ 1; 3×b @ 2; 4 * c @ 3; 5*d@4; 6 × e @ 5", bot.OrderSpec{Items: []orders.Item{
			item(2, "a", 1), item(3, "b", 2), item(4, "c", 3), item(5, "d", 4), item(6, "e", 5)}}},
		{"QuantityOmitted", vnd, "Mũ @ 50000", bot.OrderSpec{Items: []orders.Item{item(1, "Mũ", 50000)}}},
		{"Lines", vnd, "2 x Áo thun @ 150.000\r\n\n1 x Mũ @ 50,000\nship 30k\n", bot.OrderSpec{
			Items: []orders.Item{item(2, "Áo thun", 150000), item(1, "Mũ", 50000)}, ShippingFee: 30000}},
		{"LinesAndSemicolons", vnd, "a @ 1;\n;b @ 2;;", bot.OrderSpec{Items: []orders.Item{item(1, "a", 1), item(1, "b", 2)}}},
		{"Thousands", vnd, "a @ 150k; b @ 150K; c @ 1.5k; d @ 1,5k; e @ 1.500.000; f @ 0", bot.OrderSpec{Items: []orders.Item{
			item(1, "a", 150000), item(1, "b", 150000), item(1, "c", 1500), item(1, "d", 1500), item(1, "e", 1500000), item(1, "f", 0)}}},
		{"CurrencyMarks", vnd, "a @ 150.000đ; b @ 150000 VND; c @ 150k₫; d @ 5 vnd; e @ 20.000 VNĐ; f @ 7vnđ; g @ Đ8", bot.OrderSpec{Items: []orders.Item{
			item(1, "a", 150000), item(1, "b", 150000), item(1, "c", 150000), item(1, "d", 5), item(1, "e", 20000), item(1, "f", 7), item(1, "g", 8)}}},
		{"NameWithDigitsAndX", vnd, "7UP @ 10000; 2 xanh @ 5; 2xl shirt @ 6; 3 x 2 pack @ 7; Box 10x20 @ 8", bot.OrderSpec{Items: []orders.Item{
			item(1, "7UP", 10000), item(1, "2 xanh", 5), item(1, "2xl shirt", 6), item(3, "2 pack", 7), item(1, "Box 10x20", 8)}}},
		{"LastAtSeparatesPrice", vnd, "2 x Mail @ home @ 5", bot.OrderSpec{Items: []orders.Item{item(2, "Mail @ home", 5)}}},
		{"ShippingForms", vnd, "Shipping: 30000; a @ 1", bot.OrderSpec{Items: []orders.Item{item(1, "a", 1)}, ShippingFee: 30000}},
		{"ShipFee", vnd, "a @ 1; ship fee 25k", bot.OrderSpec{Items: []orders.Item{item(1, "a", 1)}, ShippingFee: 25000}},
		{"ShipAt", vnd, "a @ 1; SHIP @ 5", bot.OrderSpec{Items: []orders.Item{item(1, "a", 1)}, ShippingFee: 5}},
		{"ShipZero", vnd, "a @ 1; ship 0", bot.OrderSpec{Items: []orders.Item{item(1, "a", 1)}}},
		{"ItemNamedShip", vnd, "Ship model @ 50000; shipper @ 2", bot.OrderSpec{Items: []orders.Item{item(1, "Ship model", 50000), item(1, "shipper", 2)}}},
		{"TotalZero", vnd, "Gift @ 0", bot.OrderSpec{Items: []orders.Item{item(1, "Gift", 0)}}},
		{"THB", thb, "2 x T-shirt @ 120.50; b @ 120; c @ 1,200.50; d @ 120,50; e @ 120,5; f @ 1,200; g @ 1.200,50; h @ 1.5k; i @ ฿99; ship 30",
			bot.OrderSpec{Items: []orders.Item{
				item(2, "T-shirt", 12050), item(1, "b", 12000), item(1, "c", 120050), item(1, "d", 12050),
				item(1, "e", 12050), item(1, "f", 120000), item(1, "g", 120050), item(1, "h", 150000), item(1, "i", 9900),
			}, ShippingFee: 3000}},
		{"USD", currency(t, "USD"), "a @ $5; b @ 5 usd; c @ US$1.50", bot.OrderSpec{Items: []orders.Item{
			item(1, "a", 500), item(1, "b", 500), item(1, "c", 150)}}},
		{"JPY", jpy, "a @ 1,500; b @ ¥2000", bot.OrderSpec{Items: []orders.Item{item(1, "a", 1500), item(1, "b", 2000)}}},
		{"Limits", vnd, "1000000 x a @ 1000000000", bot.OrderSpec{Items: []orders.Item{item(1_000_000, "a", 1_000_000_000)}}},
		{"MaxAmount", vnd, "a @ 1.000.000.000.000.000", bot.OrderSpec{Items: []orders.Item{item(1, "a", orders.MaxAmount)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := bot.ParseOrder(tt.args, tt.cur)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseOrderErrors(t *testing.T) {
	t.Parallel()
	vnd, thb := currency(t, "VND"), currency(t, "THB")
	long := strings.Repeat("ă", domainMaxItemName+1)
	tooMany := strings.Repeat("a @ 1\n", domainMaxItems+1)
	tests := []struct {
		name  string
		cur   orders.Currency
		args  string
		parts []string
	}{
		{"Empty", vnd, "", []string{"at least one item", "2 x Áo thun @ 150000"}},
		{"OnlyShipping", vnd, "ship 30000", []string{"at least one item"}},
		{"MissingAt", vnd, "2 x Áo @ 1; Mũ 50000", []string{`item 2 ("Mũ 50000"): missing "@ price"`}},
		{"MissingPrice", vnd, "Mũ @", []string{`item 1 ("Mũ @"): missing the price`}},
		{"MissingName", vnd, "2 x @ 5", []string{`item 1 ("2 x @ 5"): missing the item name`}},
		{"MissingNameNoQuantity", vnd, " @ 5", []string{"item 1", "missing the item name"}},
		{"ZeroQuantity", vnd, "0 x Mũ @ 5", []string{"item 1", "quantity must be between 1 and 1000000, got 0"}},
		{"NegativeQuantity", vnd, "-2 x Mũ @ 5", []string{"item 1", "quantity -2 must be between 1 and 1000000"}},
		{"QuantityTooLarge", vnd, "1000001 x Mũ @ 5", []string{"quantity must be between 1 and 1000000, got 1000001"}},
		{"QuantityHuge", vnd, "99999999999999999999 x Mũ @ 5", []string{"got 99999999999999999999"}},
		{"FractionalQuantity", vnd, "2.5 x Mũ @ 5", []string{`quantity "2.5" must be a whole number`}},
		{"NegativePrice", vnd, "Mũ @ -5", []string{`price "-5" must not be negative`}},
		{"GarbagePrice", vnd, "Mũ @ abc", []string{`item 1 ("Mũ @ abc"): price "abc" is not an amount`, "150k"}},
		{"GarbagePriceTHB", thb, "Cap @ 12a", []string{`price "12a" is not an amount`, "120.50"}},
		{"PriceWithSpace", vnd, "Mũ @ 150 000", []string{`price "150 000" is not an amount`}},
		{"TrailingSeparator", vnd, "Mũ @ 150.", []string{`price "150." is not an amount`}},
		{"BadGroups", vnd, "Mũ @ 1.50.000", []string{`price "1.50.000": digit groups`, "exactly 3 digits"}},
		{"BadGroupsMixed", thb, "Cap @ 12,00.50", []string{`price "12,00.50": digit groups`}},
		{"AlternatingSeparators", vnd, "Mũ @ 1.200,000.5", []string{"is not an amount"}},
		{"DecimalsInVND", vnd, "Mũ @ 150.5", []string{`price "150.5": VND has no minor unit`}},
		{"CommaDecimalsInVND", vnd, "Mũ @ 150,50", []string{"VND has no minor unit"}},
		{"KiloNotWhole", vnd, "Mũ @ 1.2345k", []string{`price "1.2345k": VND has no minor unit`}},
		{"TooManyDecimals", thb, "Cap @ 120.505", []string{`price "120.505": THB has at most 2 decimals`}},
		{"LoneDotThreeDigitsTHB", thb, "Cap @ 1.500", []string{"THB has at most 2 decimals"}},
		{"PriceTooLarge", vnd, "Mũ @ 1000000000000001", []string{`price "1000000000000001" exceeds the largest amount`}},
		{"PriceTooLargeTHB", thb, "Cap @ 10000000000000.01", []string{"exceeds the largest amount"}},
		{"PriceHuge", vnd, "Mũ @ 99999999999999999999999999", []string{"exceeds the largest amount"}},
		{"LineTooLarge", vnd, "2 x Mũ @ 600000000000000", []string{"item 1", "quantity × price exceeds"}},
		{"TotalTooLarge", vnd, "a @ 600000000000000; b @ 600000000000000", []string{"item 2", "order total exceeds"}},
		{"TotalWithShippingTooLarge", vnd, "a @ 600000000000000; ship 600000000000000", []string{"shipping", "order total exceeds"}},
		{"NameTooLong", vnd, long + " @ 5", []string{"item 1", "201 characters; at most 200"}},
		{"TooManyItems", vnd, tooMany, []string{"item 101", "at most 100"}},
		{"TwoShippingFees", vnd, "a @ 1; ship 5; shipping 6", []string{`shipping ("shipping 6"): an order has one shipping fee`}},
		{"ShippingWithoutFee", vnd, "a @ 1; ship", []string{`shipping ("ship"): missing the fee`, "ship 30000"}},
		{"ShippingGarbage", vnd, "a @ 1; ship abc", []string{`shipping ("ship abc"): fee "abc" is not an amount`}},
		{"ShippingNegative", vnd, "a @ 1; ship -5", []string{`fee "-5" must not be negative`}},
		{"InvalidUTF8", vnd, "a\xff @ 1", []string{"not valid UTF-8"}},
		{"LongSegmentQuotedShort", vnd, strings.Repeat("x", 100), []string{`item 1 ("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"): missing`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec, err := bot.ParseOrder(tt.args, tt.cur)
			requireInvalid(t, err, tt.parts...)
			require.Zero(t, spec)
		})
	}

	_, err := bot.ParseOrder("a @ 1", orders.Currency{Code: "XXX", Decimals: 9})
	requireInvalid(t, err, "not supported")
}

func TestOrderUsage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code    string
		example string
		total   int64
	}{
		{"VND", "2 x Áo thun @ 150000", 2*150000 + 50000},
		{"IRR", "150000", 2*150000 + 50000},
		{"JPY", "150000", 2*150000 + 50000},
		{"THB", "120.50", 2*12050 + 5000},
		{"USD", "120.50", 2*12050 + 5000},
	} {
		cur := currency(t, tt.code)
		usage := bot.OrderUsage(cur)
		require.Contains(t, usage, tt.example)
		require.Contains(t, usage, tt.code)

		// The example in the help must itself parse.
		_, line, ok := strings.Cut(usage, "Example: /order ")
		require.True(t, ok, usage)
		line, _, _ = strings.Cut(line, "\n")
		cmd, ok := bot.ParseCommand("/order " + line)
		require.True(t, ok)
		spec, err := bot.ParseOrder(cmd.Args, cur)
		require.NoError(t, err, tt.code)
		var total int64
		for _, it := range spec.Items {
			total += it.Quantity * it.UnitPrice
		}
		require.Equal(t, tt.total, total, tt.code)
		require.Positive(t, spec.ShippingFee)
	}
}

func TestParseCode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"1001": "1001", "#1001": "1001", " #1001 \n": "1001", "# 1001": "1001", "01001": "1001", "7": "7",
	} {
		got, err := bot.ParseCode(in)
		require.NoError(t, err, "%q", in)
		require.Equal(t, want, got, "%q", in)
	}
	_, err := bot.ParseCode("")
	requireInvalid(t, err, "missing the order code", `"/ship 1001"`)
	for _, in := range []string{"abc", "#", "0", "-5", "10.01", "1001 1002", "#1001x", "99999999999999999999", "##1"} {
		_, err := bot.ParseCode(in)
		requireInvalid(t, err, "is not an order code", `"/ship 1001"`)
	}
}

func TestParseRefund(t *testing.T) {
	t.Parallel()
	vnd, thb := currency(t, "VND"), currency(t, "THB")
	ptr := func(v int64) *int64 { return &v }
	tests := []struct {
		args   string
		cur    orders.Currency
		code   string
		amount *int64
	}{
		{"1001", vnd, "1001", nil},
		{"#1001", vnd, "1001", nil},
		{"# 1001 50k", vnd, "1001", ptr(50000)},
		{"1001 50000", vnd, "1001", ptr(50000)},
		{"1001 50.000 đ", vnd, "1001", ptr(50000)},
		{"#1001\n1,500", vnd, "1001", ptr(1500)},
		{"1001 120.50", thb, "1001", ptr(12050)},
		{"1001 120,5", thb, "1001", ptr(12050)},
	}
	for _, tt := range tests {
		code, amount, err := bot.ParseRefund(tt.args, tt.cur)
		require.NoError(t, err, "%q", tt.args)
		require.Equal(t, tt.code, code, "%q", tt.args)
		require.Equal(t, tt.amount, amount, "%q", tt.args)
	}

	for _, tt := range []struct {
		args  string
		cur   orders.Currency
		parts []string
	}{
		{"", vnd, []string{"missing the order code", `"/refund 1001"`}},
		{"abc 5", vnd, []string{`"abc" is not an order code`, `"/refund 1001 30000"`}},
		{"1001 abc", vnd, []string{`refund amount "abc" is not an amount`}},
		{"1001 -5", vnd, []string{`refund amount "-5" must not be negative`}},
		{"1001 0", vnd, []string{`refund amount "0" must be above zero`}},
		{"1001 1.5", vnd, []string{"VND has no minor unit"}},
		{"1001 1.555", thb, []string{"THB has at most 2 decimals"}},
		{"1001 50 60", vnd, []string{`refund amount "50 60" is not an amount`}},
	} {
		code, amount, err := bot.ParseRefund(tt.args, tt.cur)
		requireInvalid(t, err, tt.parts...)
		require.Empty(t, code)
		require.Nil(t, amount)
	}
}

// formatPrice writes minor units as staff might type them, in one of several
// notations, so that round trips cover them all.
func formatPrice(r *rand.Rand, v int64, cur orders.Currency) string {
	if cur.Decimals == 0 {
		switch r.IntN(4) {
		case 0:
			if v%1000 == 0 && v > 0 {
				return strconv.FormatInt(v/1000, 10) + "k"
			}
		case 1:
			return group(strconv.FormatInt(v, 10), '.')
		case 2:
			return group(strconv.FormatInt(v, 10), ',')
		}
		return strconv.FormatInt(v, 10)
	}
	major, minor := v/100, v%100
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("%s.%02d", group(strconv.FormatInt(major, 10), ','), minor)
	case 1:
		return fmt.Sprintf("%d,%02d", major, minor)
	case 2:
		if minor == 0 {
			return strconv.FormatInt(major, 10)
		}
	}
	return fmt.Sprintf("%d.%02d", major, minor)
}

// group inserts sep between groups of three digits.
func group(digits string, sep byte) string {
	var b strings.Builder
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(sep)
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

func TestParseOrderRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{"Áo thun", "Mũ", "7UP", "Box 10x20", "iPhone 15 @ Pro", "T-shirt (XL)", "ข้าวผัด", "چای", "x", "Ship model"}
	signs := []string{" x ", "x ", " X ", "×", " × ", "*", " * "}
	for range 500 {
		cur := currency(t, []string{"VND", "THB", "JPY", "USD", "IRR"}[r.IntN(5)])
		n := 1 + r.IntN(5)
		var want bot.OrderSpec
		var parts []string
		for range n {
			it := orders.Item{Name: names[r.IntN(len(names))], Quantity: 1 + r.Int64N(domainMaxQuantity), UnitPrice: r.Int64N(1e8)}
			if r.IntN(3) == 0 {
				it.UnitPrice = r.Int64N(1000) * 1000
			}
			want.Items = append(want.Items, it)
			line := it.Name + " @ " + formatPrice(r, it.UnitPrice, cur)
			if it.Quantity != 1 || r.IntN(2) == 0 {
				line = strconv.FormatInt(it.Quantity, 10) + signs[r.IntN(len(signs))] + line
			}
			parts = append(parts, line)
		}
		if r.IntN(2) == 0 {
			want.ShippingFee = r.Int64N(1e6)
			parts = append(parts, "ship "+formatPrice(r, want.ShippingFee, cur))
		}
		sep := []string{"; ", "\n", ";\n"}[r.IntN(3)]
		args := strings.Join(parts, sep)
		got, err := bot.ParseOrder(args, cur)
		require.NoError(t, err, "%q", args)
		require.Equal(t, want, got, "%q", args)
	}
}

// TestOrderLimitsMatchTheDomain creates, through the real service, an order at every
// limit the parser allows, so that a change in the domain's limits fails here.
func TestOrderLimitsMatchTheDomain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	tpl, err := templates.New()
	require.NoError(t, err)
	svc, err := orders.NewService(orders.Config{
		Shops:     []*orders.Shop{{ID: "a", Name: "Shop A", Currency: "VND", Locale: "vi", Gateways: []string{"sandbox"}}},
		Store:     st,
		Renderer:  bot.Renderer{Templates: tpl},
		PublicURL: "https://pay.example",
		LinkKey:   []byte(strings.Repeat("k", orders.LinkKeyLen)),
	})
	require.NoError(t, err)

	vnd := currency(t, "VND")
	name := strings.Repeat("ă", domainMaxItemName)
	lines := []string{fmt.Sprintf("%d x %s @ 1", domainMaxQuantity, name)}
	for range domainMaxItems - 1 {
		lines = append(lines, "Mũ @ 50.000")
	}
	spec, err := bot.ParseOrder(strings.Join(lines, "\n")+"\nship 30k", vnd)
	require.NoError(t, err)
	require.Len(t, spec.Items, domainMaxItems)
	o, err := svc.CreateOrder(ctx, "a", orders.CreateOrderInput{Items: spec.Items, ShippingFee: spec.ShippingFee})
	require.NoError(t, err)
	require.Equal(t, int64(domainMaxQuantity)+(domainMaxItems-1)*50000+30000, o.Total)

	// One past each limit is refused by both.
	for _, in := range []orders.CreateOrderInput{
		{Items: append(spec.Items[:len(spec.Items):len(spec.Items)], orders.Item{Name: "a", Quantity: 1, UnitPrice: 1})},
		{Items: []orders.Item{{Name: "a", Quantity: domainMaxQuantity + 1, UnitPrice: 1}}},
		{Items: []orders.Item{{Name: name + "a", Quantity: 1, UnitPrice: 1}}},
		{Items: []orders.Item{{Name: "a", Quantity: 1, UnitPrice: orders.MaxAmount + 1}}},
	} {
		_, err := svc.CreateOrder(ctx, "a", in)
		require.Equal(t, orders.EINVALID, orders.ErrorCode(err), "%v", err)
	}
	for _, args := range []string{
		strings.Join(lines, "\n") + "\na @ 1",
		fmt.Sprintf("%d x a @ 1", domainMaxQuantity+1),
		name + "a @ 1",
		fmt.Sprintf("a @ %d", orders.MaxAmount+1),
	} {
		_, err := bot.ParseOrder(args, vnd)
		require.Equal(t, orders.EINVALID, orders.ErrorCode(err), "%.80q", args)
	}
}

func FuzzParseOrder(f *testing.F) {
	for _, s := range []string{
		"2 x Áo thun @ 150000; 1 x Mũ @ 50000; ship 30000",
		"2x Áo thun @150000\nMũ @ 150k\nshipping fee: 1.5k",
		"2 x T-shirt @ 120.50; 1 x Cap @ 1,200.50; ship 30",
		"a @ 1.200,50", "3×b @ 1.5k", "Mail @ home @ 5", "ship @ 5", "0 x a @ 5",
		"99999999999999999999 x a @ 1e5", "a @ 1.000.000.000.000.000", "-2 x a @ -5",
		"a @ 1,5k;;\r\n ship 0; ship 1", "2.5 x ₫ @ 150.000đ", "a @ ฿120,5",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(2))
	}
	codes := []string{"VND", "THB", "JPY", "USD", "IRR"}
	f.Fuzz(func(t *testing.T, args string, c uint8) {
		cur, _ := orders.LookupCurrency(codes[int(c)%len(codes)])
		spec, err := bot.ParseOrder(args, cur)
		if err != nil {
			require.Zero(t, spec, "a spec and an error")
			require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
			require.NotEmpty(t, orders.ErrorMessage(err))
			return
		}
		require.NotEmpty(t, spec.Items)
		require.LessOrEqual(t, len(spec.Items), domainMaxItems)
		require.GreaterOrEqual(t, spec.ShippingFee, int64(0))
		total := spec.ShippingFee
		for _, it := range spec.Items {
			require.Equal(t, strings.TrimSpace(it.Name), it.Name)
			require.NotEmpty(t, it.Name)
			require.True(t, utf8.ValidString(it.Name))
			require.LessOrEqual(t, utf8.RuneCountInString(it.Name), domainMaxItemName)
			require.NotContains(t, it.Name, ";")
			require.NotContains(t, it.Name, "\n")
			require.True(t, it.Quantity >= 1 && it.Quantity <= domainMaxQuantity, it.Quantity)
			require.True(t, it.UnitPrice >= 0 && it.UnitPrice <= orders.MaxAmount, it.UnitPrice)
			require.LessOrEqual(t, it.UnitPrice, (orders.MaxAmount-total)/it.Quantity, "sum overflows MaxAmount")
			total += it.Quantity * it.UnitPrice
		}
		require.LessOrEqual(t, total, orders.MaxAmount)
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"/start", "/order 2 x Áo @ 1", "/Order_Ship@ChatPayBot  Mũ @ 5 ", "/order\n1\n2\n", "  /x@y",
		"/tmp/x", "/order@", "/ordér", "", "/\u00a0", "/a@b\u2028c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, ok := bot.ParseCommand(text)
		if !ok {
			require.Zero(t, c)
			return
		}
		require.NotEmpty(t, c.Name)
		require.Equal(t, strings.ToLower(c.Name), c.Name)
		require.Equal(t, strings.TrimSpace(c.Args), c.Args)
		require.True(t, c.For(c.Bot))
		require.True(t, c.For(strings.ToUpper(c.Bot)))
		require.Contains(t, text, c.Args)

		// Writing the command back out parses to the same command.
		again := "/" + c.Name
		if c.Bot != "" {
			again += "@" + c.Bot
		}
		if c.Args != "" {
			again += " " + c.Args
		}
		c2, ok := bot.ParseCommand(again)
		require.True(t, ok, "%q", again)
		require.Equal(t, c, c2)
	})
}
