package templates

// OrderDetail is what the dashboard's order page shows beyond the items and totals
// every order page has (PageView.Items, Shipping, Total). Money and times are already
// formatted; labels are locale keys the page looks up, so the handler never puts
// English into a page.
type OrderDetail struct {
	// Path is the order page's path; each action form posts to Path + "/" + action.
	Path                                   string
	Customer, PaymentStatus, PaymentMethod string
	// LinkURL is the payment link while it still works, "" otherwise.
	LinkURL   string
	Attempts  []AttemptRow
	Payments  []PaymentRow
	Refunds   []RefundRow
	Shipments []ShipmentRow
	// Timeline is everything that happened to the order, oldest first.
	Timeline []TimelineEntry
	// Refundable is what is left to refund, formatted, and RefundableInput the same
	// amount as a plain number in the currency's major units, the refund field's
	// default; both are "" when there is nothing to refund.
	Refundable, RefundableInput string
	// Currency is the order's currency code, shown next to the refund amount field.
	Currency string
	// CanResend, CanCancel, CanShip and CanRefund say which action forms the page shows;
	// ShipBlocked says the ship form is shown disabled because the order is not paid,
	// because (ShipWhy "not_captured") its payment is only authorised, or because
	// (ShipWhy "refunded") everything paid is refunded or being refunded.
	CanResend, CanCancel, CanShip, CanRefund, ShipBlocked bool
	ShipWhy                                               string
	// The refund form follows what the payment's gateway can do: RefundPartial offers
	// an amount field (otherwise the form refunds everything left); RefundsUsed of
	// RefundsMax refunds are made when the gateway limits them (RefundsMax 0: no
	// limit); RefundUntil is the last day a refund is possible ("" for no window).
	// RefundWhy, when set, is why no refund is possible now (order_refund_why_<key>),
	// and the form is shown disabled.
	RefundPartial           bool
	RefundsUsed, RefundsMax int64
	RefundUntil             string
	RefundWhy               string
	// CanCapture shows the capture form for an authorised payment: Capturable is the
	// amount held and CapturableInput the same as a plain number; CapturePartial
	// offers an amount field. CaptureWhy, when set, is why it cannot be captured from
	// here now (order_capture_why_<key>), and the form is shown disabled.
	CanCapture, CapturePartial  bool
	Capturable, CapturableInput string
	CaptureWhy                  string
	// Live is the page's data-live filters: changes of the order, and messages of its
	// conversation, redraw it.
	Live string
	// ID is the order's ID, which names its live region.
	ID string
	// Flash is the key of the message about the last action ("" for none); the page
	// shows the locale's string flash_<key>, or nothing for an unknown key, so a link
	// cannot put text of its own on the page. FlashBad shows it as a failure.
	Flash    string
	FlashBad bool
}

// AttemptRow is one payment attempt: a tap of Pay now.
type AttemptRow struct {
	Gateway, Amount, Status, FailureReason, Time, TimeISO string
}

// PaymentRow is money a gateway confirmed.
// Status is the payment's status (succeeded, authorized, capturing), shown when it
// is not succeeded.
type PaymentRow struct {
	Gateway, Ref, Amount, Refunded, Status, Time, TimeISO string
	Duplicate                                             bool
}

// RefundRow is money returned on a payment.
type RefundRow struct {
	Amount, Status, Reason, FailureReason, Time, TimeISO string
}

// ShipmentRow is one parcel sent.
type ShipmentRow struct {
	Carrier, Tracking, Time, TimeISO string
}

// TimelineEntry is one thing that happened to an order. Event is a locale key
// (ev_<event>) naming it; Text is free text (a chat message, a carrier and tracking
// number, an amount); Status is a delivery or attempt status shown by its locale key
// (st_<status>) and Reason why it failed.
type TimelineEntry struct {
	Event, Text, Status, Reason, Time, TimeISO string
}

// Label returns the locale's string for key, or "" when there is none: the order
// page's event, status and flash names.
func (d pageData) Label(prefix, key string) string {
	return d.T[prefix+key]
}
