package templates

// InboxView is the dashboard's inbox: conversations from every channel, one
// transcript, the reply and new-order forms. Times and money are already formatted;
// channels, kinds, statuses and errors are locale keys the pages look up, so the
// handler never puts English into a page.
type InboxView struct {
	// Channel is the list's filter ("" for every channel); ChannelURLs are the
	// filter's links, in order: all, webchat, telegram, messenger.
	Channel     string
	ChannelURLs []ChannelLink
	// Conversations are the list's rows, the latest activity first. NextURL is the
	// list's next page, "" on the last; FirstURL its first page, "" on the first.
	Conversations     []ConversationRow
	NextURL, FirstURL string
	// ListURL is the list with the current filter: where a phone goes back to from
	// a conversation.
	ListURL string
	// Conversation is the open conversation, nil on the list alone.
	Conversation *ConversationView
	// NewOrder is the new-order form, on its page.
	NewOrder *NewOrderForm
}

// ChannelLink is one choice of the list's channel filter: Channel is "" for all.
type ChannelLink struct {
	Channel, URL string
	Current      bool
}

// ConversationRow is one conversation in the list. Channel is a channel name
// (webchat, telegram, messenger); Preview is the latest message's text, shortened,
// and PreviewOut says the shop wrote it. AwaitingReply says the customer wrote last;
// Current marks the open conversation.
type ConversationRow struct {
	URL, Customer, Channel, Preview, Time, TimeISO string
	PreviewOut, AwaitingReply, Current             bool
}

// ConversationView is an open conversation: its transcript, orders and forms.
type ConversationView struct {
	// ID is the conversation's, for its live region; Path its page, which the forms
	// post under (Path + "/reply", Path + "/orders/new").
	ID, Path, Customer, Channel string
	// ChatURL is the customer's own web chat link, for web chat conversations whose
	// link the shop can share ("" otherwise).
	ChatURL string
	// Messages are oldest first. OlderURL shows the page before, "" at the first
	// message; LatestURL goes back to the latest messages from an older page.
	Messages            []TranscriptMessage
	OlderURL, LatestURL string
	Orders              []ConversationOrderRow
	// Window says whether the channel lets the shop write now, when the channel
	// limits it (WindowApplies); WindowCloses is when an open window closes.
	WindowApplies, WindowOpen     bool
	WindowCloses, WindowClosesISO string
	// CanAct shows the reply form and the new-order link (the user's role may).
	CanAct bool
	// ReplyNonce makes the reply form's submissions one reply; ReplyText is what the
	// form was filled with when it is shown again, with ReplyError the key of what
	// was wrong with it (inbox_err_<key>).
	ReplyNonce, ReplyText, ReplyError string
	// Flash is the key of the message about the last action (inbox_flash_<key>),
	// "" for none.
	Flash string
}

// TranscriptMessage is one message of a transcript. Direction is in (the customer)
// or out (the shop); Kind names what it is (text, order_card, staff_reply, ...);
// Status is queued, sent or failed, and FailureReason why it failed. OrderURL is the
// order it is about, when there is one.
type TranscriptMessage struct {
	Direction, Kind, Text   string
	Buttons                 []LinkButton
	Status, FailureReason   string
	Time, TimeISO, OrderURL string
}

// LinkButton is a chat button as the transcript shows it: a link when it opens a page
// (URL), a label otherwise (a button that answers the bot).
type LinkButton struct{ Label, URL string }

// ConversationOrderRow is one order of the conversation, linked to its page.
type ConversationOrderRow struct {
	Code, Status, Total, URL, Time, TimeISO string
}

// NewOrderForm is the form that creates an order for the open conversation, as it
// was filled. Every value is the text the user typed, so nothing is lost when it is
// shown again; the Err fields are error keys (inbox_err_<key>), "" when the field is
// fine.
type NewOrderForm struct {
	Path, Nonce string
	// Currency is the shop's currency code and PriceExample a price written in its
	// major units ("150000" for VND, "150.00" for THB), the fields' hint.
	Currency, PriceExample string
	Lines                  []OrderFormLine
	Shipping, ShippingErr  string
	ShipOnPayment          bool
	// Method is online or cod.
	Method, MethodErr     string
	Metadata, MetadataErr string
	Errors                []FormError
}

// OrderFormLine is one item line of the form: its number (from 1) and fields.
type OrderFormLine struct {
	N                         int64
	Name, Qty, Price          string
	NameErr, QtyErr, PriceErr string
}

// FormError is one entry of the form's error summary: Anchor is the id of the field
// it is about, Line the item line (0 for none), Key the error's key, and Detail the
// service's own message for an error the page has no words for.
type FormError struct {
	Anchor string
	Line   int64
	Key    string
	Detail string
}
