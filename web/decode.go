package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/chatpay/chatpay/orders"
)

// maxBody bounds every API request body. An order with the maximum number of items and
// metadata keys fits easily.
const maxBody = 64 << 10

// readBody reads a request body of at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			// Both errors are kept: the orders.Error for the message and code, the
			// MaxBytesError so that errorStatus answers 413.
			return nil, fmt.Errorf("%w%w", orders.Errorf(orders.EINVALID, "The request body is larger than %d KiB.", maxBody>>10), tooLarge)
		}
		return nil, orders.Errorf(orders.EINVALID, "The request body could not be read.")
	}
	return b, nil
}

// decodeJSON decodes exactly one JSON object from body into dst, refusing unknown
// fields and trailing data. Errors are orders.Error EINVALID naming the field at fault,
// prefixed with prefix (the path of body within the request, "" at the top). An empty
// body is an error unless allowEmpty, when dst is left as is.
func decodeJSON(body []byte, dst any, prefix string, allowEmpty bool) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		if allowEmpty {
			return nil
		}
		return orders.Invalidf(prefix, "the request body is empty; send a JSON object")
	}
	if trimmed[0] != '{' {
		if prefix == "" {
			if json.Valid(body) {
				return orders.Errorf(orders.EINVALID, "The request body must be a JSON object.")
			}
		} else {
			return orders.Invalidf(prefix, "must be an object")
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, prefix, len(body))
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return orders.Errorf(orders.EINVALID, "Invalid JSON at offset %d: unexpected data after the JSON object.", end)
	}
	return nil
}

// decodeError turns an encoding/json error into an orders.Error naming the field.
func decodeError(err error, prefix string, size int) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return orders.Errorf(orders.EINVALID, "Invalid JSON at offset %d: %s.", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return orders.Errorf(orders.EINVALID, "Invalid JSON at offset %d: unexpected end of input.", size)
	case errors.As(err, &typ):
		field := joinField(prefix, typ.Field)
		want := describeType(typ.Type)
		if field == "" {
			return orders.Errorf(orders.EINVALID, "The request body must be %s, not %s.", want, typ.Value)
		}
		if field == "metadata" && typ.Type != nil && typ.Type.Kind() == reflect.String {
			return orders.Invalidf(field, "values must be strings, not %s", typ.Value)
		}
		return orders.Invalidf(field, "must be %s, not %s", want, typ.Value)
	}
	// encoding/json reports unknown fields only in its message.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return &orders.Error{Code: orders.EINVALID, Field: joinField(prefix, name), Message: fmt.Sprintf("unknown field %q", name)}
	}
	return orders.Errorf(orders.EINVALID, "Invalid JSON: %s.", strings.TrimPrefix(err.Error(), "json: "))
}

func joinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	default:
		return prefix + "." + field
	}
}

// describeType names the JSON a Go type accepts, for error messages.
func describeType(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	if t == reflect.TypeFor[externalID]() {
		return "a string or an integer"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return describeType(t.Elem())
	}
	return "a " + t.Kind().String()
}

// createOrderRequest is the body of POST /api/v1/orders. Customer and items are kept
// raw and decoded one by one, so that errors inside them name their position
// ("items[2].quantity"), which encoding/json alone does not report.
type createOrderRequest struct {
	Customer      json.RawMessage   `json:"customer"`
	Items         []json.RawMessage `json:"items"`
	ShippingFee   int64             `json:"shipping_fee"`
	Currency      string            `json:"currency"`
	ShipOnPayment bool              `json:"ship_on_payment"`
	PaymentMethod string            `json:"payment_method"`
	Metadata      map[string]string `json:"metadata"`
}

type customerRequest struct {
	Channel    string     `json:"channel"`
	ExternalID externalID `json:"external_id"`
	Name       string     `json:"name"`
	Phone      string     `json:"phone"`
}

type itemRequest struct {
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// externalID accepts a string or an integer: Telegram chat ids are numbers, and
// callers naturally send them as such.
type externalID string

func (e *externalID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = externalID(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	if _, err := strconv.ParseInt(string(b), 10, 64); err != nil {
		value := "number " + string(b)
		switch b[0] {
		case '{':
			value = "object"
		case '[':
			value = "array"
		case 't', 'f':
			value = "bool"
		}
		return &json.UnmarshalTypeError{Value: value, Type: reflect.TypeFor[externalID]()}
	}
	*e = externalID(b)
	return nil
}

// decodeCreateOrder decodes and maps a create-order body. Business validation
// (quantities, currency, totals) is the service's; this only enforces the JSON shape.
func decodeCreateOrder(body []byte) (orders.CreateOrderInput, error) {
	var req createOrderRequest
	if err := decodeJSON(body, &req, "", false); err != nil {
		return orders.CreateOrderInput{}, err
	}
	in := orders.CreateOrderInput{
		ShippingFee:   req.ShippingFee,
		Currency:      req.Currency,
		ShipOnPayment: req.ShipOnPayment,
		PaymentMethod: req.PaymentMethod,
		Metadata:      req.Metadata,
	}
	if len(req.Customer) > 0 && string(req.Customer) != "null" {
		var cr customerRequest
		if err := decodeJSON(req.Customer, &cr, "customer", false); err != nil {
			return orders.CreateOrderInput{}, err
		}
		in.Customer = orders.Customer{Channel: cr.Channel, ExternalID: string(cr.ExternalID), Name: cr.Name, Phone: cr.Phone}
	}
	in.Items = make([]orders.Item, 0, len(req.Items))
	for i, raw := range req.Items {
		var ir itemRequest
		if err := decodeJSON(raw, &ir, fmt.Sprintf("items[%d]", i), false); err != nil {
			return orders.CreateOrderInput{}, err
		}
		in.Items = append(in.Items, orders.Item{Name: ir.Name, Quantity: ir.Quantity, UnitPrice: ir.UnitPrice})
	}
	return in, nil
}

// shipmentRequest is the body of POST /api/v1/orders/{id}/shipments.
type shipmentRequest struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

// refundRequest is the body of POST /api/v1/orders/{id}/refunds; a missing amount
// refunds everything left.
type refundRequest struct {
	Amount *int64 `json:"amount"`
}
