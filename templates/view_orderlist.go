package templates

// OrderListView is the dashboard's orders list: its filters, search and the rows it
// found. Money and times are already formatted; statuses and channels are shown by
// their locale names.
type OrderListView struct {
	// The filter form's values as the user gave them, to fill the form in again.
	Q, Status, PaymentStatus, Channel, From, To, Meta string
	// Filtered says a filter or search is in use: the form's extra filters start
	// open, and an empty list offers to clear them rather than to make an order.
	Filtered bool
	// Error names the filter whose value was refused (status, payment_status,
	// channel, from, to, meta, q or cursor): the page says what is wrong with it
	// (orders_error_<Error>) and lists nothing.
	Error string
	Rows  []OrderListRow
	// NextURL is the next (older) page, "" on the last; FirstURL the first page with
	// the same filters, "" on the first.
	NextURL, FirstURL string
	// NewOrderURL is where a new order is made, "" when the user may not make one.
	NewOrderURL string
	// The choices of the status, payment status and channel selects, in order.
	Statuses, PaymentStatuses, Channels []string
}

// OrderListRow is one order in the list. Channel is webchat, telegram, messenger or
// none; URL is the order's page.
type OrderListRow struct {
	Code, Customer, Phone, Channel, Status, PaymentStatus, Total, Created, CreatedISO, URL string
}
