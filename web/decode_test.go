package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestDecodeCreateOrder(t *testing.T) {
	t.Parallel()

	t.Run("Full", func(t *testing.T) {
		t.Parallel()
		in, err := decodeCreateOrder([]byte(`{"customer": {"channel": "webchat", "external_id": "visitor-42", "name": "Lan", "phone": "0901234567"},
			"items": [{"name": "Áo thun", "quantity": 2, "unit_price": 150000}],
			"shipping_fee": 30000, "currency": "VND", "ship_on_payment": true,
			"payment_method": "online", "metadata": {"branch": "hcm"}}`))
		require.NoError(t, err)
		require.Equal(t, orders.CreateOrderInput{
			Customer:      orders.Customer{Channel: "webchat", ExternalID: "visitor-42", Name: "Lan", Phone: "0901234567"},
			Items:         []orders.Item{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000}},
			ShippingFee:   30000,
			Currency:      "VND",
			ShipOnPayment: true,
			PaymentMethod: "online",
			Metadata:      map[string]string{"branch": "hcm"},
		}, in)
	})

	t.Run("TelegramChatIDAsNumber", func(t *testing.T) {
		t.Parallel()
		in, err := decodeCreateOrder([]byte(`{"customer": {"channel": "telegram", "external_id": -1001234567890}, "items": []}`))
		require.NoError(t, err)
		require.Equal(t, "-1001234567890", in.Customer.ExternalID)
	})

	t.Run("NullCustomer", func(t *testing.T) {
		t.Parallel()
		in, err := decodeCreateOrder([]byte(`{"customer": null, "items": [{"name": "x", "quantity": 1, "unit_price": 1}]}  `))
		require.NoError(t, err)
		require.Equal(t, orders.Customer{}, in.Customer)
		require.Len(t, in.Items, 1)
	})

	for _, tc := range []struct {
		name, body, field, message string
	}{
		{"Empty", ``, "", "the request body is empty"},
		{"Whitespace", " \n", "", "the request body is empty"},
		{"Array", `[1, 2]`, "", "The request body must be a JSON object."},
		{"Null", `null`, "", "The request body must be a JSON object."},
		{"Syntax", `{"items": [}`, "", "Invalid JSON at offset 12"},
		{"Truncated", `{"items": [`, "", "Invalid JSON at offset 11"},
		{"TrailingObject", `{} {}`, "", "Invalid JSON at offset 2: unexpected data after the JSON object."},
		{"TrailingGarbage", `{"currency": "VND"}x`, "", "unexpected data after the JSON object"},
		{"UnknownField", `{"foo": 1}`, "foo", `unknown field "foo"`},
		{"UnknownItemField", `{"items": [{"name": "a"}, {"name": "b", "price": 1}]}`, "items[1].price", `unknown field "price"`},
		{"UnknownCustomerField", `{"customer": {"email": "a@b"}}`, "customer.email", `unknown field "email"`},
		{"QuantityString", `{"items": [{"name": "a", "quantity": "2"}]}`, "items[0].quantity", "must be an integer, not string"},
		{"QuantityFraction", `{"items": [{"name": "a", "quantity": 1.5}]}`, "items[0].quantity", "must be an integer, not number 1.5"},
		{"PriceOverflowsInt64", `{"items": [{"name": "a", "quantity": 1, "unit_price": 99999999999999999999}]}`, "items[0].unit_price", "must be an integer, not number 99999999999999999999"},
		{"ShippingFeeString", `{"shipping_fee": "10"}`, "shipping_fee", "must be an integer, not string"},
		{"ItemsObject", `{"items": {"name": "a"}}`, "items", "must be an array, not object"},
		{"ItemNotObject", `{"items": [3]}`, "items[0]", "must be an object"},
		{"CustomerNotObject", `{"customer": "Lan"}`, "customer", "must be an object"},
		{"ExternalIDObject", `{"customer": {"channel": "webchat", "external_id": {}}}`, "customer.external_id", "must be a string or an integer, not object"},
		{"ShipOnPaymentString", `{"ship_on_payment": "yes"}`, "ship_on_payment", "must be true or false, not string"},
		{"MetadataValueNumber", `{"metadata": {"a": 1}}`, "metadata", "values must be strings, not number"},
		{"ExternalIDFraction", `{"customer": {"channel": "telegram", "external_id": 1.5}}`, "customer.external_id", "must be a string or an integer, not number 1.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeCreateOrder([]byte(tc.body))
			require.Error(t, err)
			var e *orders.Error
			require.True(t, errors.As(err, &e), "want *orders.Error, got %T %v", err, err)
			require.Equal(t, orders.EINVALID, e.Code)
			require.Equal(t, tc.field, e.Field)
			require.Contains(t, orders.ErrorMessage(err), tc.message)
			if tc.field != "" {
				require.True(t, strings.HasPrefix(orders.ErrorMessage(err), tc.field+": "), "message %q names the field", orders.ErrorMessage(err))
			}
		})
	}
}

func TestErrorStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err     error
		invalid int
		status  int
		code    string
	}{
		{orders.Invalidf("items", "bad"), http.StatusBadRequest, 400, orders.EINVALID},
		{orders.Invalidf("amount", "too much"), http.StatusUnprocessableEntity, 422, orders.EINVALID},
		{orders.Errorf(orders.EUNAUTHORIZED, "no"), 400, 401, orders.EUNAUTHORIZED},
		{orders.Errorf(orders.ENOTFOUND, "no"), 400, 404, orders.ENOTFOUND},
		{fmt.Errorf("wrapped: %w", orders.ErrNotFound), 400, 404, orders.ENOTFOUND},
		{orders.Errorf(orders.ECONFLICT, "no"), 400, 409, orders.ECONFLICT},
		{orders.Errorf(orders.EPAYMENTREQUIRED, "no"), 400, 409, orders.EPAYMENTREQUIRED},
		{orders.Errorf(orders.EGONE, "no"), 400, 410, orders.EGONE},
		{orders.Errorf(orders.EINTERNAL, "no"), 400, 500, orders.EINTERNAL},
		{orders.Errorf("mystery", "no"), 400, 500, orders.EINTERNAL},
		{errors.New("disk on fire"), 400, 500, orders.EINTERNAL},
		{fmt.Errorf("%w%w", orders.Invalidf("", "big"), &http.MaxBytesError{Limit: 1}), 400, 413, orders.EINVALID},
	} {
		require.Equal(t, tc.status, errorStatus(tc.err, tc.invalid), "%v", tc.err)
		require.Equal(t, tc.code, errorCode(tc.err), "%v", tc.err)
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]string{
		"Bearer abc":    "abc",
		"bearer  abc ":  "abc",
		"BEARER abc":    "abc",
		"Basic abc":     "",
		"Bearer":        "",
		"abc":           "",
		"":              "",
		"Bearerabc def": "",
	} {
		require.Equal(t, want, bearerToken(h), "%q", h)
	}
}

// FuzzDecodeCreateOrder checks that no body makes the decoder panic, and that every
// rejection is an invalid error with a message, never an internal one.
func FuzzDecodeCreateOrder(f *testing.F) {
	for _, seed := range []string{
		`{"customer": {"channel": "webchat", "external_id": "visitor-42", "name": "Lan"}, "items": [{"name": "Áo thun", "quantity": 2, "unit_price": 150000}], "shipping_fee": 30000, "currency": "VND", "metadata": {"branch": "hcm"}}`,
		`{"customer": {"channel": "telegram", "external_id": 12345}, "items": [{"name": "a", "quantity": 1, "unit_price": 1}]}`,
		`{"items": [{"name": "a", "quantity": -1, "unit_price": 9223372036854775807}]}`,
		`{"items": [{"name": "a", "quantity": 1e400}]}`,
		`{"foo": 1}`,
		`{} {}`,
		`{"items": [null, 3, "x", {}]}`,
		`{"customer": null, "metadata": null, "items": null}`,
		`[`,
		``,
		"{\"items\": [{\"name\": \"\xff\"}]}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := decodeCreateOrder(body)
		if err != nil {
			var e *orders.Error
			if !errors.As(err, &e) || e.Code != orders.EINVALID || e.Message == "" {
				t.Fatalf("decode %q: want an invalid orders.Error, got %T %v", body, err, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
	})
}
