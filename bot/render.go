package bot

import (
	"log/slog"

	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// Renderer renders order cards, confirmations and staff notices from the embedded
// templates in each shop's locale. It implements orders.Renderer: the service renders a
// message when it queues it, so what the API shows is exactly what a channel delivers.
type Renderer struct {
	Templates *templates.Templates
	// Logger hears of shop owners' texts that failed on an order and were replaced by
	// the built-in text; nil discards.
	Logger *slog.Logger
}

// Message implements orders.Renderer.
func (r Renderer) Message(kind string, d orders.MessageData) (string, []orders.Button, error) {
	switch kind {
	case orders.KindOrderCardPaid, orders.KindOrderCardCancelled:
		// The card as it reads now: the same order, no Pay now, and its status.
		v := View(d)
		v.LinkURL = ""
		text, _, err := r.message(orders.KindOrderCard, v, d.Shop)
		if err != nil {
			return "", nil, err
		}
		mark, status := "✅", orders.StatusPaid
		if kind == orders.KindOrderCardCancelled {
			mark, status = "❌", orders.StatusCancelled
		}
		return text + "\n\n" + mark + " " + r.Templates.StatusLabel(v.Locale, status), nil, nil
	}
	text, buttons, err := r.message(kind, View(d), d.Shop)
	if err != nil {
		return "", nil, err
	}
	out := make([]orders.Button, len(buttons))
	for i, b := range buttons {
		out[i] = orders.Button{Label: b.Label, URL: b.URL}
	}
	return text, out, nil
}

// NoticeButtons implements orders.NoticeButtons: a ready-to-ship notice has a Ship
// button, in the shop's language.
func (r Renderer) NoticeButtons(kind string, d orders.MessageData) []orders.Button {
	if kind != orders.NoticeReadyToShip || d.Order == nil {
		return nil
	}
	locale := ""
	if d.Shop != nil {
		locale = d.Shop.Locale
	}
	return []orders.Button{{Label: r.Templates.ButtonLabel(locale, "ship"), Data: orders.ShipButtonData(d.Order.ID)}}
}

// Notice implements orders.Renderer.
func (r Renderer) Notice(kind string, d orders.MessageData) (string, error) {
	return r.Templates.Notice(kind, View(d))
}

// View turns what the service knows about an order into the template's view, with
// every amount formatted for the shop's locale and currency.
func View(d orders.MessageData) templates.View {
	var v templates.View
	if d.Shop != nil {
		v.Locale, v.ShopName = d.Shop.Locale, d.Shop.Name
	}
	v.LinkURL, v.Reason = d.LinkURL, d.Reason
	if d.Dispute != nil {
		v.Outcome = d.Dispute.Status
		if d.Dispute.EvidenceDueAt != nil {
			v.Due = d.Dispute.EvidenceDueAt.UTC().Format("2006-01-02 15:04 UTC")
		}
	}
	if d.Shipment != nil {
		v.Carrier, v.TrackingNumber = d.Shipment.Carrier, d.Shipment.TrackingNumber
	}
	o := d.Order
	if o == nil {
		if d.Shop != nil && d.Amount != 0 {
			v.Amount = Money(d.Shop, d.Shop.Currency, d.Amount)
		}
		return v
	}
	v.OrderCode, v.CustomerName, v.Status = o.Code, o.Customer.Name, o.Status
	for _, it := range o.Items {
		v.Items = append(v.Items, templates.ItemView{
			Name:      it.Name,
			Quantity:  it.Quantity,
			UnitPrice: Money(d.Shop, o.Currency, it.UnitPrice),
			Amount:    Money(d.Shop, o.Currency, it.UnitPrice*it.Quantity),
		})
	}
	if o.ShippingFee > 0 {
		v.Shipping = Money(d.Shop, o.Currency, o.ShippingFee)
	}
	v.Total = Money(d.Shop, o.Currency, o.Total)
	amount := d.Amount
	if amount == 0 {
		amount = o.Total
	}
	v.Amount = Money(d.Shop, o.Currency, amount)
	return v
}

// Money formats an amount of minor units for the shop's locale.
func Money(shop *orders.Shop, currency string, amount int64) string {
	decimals := 2
	if c, ok := orders.LookupCurrency(currency); ok {
		decimals = c.Decimals
	}
	locale, toman := "en", false
	if shop != nil {
		locale, toman = shop.Locale, shop.DisplayToman
	}
	return templates.FormatMoney(amount, decimals, currency, locale, toman)
}
