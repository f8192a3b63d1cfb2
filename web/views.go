package web

import (
	"time"

	"github.com/chatpay/chatpay/orders"
)

// The JSON shapes of the REST API (API.md). They are separate from the domain types so
// that the wire format changes only on purpose. Slices are never null on the wire.

type orderJSON struct {
	ID            string            `json:"id"`
	Code          string            `json:"code"`
	Status        string            `json:"status"`
	PaymentStatus string            `json:"payment_status"`
	Currency      string            `json:"currency"`
	Items         []itemJSON        `json:"items"`
	ShippingFee   int64             `json:"shipping_fee"`
	Total         int64             `json:"total"`
	Customer      customerJSON      `json:"customer"`
	ShipOnPayment bool              `json:"ship_on_payment"`
	Metadata      map[string]string `json:"metadata"`
	PaymentMethod string            `json:"payment_method"`
	PaymentLink   *linkJSON         `json:"payment_link"`
	Payments      []paymentJSON     `json:"payments"`
	Shipments     []shipmentJSON    `json:"shipments"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
	PaidAt        *time.Time        `json:"paid_at"`
}

type itemJSON struct {
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
	Amount    int64  `json:"amount"`
}

type customerJSON struct {
	Channel    string `json:"channel"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	Phone      string `json:"phone"`
}

type linkJSON struct {
	URL    string `json:"url"`
	Active bool   `json:"active"`
}

type paymentJSON struct {
	ID             string    `json:"id"`
	Gateway        string    `json:"gateway"`
	Status         string    `json:"status"`
	Amount         int64     `json:"amount"`
	RefundedAmount int64     `json:"refunded_amount"`
	Currency       string    `json:"currency"`
	Duplicate      bool      `json:"duplicate"`
	CreatedAt      time.Time `json:"created_at"`
}

type shipmentJSON struct {
	ID             string    `json:"id"`
	OrderID        string    `json:"order_id"`
	Carrier        string    `json:"carrier"`
	TrackingNumber string    `json:"tracking_number"`
	CreatedAt      time.Time `json:"created_at"`
}

type refundJSON struct {
	ID            string    `json:"id"`
	OrderID       string    `json:"order_id"`
	PaymentID     string    `json:"payment_id"`
	Amount        int64     `json:"amount"`
	Currency      string    `json:"currency"`
	Status        string    `json:"status"`
	Reason        string    `json:"reason"`
	FailureReason string    `json:"failure_reason,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

type buttonJSON struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

type messageJSON struct {
	ID            string       `json:"id"`
	Direction     string       `json:"direction"`
	Kind          string       `json:"kind"`
	Text          string       `json:"text"`
	Buttons       []buttonJSON `json:"buttons"`
	Status        string       `json:"status"`
	FailureReason string       `json:"failure_reason,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`
	SentAt        *time.Time   `json:"sent_at"`
}

type noticeJSON struct {
	ID        string    `json:"id"`
	OrderID   string    `json:"order_id,omitempty"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// orderJSON renders an order. The link URL is rebuilt from the sealed token, so it
// needs the service.
func (s *Server) orderJSON(o *orders.Order) (orderJSON, error) {
	v := orderJSON{
		ID:            o.ID,
		Code:          o.Code,
		Status:        o.Status,
		PaymentStatus: o.PaymentStatus,
		Currency:      o.Currency,
		Items:         make([]itemJSON, 0, len(o.Items)),
		ShippingFee:   o.ShippingFee,
		Total:         o.Total,
		Customer: customerJSON{
			Channel:    o.Customer.Channel,
			ExternalID: o.Customer.ExternalID,
			Name:       o.Customer.Name,
			Phone:      o.Customer.Phone,
		},
		ShipOnPayment: o.ShipOnPayment,
		Metadata:      o.Metadata,
		PaymentMethod: o.PaymentMethod,
		Payments:      make([]paymentJSON, 0, len(o.Payments)),
		Shipments:     make([]shipmentJSON, 0, len(o.Shipments)),
		CreatedAt:     utc(o.CreatedAt),
		UpdatedAt:     utc(o.UpdatedAt),
		PaidAt:        utcPtr(o.PaidAt),
	}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	for _, it := range o.Items {
		// Quantity and price are bounded by the service, so the product cannot overflow.
		v.Items = append(v.Items, itemJSON{Name: it.Name, Quantity: it.Quantity, UnitPrice: it.UnitPrice, Amount: it.Quantity * it.UnitPrice})
	}
	if o.Link != nil {
		url, err := s.svc.LinkURL(o)
		if err != nil {
			return orderJSON{}, err
		}
		v.PaymentLink = &linkJSON{URL: url, Active: o.LinkActive()}
	}
	for _, p := range o.Payments {
		v.Payments = append(v.Payments, paymentJSON{
			ID:             p.ID,
			Gateway:        p.Gateway,
			Status:         p.Status,
			Amount:         p.Amount,
			RefundedAmount: p.RefundedAmount,
			Currency:       p.Currency,
			Duplicate:      p.Duplicate,
			CreatedAt:      utc(p.CreatedAt),
		})
	}
	for _, sh := range o.Shipments {
		v.Shipments = append(v.Shipments, newShipmentJSON(sh))
	}
	return v, nil
}

func newShipmentJSON(sh *orders.Shipment) shipmentJSON {
	return shipmentJSON{
		ID:             sh.ID,
		OrderID:        sh.OrderID,
		Carrier:        sh.Carrier,
		TrackingNumber: sh.TrackingNumber,
		CreatedAt:      utc(sh.CreatedAt),
	}
}

func newRefundJSON(r *orders.Refund) refundJSON {
	return refundJSON{
		ID:            r.ID,
		OrderID:       r.OrderID,
		PaymentID:     r.PaymentID,
		Amount:        r.Amount,
		Currency:      r.Currency,
		Status:        r.Status,
		Reason:        r.Reason,
		FailureReason: r.FailureReason,
		CreatedAt:     utc(r.CreatedAt),
		UpdatedAt:     utc(r.UpdatedAt),
	}
}

func newMessageJSON(m *orders.Message) messageJSON {
	v := messageJSON{
		ID:            m.ID,
		Direction:     m.Direction,
		Kind:          m.Kind,
		Text:          m.Text,
		Buttons:       make([]buttonJSON, 0, len(m.Buttons)),
		Status:        m.Status,
		FailureReason: m.FailureReason,
		CreatedAt:     utc(m.CreatedAt),
		SentAt:        utcPtr(m.SentAt),
	}
	for _, b := range m.Buttons {
		v.Buttons = append(v.Buttons, buttonJSON{Label: b.Label, URL: b.URL})
	}
	return v
}

func newNoticeJSON(n *orders.Notice) noticeJSON {
	return noticeJSON{ID: n.ID, OrderID: n.OrderID, Kind: n.Kind, Text: n.Text, CreatedAt: utc(n.CreatedAt)}
}
