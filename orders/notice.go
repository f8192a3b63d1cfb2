package orders

// NoticeDuplicateHold: an order that was already paid (or cancelled) got a second
// payment that is only authorised. Such money is released at the gateway (voided),
// not refunded, so staff get this notice instead of NoticeDuplicatePayment, which
// says the extra payment is being refunded.
const NoticeDuplicateHold = "duplicate_hold"
