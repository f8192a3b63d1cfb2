package templates

// WebChatView is the customer's web chat page: the transcript and the message form. The
// page's FormAction is where the form posts (the chat's messages, or, on the start
// page, the shop's new-chat route).
type WebChatView struct {
	// Path is the chat page's own path, /chat/<token>; the page's script finds the
	// chat's event stream and messages under it.
	Path string
	// Messages are the transcript, oldest first.
	Messages []WebChatMessage
	// Earlier says the conversation has older messages than those shown.
	Earlier bool
	// Nonce is the idempotency key of the message form: a fresh random value on every
	// render, so that submitting one form twice records the message once.
	Nonce string
	// Draft is put back into the message box when a message was refused (Error says
	// why), so nothing the customer typed is lost.
	Draft, Error string
	// MaxText is the longest message the box takes, in characters.
	MaxText int
}

// WebChatMessage is one message of the web chat's transcript.
type WebChatMessage struct {
	ID string
	// Mine: the customer wrote it; otherwise the shop (its staff, or chatpay for it).
	Mine bool
	// Card: an order card, drawn as a card with its buttons.
	Card bool
	Text string
	// Buttons are links (Pay now, Pay again); they open in a new browsing context,
	// since the chat may be inside a frame and the pay page must not be.
	Buttons []Button
	// Time is when it was written, for people (UTC; the page's script shows it in the
	// reader's own time zone), and TimeISO the same for <time datetime>.
	Time, TimeISO string
}
