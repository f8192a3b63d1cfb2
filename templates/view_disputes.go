package templates

// DisputesView is the disputes pages: the list, and one dispute with its evidence
// forms. Money and times are already formatted; statuses, reasons and messages are
// keys the pages look up in the locale, so the handler never puts English on a page.
type DisputesView struct {
	// NeedAnswer counts the shop's open disputes, which wait for the owner's answer:
	// the banner of the disputes pages and the count next to Disputes in the
	// navigation. Any dashboard page may set it (on a DisputesView of its own) to
	// show the count.
	NeedAnswer int64
	// Soonest is the open dispute whose evidence is due first (nil when none has a
	// deadline): the banner names it.
	Soonest *DisputeRow

	// Filter is the list's status filter: "", open, pending, won, lost or closed.
	// Filters are the links that change it.
	Filter  string
	Filters []DisputeFilterLink
	// Rows are the disputes listed, newest first; OlderURL pages on, "" at the end.
	Rows     []DisputeRow
	OlderURL string
	// Notices are the latest dispute notices chatpay sent the shop's staff (opened,
	// deadline near, closed), newest first.
	Notices []DisputeNotice

	// Dispute is the dispute page's dispute; nil on the list.
	Dispute *DisputeDetail
}

// DisputeFilterLink is one status filter of the list.
type DisputeFilterLink struct {
	// Key is the status, or "all", shown by its locale string dsp_filter_<key>.
	Key, URL string
	Current  bool
}

// DisputeRow is one dispute as the list shows it. Status is a dispute status (open,
// pending, won, lost) and Reason the gateway's reason code, both shown by their
// locale strings (dsp_st_…, dsp_reason_…) or as they are.
type DisputeRow struct {
	URL, Status, Reason, Amount string
	// Gateway is the gateway's name in chatpay (stripe, omise), GatewayName as
	// owners know it (Stripe, Omise).
	Gateway, GatewayName string
	Opened, OpenedISO    string
	// Due and DueISO are the evidence deadline, "" when the gateway gives none.
	// DaysLeft counts whole days to it, rounded up (0: due today or past);
	// Urgency is "soon" within 7 days, "urgent" within 2, "overdue" once past, and
	// "" otherwise or once the dispute is no longer open.
	Due, DueISO string
	DaysLeft    int64
	Urgency     string
}

// DisputeNotice is one notice about a dispute sent to the shop's staff, in the
// shop's language.
type DisputeNotice struct {
	Text, Time, TimeISO string
	// URL is the order the notice is about, "" when none.
	URL string
}

// DisputeDetail is the dispute page: the dispute, what chatpay knows that may help
// answer it (the order's items come in PageView.Items, the chat and shipments here),
// and the forms to answer it.
type DisputeDetail struct {
	DisputeRow
	// Path is the dispute's page; its forms post to Path + "/evidence", "/message",
	// "/submit" and "/accept".
	Path             string
	GatewayDisputeID string
	// Closed and ClosedISO say when it was won or lost, "" while it is not.
	Closed, ClosedISO string
	// OrderURL is the disputed order's dashboard page; Customer its customer.
	OrderURL, Customer string
	// PaymentRef and Paid are the disputed payment's gateway reference and when it
	// was made.
	PaymentRef, Paid, PaidISO string
	// Transcript is the chat with the customer about the order, oldest first.
	Transcript []TranscriptLine
	// Shipments are the order's parcels, with carrier and tracking number.
	Shipments []ShipmentRow

	// CanAnswer shows the answer forms: the user may answer disputes, the dispute is
	// open, and its gateway takes answers through chatpay. Otherwise Why says why
	// not, by its locale string dsp_why_<Why>: role, pending, closed, gateway
	// (the gateway cannot be answered through chatpay) or gateway_off (it is no
	// longer enabled for the shop).
	CanAnswer bool
	Why       string
	// Flash is the key of the outcome of the last action (dsp_flash_<key>), ""
	// for none; FlashBad shows it as a failure. An unknown key shows nothing, so a
	// link cannot put text of its own on the page.
	Flash    string
	FlashBad bool
	// FlashDetail is the gateway's own words about a refusal ("combine the documents
	// into one PDF"), shown under the flash as they are; "" for none.
	FlashDetail string
	// Text is what was typed in the message field, shown again when sending it
	// failed, so that nothing is lost.
	Text string
	// ConfirmAccept shows the accept form's confirmation box marked as required
	// (after a post without it).
	ConfirmAccept bool
}

// TranscriptLine is one chat message about the order. Direction is out (to the
// customer), in (from the customer) or staff; Status is a delivery status (queued,
// sent, failed) for outgoing ones.
type TranscriptLine struct {
	Direction, Kind, Text, Status, Time, TimeISO string
}
