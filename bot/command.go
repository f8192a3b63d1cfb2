package bot

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chatpay/chatpay/orders"
)

// Command is a slash command as staff type it in a chat: "/order@ShopBot 2 x Áo @ 150000".
type Command struct {
	// Name is the command without the slash, lower-cased: "order".
	Name string
	// Bot is the username after '@' as typed ("ShopBot"), or "" when there was none.
	Bot string
	// Args is everything after the command, trimmed, with inner newlines kept because
	// an order may list one item per line.
	Args string
}

// maxCommandName mirrors Telegram's limit on command names (1 to 32 characters).
const maxCommandName = 32

// ParseCommand recognises "/name args" and "/name@BotName args". Command names are
// letters, digits and '_' as Telegram allows; anything else right after the slash
// (a path such as "/tmp/x", a price such as "/-5") is not a command.
func ParseCommand(text string) (Command, bool) {
	s := strings.TrimLeftFunc(text, unicode.IsSpace)
	if !strings.HasPrefix(s, "/") {
		return Command{}, false
	}
	s = s[1:]
	n := wordLen(s)
	if n == 0 || n > maxCommandName {
		return Command{}, false
	}
	c := Command{Name: strings.ToLower(s[:n])}
	s = s[n:]
	if strings.HasPrefix(s, "@") {
		b := wordLen(s[1:])
		if b == 0 || b > maxCommandName {
			return Command{}, false
		}
		c.Bot, s = s[1:1+b], s[1+b:]
	}
	// The command must end at a space or the end of the text: "/order2" is another
	// command, and "/order:" or "/ordér" are not commands at all.
	if s != "" {
		r, _ := utf8.DecodeRuneInString(s)
		if !unicode.IsSpace(r) {
			return Command{}, false
		}
	}
	c.Args = strings.TrimSpace(s)
	return c, true
}

// wordLen returns the length of the run of ASCII letters, digits and '_' that s starts with.
func wordLen(s string) int {
	for i := range len(s) {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_') {
			return i
		}
	}
	return len(s)
}

// For reports whether the command is addressed to the bot with this username: in a
// group, "/order@OtherBot" belongs to another bot and must be ignored.
func (c Command) For(botUsername string) bool {
	return c.Bot == "" || strings.EqualFold(c.Bot, strings.TrimPrefix(botUsername, "@"))
}

// These mirror the limits orders.Service enforces on CreateOrderInput, so that staff
// hear about a problem in the words of the line they typed rather than as
// "items[41].quantity". TestOrderLimitsMatchTheDomain checks them against the service.
const (
	maxOrderItems = 100
	maxQuantity   = 1_000_000
	maxItemName   = 200
)

// OrderSpec is what an /order command asks for, in minor units of the shop's currency.
type OrderSpec struct {
	Items       []orders.Item
	ShippingFee int64
}

// ParseOrder parses the arguments of /order and /order_ship:
//
//	2 x Áo thun @ 150000; 1 x Mũ @ 50000; ship 30000
//
// Items are separated by ';' or new lines. An item is "quantity x name @ price"; the
// quantity and its times sign (x, X, × or *) may be left out for one. The last '@'
// separates the name from the price, so names may contain '@'; a quantity is only a
// leading whole number followed by a times sign, so "7UP @ 10000" is one "7UP". One
// "ship FEE" (or "shipping FEE") segment sets the shipping fee. Prices are in major
// units: see parseAmount for the forms accepted. Every error is an EINVALID
// *orders.Error whose message names the item and the problem.
func ParseOrder(args string, currency orders.Currency) (OrderSpec, error) {
	if err := checkCurrency(currency); err != nil {
		return OrderSpec{}, err
	}
	if !utf8.ValidString(args) {
		return OrderSpec{}, invalid("the order text is not valid UTF-8")
	}
	var (
		spec    OrderSpec
		total   int64
		hasShip bool
	)
	for seg := range strings.FieldsFuncSeq(args, func(r rune) bool { return r == ';' || r == '\n' || r == '\r' }) {
		seg = strings.TrimSpace(seg)
		if seg == "" {
			continue
		}
		if fee, ok := shippingSegment(seg); ok {
			where := fmt.Sprintf("shipping (%s)", quote(seg))
			if hasShip {
				return OrderSpec{}, invalid("%s: an order has one shipping fee; remove the extra one", where)
			}
			hasShip = true
			if fee == "" {
				return OrderSpec{}, invalid("%s: missing the fee, as in \"ship %s\"", where, exampleShip(currency))
			}
			v, msg := parseAmount("fee", fee, currency)
			if msg != "" {
				return OrderSpec{}, invalid("%s: %s", where, msg)
			}
			spec.ShippingFee = v
			continue
		}
		n := len(spec.Items) + 1
		where := fmt.Sprintf("item %d (%s)", n, quote(seg))
		if n > maxOrderItems {
			return OrderSpec{}, invalid("%s: too many items; an order has at most %d", where, maxOrderItems)
		}
		it, msg := parseItem(seg, currency)
		if msg != "" {
			return OrderSpec{}, invalid("%s: %s", where, msg)
		}
		// Quantity is at least 1, and dividing first keeps the product from overflowing.
		if it.UnitPrice > orders.MaxAmount/it.Quantity {
			return OrderSpec{}, invalid("%s: quantity × price exceeds the largest amount chatpay accepts (%d minor units)", where, orders.MaxAmount)
		}
		if total += it.Quantity * it.UnitPrice; total > orders.MaxAmount {
			return OrderSpec{}, invalid("%s: the order total exceeds the largest amount chatpay accepts (%d minor units)", where, orders.MaxAmount)
		}
		spec.Items = append(spec.Items, it)
	}
	if len(spec.Items) == 0 {
		return OrderSpec{}, invalid("an order needs at least one item, as in \"%s\"", exampleItem(currency))
	}
	if total+spec.ShippingFee > orders.MaxAmount {
		return OrderSpec{}, invalid("shipping: the order total exceeds the largest amount chatpay accepts (%d minor units)", orders.MaxAmount)
	}
	return spec, nil
}

// shippingSegment reports whether seg sets the shipping fee, and returns the fee as
// typed. "ship 30000", "Shipping: 30000" and "ship @ 30000" do; "Ship model @ 50000"
// is an item, because its words before '@' are more than the keyword.
func shippingSegment(seg string) (fee string, ok bool) {
	kw := 0
	switch lower := strings.ToLower(seg); {
	case strings.HasPrefix(lower, "shipping"):
		kw = len("shipping")
	case strings.HasPrefix(lower, "ship"):
		kw = len("ship")
	default:
		return "", false
	}
	rest := seg[kw:]
	if rest != "" {
		r, _ := utf8.DecodeRuneInString(rest)
		if !unicode.IsSpace(r) && r != ':' && r != '=' && r != '@' {
			return "", false // "shipper @ 5" or "shipments" are names.
		}
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if w := strings.Trim(rest[:at], " \t:="); w != "" && !strings.EqualFold(w, "fee") {
			return "", false
		}
		return strings.TrimSpace(rest[at+1:]), true
	}
	rest = strings.TrimSpace(rest)
	// "ship fee 30000" and "shipping fee: 30000" say the same.
	if len(rest) >= 3 && strings.EqualFold(rest[:3], "fee") && (len(rest) == 3 || strings.ContainsRune(" \t:=", rune(rest[3]))) {
		rest = strings.TrimSpace(rest[3:])
	}
	return strings.TrimSpace(strings.TrimLeft(rest, ":=")), true
}

// parseItem parses "quantity x name @ price". It returns a message naming the problem
// instead of an error so that ParseOrder can say which item it is about.
func parseItem(seg string, cur orders.Currency) (orders.Item, string) {
	at := strings.LastIndexByte(seg, '@')
	if at < 0 {
		return orders.Item{}, `missing "@ price"`
	}
	left, price := strings.TrimSpace(seg[:at]), strings.TrimSpace(seg[at+1:])
	it := orders.Item{Quantity: 1}
	if q, name, ok := cutQuantity(left); ok {
		v, err := strconv.ParseInt(q, 10, 64)
		switch {
		case strings.HasPrefix(q, "-"):
			return orders.Item{}, fmt.Sprintf("quantity %s must be between 1 and %d", q, maxQuantity)
		case err != nil && !isDigits(q):
			return orders.Item{}, fmt.Sprintf("quantity %q must be a whole number between 1 and %d", q, maxQuantity)
		case err != nil || v < 1 || v > maxQuantity:
			return orders.Item{}, fmt.Sprintf("quantity must be between 1 and %d, got %s", maxQuantity, q)
		}
		it.Quantity, left = v, name
	}
	it.Name = strings.TrimSpace(left)
	if it.Name == "" {
		return orders.Item{}, "missing the item name before \"@\""
	}
	if n := utf8.RuneCountInString(it.Name); n > maxItemName {
		return orders.Item{}, fmt.Sprintf("the name has %d characters; at most %d are allowed", n, maxItemName)
	}
	if price == "" {
		return orders.Item{}, `missing the price after "@"`
	}
	v, msg := parseAmount("price", price, cur)
	if msg != "" {
		return orders.Item{}, msg
	}
	it.UnitPrice = v
	return it, ""
}

// cutQuantity splits "2 x Áo" into "2" and "Áo". It recognises a leading number
// (possibly signed or with a decimal mark, so that those get a precise error), then
// optional spaces, then a times sign. A letter x must be followed by a space or the
// end: "2xl shirt" and "2 xanh" are names, not quantities.
func cutQuantity(s string) (q, rest string, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && (isDigit(s[i]) || (digits > 0 && (s[i] == '.' || s[i] == ','))) {
		if isDigit(s[i]) {
			digits++
		}
		i++
	}
	if digits == 0 {
		return "", "", false
	}
	q = s[:i]
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	r, size := utf8.DecodeRuneInString(s[j:])
	switch r {
	case '×', '*':
	case 'x', 'X':
		if j+size < len(s) {
			next, _ := utf8.DecodeRuneInString(s[j+size:])
			if !unicode.IsSpace(next) {
				return "", "", false
			}
		}
	default:
		return "", "", false
	}
	return q, s[j+size:], true
}

// ParseCode parses the argument of /ship, /resend and /cancel: an order code such as
// "1001" or "#1001". Leading zeros are dropped so "#01001" finds order 1001.
func ParseCode(args string) (string, error) {
	s := strings.TrimSpace(args)
	if s == "" {
		return "", invalid(`missing the order code, as in "/ship 1001"`)
	}
	code, ok := orderCode(s)
	if !ok {
		return "", invalid(`%s is not an order code; write its number, as in "/ship 1001" or "/ship #1001"`, quote(s))
	}
	return code, nil
}

func orderCode(s string) (string, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(s, "#"))
	if !isDigits(s) {
		return "", false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return "", false
	}
	return strconv.FormatInt(v, 10), true
}

// ParseRefund parses "/refund CODE [amount]". The amount is in major units as in
// ParseOrder; without it amount is nil, which refunds what is left of the order.
func ParseRefund(args string, currency orders.Currency) (code string, amount *int64, err error) {
	if err := checkCurrency(currency); err != nil {
		return "", nil, err
	}
	s := strings.TrimSpace(args)
	if s == "" {
		return "", nil, invalid(`missing the order code, as in "/refund 1001" or "/refund 1001 %s"`, exampleShip(currency))
	}
	first, rest := s, ""
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		first, rest = s[:i], strings.TrimSpace(s[i:])
	}
	if first == "#" { // "# 1001"
		first, rest, _ = strings.Cut(rest, " ")
		first, rest = "#"+first, strings.TrimSpace(rest)
	}
	code, ok := orderCode(first)
	if !ok {
		return "", nil, invalid(`%s is not an order code; write its number, as in "/refund 1001" or "/refund 1001 %s"`, quote(first), exampleShip(currency))
	}
	if rest == "" {
		return code, nil, nil
	}
	v, msg := parseAmount("refund amount", rest, currency)
	if msg != "" {
		return "", nil, invalid("%s", msg)
	}
	if v == 0 {
		return "", nil, invalid("refund amount %s must be above zero; leave it out to refund the rest of the order", quote(rest))
	}
	return code, &v, nil
}

// ParseFee parses a shipping fee typed on its own, in major units as in ParseOrder:
// "30000", "30k", "30.000 ₫", or "0" for free shipping.
func ParseFee(raw string, currency orders.Currency) (int64, error) {
	if err := checkCurrency(currency); err != nil {
		return 0, err
	}
	if !utf8.ValidString(raw) {
		return 0, invalid("the fee is not valid UTF-8")
	}
	v, msg := parseAmount("fee", raw, currency)
	if msg != "" {
		return 0, invalid("shipping: %s", msg)
	}
	return v, nil
}

// OrderUsage returns the help text for /order with an example in the currency's
// notation, for replies to a command that did not parse.
func OrderUsage(currency orders.Currency) string {
	var b strings.Builder
	b.WriteString("Usage: /order QUANTITY x NAME @ PRICE; QUANTITY x NAME @ PRICE; ship FEE\n")
	fmt.Fprintf(&b, "Example: /order %s\n", exampleOrder(currency))
	b.WriteString("Separate items with \";\" or new lines. Leave out \"QUANTITY x\" for one piece. \"ship FEE\" is optional.\n")
	code := currency.Code
	if code == "" {
		code = "the shop's currency"
	}
	if currency.Decimals == 0 {
		fmt.Fprintf(&b, "Prices are whole amounts of %s: 150000, 150.000, 150,000 and 150k are the same.", code)
	} else {
		fmt.Fprintf(&b, "Prices are in %s with up to %d decimals: 120.50, 120,50 or 1,200.50.", code, currency.Decimals)
	}
	return b.String()
}

func exampleOrder(c orders.Currency) string {
	if c.Decimals == 0 {
		return "2 x Áo thun @ 150000; 1 x Mũ @ 50000; ship 30000"
	}
	return "2 x T-shirt @ 120.50; 1 x Cap @ 50; ship 30"
}

func exampleItem(c orders.Currency) string {
	if c.Decimals == 0 {
		return "2 x Áo thun @ 150000"
	}
	return "2 x T-shirt @ 120.50"
}

func exampleShip(c orders.Currency) string {
	if c.Decimals == 0 {
		return "30000"
	}
	return "30"
}

// maxDecimals bounds the currencies parseAmount handles; no ISO 4217 currency has more
// than 4 and a larger value would overflow the powers of ten.
const maxDecimals = 4

func checkCurrency(c orders.Currency) error {
	if c.Decimals < 0 || c.Decimals > maxDecimals {
		return invalid("currency %q with %d decimals is not supported", c.Code, c.Decimals)
	}
	return nil
}

// currencySymbols are the marks people type next to amounts, besides the ISO code.
// They are matched case-insensitively, in order, so a longer mark comes before its suffix.
var currencySymbols = map[string][]string{
	"VND": {"vnđ", "₫", "đ"},
	"THB": {"฿"},
	"USD": {"US$", "$"},
	"EUR": {"€"},
	"GBP": {"£"},
	"SGD": {"S$"},
	"MYR": {"RM"},
	"IDR": {"Rp"},
	"PHP": {"₱"},
	"JPY": {"¥", "円"},
	"KRW": {"₩", "원"},
	"IRR": {"﷼", "ریال"},
}

// stripCurrency removes the currency's code or symbol before or after the amount.
func stripCurrency(s string, c orders.Currency) string {
	marks := currencySymbols[c.Code]
	if c.Code != "" {
		marks = append([]string{c.Code}, marks...)
	}
	for _, m := range marks {
		if len(s) > len(m) && strings.EqualFold(s[len(s)-len(m):], m) {
			return strings.TrimSpace(s[:len(s)-len(m)])
		}
		if len(s) > len(m) && strings.EqualFold(s[:len(m)], m) {
			return strings.TrimSpace(s[len(m):])
		}
	}
	return s
}

// parseAmount parses an amount in major units of c into minor units. It returns a
// message naming the problem (starting with label) instead of an error.
//
// Accepted: "150000", thousands grouping with '.' or ',' in groups of exactly three
// ("150.000", "1,200.50", "1.200,50"), a decimal mark '.' or ',' (a lone ',' followed
// by three digits is grouping, as is a lone '.' for currencies without decimals), a
// "k" suffix for thousands ("150k", "1.5k"), and the currency's code or symbol. More
// decimals than the currency has is an error, never a rounding.
func parseAmount(label, raw string, c orders.Currency) (int64, string) {
	s := stripCurrency(strings.TrimSpace(raw), c)
	if s == "" {
		return 0, "missing the " + label
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "−") {
		return 0, fmt.Sprintf("%s %s must not be negative", label, quote(raw))
	}
	exp := c.Decimals
	kilo := strings.HasSuffix(s, "k") || strings.HasSuffix(s, "K")
	if kilo {
		s = strings.TrimSpace(s[:len(s)-1])
		exp += 3
	}
	notAmount := func() (int64, string) {
		if c.Decimals == 0 {
			return 0, fmt.Sprintf("%s %s is not an amount; write it like 150000, 150.000 or 150k", label, quote(raw))
		}
		return 0, fmt.Sprintf("%s %s is not an amount; write it like 120, 120.50 or 1,200.50", label, quote(raw))
	}
	if s == "" || !isDigit(s[0]) || !isDigit(s[len(s)-1]) {
		return notAmount()
	}
	// Find the separators and decide which, if any, is the decimal mark.
	var (
		last     = -1 // index of the last separator
		count    int  // separators of the same kind as the last one
		mixed    bool // separators of both kinds
		lastKind byte
	)
	for i := range len(s) {
		switch b := s[i]; {
		case isDigit(b):
		case b == '.' || b == ',':
			if last >= 0 && b != lastKind {
				if mixed {
					return notAmount() // "1.2,3.4": kinds alternate.
				}
				mixed, count = true, 0
			}
			last, lastKind = i, b
			count++
		default:
			return notAmount()
		}
	}
	intPart, frac := s, ""
	if last >= 0 {
		after := len(s) - last - 1
		decimal := false
		switch {
		case mixed:
			if count > 1 {
				return notAmount() // "1.200,50,5"
			}
			decimal = true
		case count > 1:
			decimal = false
		case after != 3:
			decimal = true
		default:
			// One separator followed by three digits: grouping, except that a lone
			// '.' is a decimal point in currencies with decimals ("1.500" THB is 1.5,
			// and then an error for its third decimal, rather than a silent 1500).
			decimal = lastKind == '.' && c.Decimals > 0
		}
		if decimal {
			intPart, frac = s[:last], s[last+1:]
		}
		if msg := checkGroups(intPart); msg != "" {
			return 0, fmt.Sprintf("%s %s: %s", label, quote(raw), msg)
		}
		intPart = strings.Map(func(r rune) rune {
			if r == '.' || r == ',' {
				return -1
			}
			return r
		}, intPart)
	}
	if kilo {
		frac = strings.TrimRight(frac, "0")
	}
	if len(frac) > exp {
		if c.Decimals == 0 {
			return 0, fmt.Sprintf("%s %s: %s has no minor unit, so the amount must be whole", label, quote(raw), c.Code)
		}
		return 0, fmt.Sprintf("%s %s: %s has at most %d decimals", label, quote(raw), c.Code, c.Decimals)
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return 0, ""
	}
	digits += strings.Repeat("0", exp-len(frac))
	// MaxAmount has 16 digits; checking the length first keeps ParseInt in range.
	v, err := strconv.ParseInt(digits, 10, 64)
	if len(digits) > 16 || err != nil || v > orders.MaxAmount {
		return 0, fmt.Sprintf("%s %s exceeds the largest amount chatpay accepts (%d minor units)", label, quote(raw), orders.MaxAmount)
	}
	return v, ""
}

// checkGroups checks thousands grouping in an integer part such as "1.200.000": the
// first group has one to three digits and every later one exactly three.
func checkGroups(s string) string {
	if strings.IndexAny(s, ".,") < 0 {
		return ""
	}
	for i, g := range strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == ',' }) {
		if i == 0 && len(g) > 3 || i > 0 && len(g) != 3 {
			return "digit groups after a thousands separator must have exactly 3 digits"
		}
	}
	if strings.Contains(s, "..") || strings.Contains(s, ",,") || strings.Contains(s, ".,") || strings.Contains(s, ",.") {
		return "digit groups after a thousands separator must have exactly 3 digits"
	}
	return ""
}

// quote quotes what the user typed for an error message, shortened so that a long
// line does not drown the message.
func quote(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) > limit {
		n := 0
		for i := range s {
			if n == limit-1 {
				s = s[:i] + "…"
				break
			}
			n++
		}
	}
	return strconv.Quote(s)
}

func invalid(format string, args ...any) error {
	return orders.Errorf(orders.EINVALID, format, args...)
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
