package stripe

import (
	"strings"

	"github.com/chatpay/chatpay/orders"
)

// currency relates a chatpay currency to Stripe's representation of it. chatpay keeps
// amounts in the minor unit it uses (orders.Currency.Decimals); Stripe expects its own
// minor unit, which differs for IDR: chatpay counts whole rupiah, Stripe counts sen
// (IDR is not on Stripe's zero-decimal list). scale converts between the two.
type currency struct {
	code       string // chatpay's code, upper case
	stripeCode string // Stripe's code, lower case
	scale      int64  // Stripe minor units per chatpay minor unit
}

// stripeDecimals lists the decimals Stripe uses for the currencies chatpay knows that
// Stripe supports (https://docs.stripe.com/currencies#zero-decimal). IRR is missing on
// purpose: Stripe does not process Iranian rials.
var stripeDecimals = map[string]int{
	"VND": 0, "JPY": 0, "KRW": 0,
	"IDR": 2, "THB": 2, "USD": 2, "EUR": 2, "GBP": 2, "SGD": 2, "MYR": 2, "PHP": 2,
}

func stripeCurrency(code string) (currency, error) {
	c, ok := orders.LookupCurrency(code)
	if !ok {
		return currency{}, orders.Invalidf("currency", "unknown currency %q", code)
	}
	d, ok := stripeDecimals[c.Code]
	if !ok || d < c.Decimals {
		return currency{}, orders.Invalidf("currency", "Stripe does not support %s", c.Code)
	}
	scale := int64(1)
	for range d - c.Decimals {
		scale *= 10
	}
	return currency{code: c.Code, stripeCode: strings.ToLower(c.Code), scale: scale}, nil
}

// toStripe converts a chatpay amount to Stripe's minor units.
func (c currency) toStripe(amount int64) (int64, error) {
	if amount > orders.MaxAmount/c.scale {
		return 0, orders.Invalidf("amount", "%d %s is too large for Stripe", amount, c.code)
	}
	return amount * c.scale, nil
}

// fromStripe converts a Stripe amount to chatpay's minor units. Amounts chatpay
// created are exact multiples; a fraction (a refund in sen made on the dashboard) is
// rounded down, so chatpay never believes more money moved than did.
func (c currency) fromStripe(amount int64) int64 { return amount / c.scale }
