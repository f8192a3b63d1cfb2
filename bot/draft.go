package bot

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chatpay/chatpay/orders"
)

// Draft is an order a staff member is building with buttons instead of typing it
// (the guided /order). It lives in a Dialogs store between button presses, as JSON.
//
// Every button carries the draft's ID, so a button of an older or discarded draft is
// recognised as stale. Applied lists the updates already applied: a chat update
// handled again (a retried job) must not add an item twice.
type Draft struct {
	ID            string `json:"id"`
	ShipOnPayment bool   `json:"ship_on_payment,omitempty"`
	// Offer are the shop's recent items, offered as one-tap buttons.
	Offer []orders.Item `json:"offer,omitempty"`
	// Lines are the items chosen so far.
	Lines       []orders.Item `json:"lines,omitempty"`
	ShippingFee int64         `json:"shipping_fee,omitempty"`
	// Awaiting is what the staff member's next message is read as: DraftAwaitItem,
	// DraftAwaitShipping, or "" when messages go to the customer as usual.
	// AwaitingSince (Unix seconds) lets the mode lapse.
	Awaiting      string `json:"awaiting,omitempty"`
	AwaitingSince int64  `json:"awaiting_since,omitempty"`
	// Rev counts the changes applied. The − and + buttons carry it, because their
	// index names a line of the keyboard they were on: after a change (a double
	// tap), the same index may name another line.
	Rev int `json:"rev,omitempty"`
	// MessageID is the chat message showing the draft, once a button on it was
	// pressed; typed input edits it.
	MessageID int      `json:"message_id,omitempty"`
	Applied   []string `json:"applied,omitempty"`
	// OrderCode is set once the order is created, Discarded once it is thrown
	// away; either way the draft is then read-only, kept a little while so that a
	// retried update finds it.
	OrderCode string `json:"order_code,omitempty"`
	Discarded bool   `json:"discarded,omitempty"`
}

// Closed reports whether the draft was turned into an order or discarded.
func (d *Draft) Closed() bool { return d.OrderCode != "" || d.Discarded }

// What a draft waits for the staff member to type.
const (
	DraftAwaitItem     = "item"
	DraftAwaitShipping = "shipping"
)

// Draft button operations, in callback data "dlg:<draft id>:<op>[:<index>]".
const (
	DraftOpAdd      = "a" // add one of Offer[index]
	DraftOpMore     = "i" // one more of Lines[index]
	DraftOpLess     = "d" // one less of Lines[index]
	DraftOpItem     = "item"
	DraftOpShipping = "ship"
	DraftOpCreate   = "ok"
	DraftOpDiscard  = "x"
)

const (
	draftDataPrefix = "dlg:"
	// MaxDraftOffer is how many recent items a draft offers as buttons.
	MaxDraftOffer = 6
	// MaxDraftLines keeps a draft's message and keyboard within Telegram's limits
	// (4,096 characters, about 100 buttons).
	MaxDraftLines = 20
	// draftApplied is how many applied update keys a draft remembers; updates of
	// one chat are handled in order, so only the latest few can come again.
	draftApplied = 16
	draftLabel   = 28 // runes of an item name shown on a button
)

// NewDraft starts a draft. Its ID is derived from key (the update that asked for
// it), so the update handled again starts the same draft.
func NewDraft(key string, shipOnPayment bool, offer []orders.Item) *Draft {
	sum := sha256.Sum256([]byte(key))
	id := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:5]))
	if len(offer) > MaxDraftOffer {
		offer = offer[:MaxDraftOffer]
	}
	return &Draft{ID: id, ShipOnPayment: shipOnPayment, Offer: offer, Applied: []string{key}}
}

// DecodeDraft reads a stored draft.
func DecodeDraft(raw []byte) (*Draft, error) {
	var d Draft
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("order draft: %w", err)
	}
	return &d, nil
}

// Encode returns the draft as stored.
func (d *Draft) Encode() []byte {
	b, _ := json.Marshal(d) // plain fields only: cannot fail
	return b
}

// Seen reports whether the update key was already applied.
func (d *Draft) Seen(key string) bool {
	for _, k := range d.Applied {
		if k == key {
			return true
		}
	}
	return false
}

// MarkApplied records an applied update key, keeping the latest few, and counts a
// change.
func (d *Draft) MarkApplied(key string) {
	d.Rev++
	d.Applied = append(d.Applied, key)
	if len(d.Applied) > draftApplied {
		d.Applied = d.Applied[len(d.Applied)-draftApplied:]
	}
}

// Total is the draft's items and shipping, in minor units.
func (d *Draft) Total() int64 {
	t := d.ShippingFee
	for _, l := range d.Lines {
		t += l.Quantity * l.UnitPrice
	}
	return t
}

// DraftPress is a pressed draft button: "dlg:<draft id>:<op>" or, for the
// quantity buttons, "dlg:<draft id>:<op>:<index>:<rev>".
type DraftPress struct {
	ID    string
	Op    string
	Index int
	Rev   int
}

// ParseDraftData parses a draft button's callback data.
func ParseDraftData(data string) (DraftPress, bool) {
	rest, ok := strings.CutPrefix(data, draftDataPrefix)
	if !ok {
		return DraftPress{}, false
	}
	parts := strings.Split(rest, ":")
	if len(parts) < 2 || parts[0] == "" {
		return DraftPress{}, false
	}
	p := DraftPress{ID: parts[0], Op: parts[1]}
	switch p.Op {
	case DraftOpAdd, DraftOpMore, DraftOpLess:
		if len(parts) != 4 {
			return DraftPress{}, false
		}
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 0 || n >= maxOrderItems {
			return DraftPress{}, false
		}
		rev, err := strconv.Atoi(parts[3])
		if err != nil || rev < 0 {
			return DraftPress{}, false
		}
		p.Index, p.Rev = n, rev
		return p, true
	case DraftOpItem, DraftOpShipping, DraftOpCreate, DraftOpDiscard:
		return p, len(parts) == 2
	}
	return DraftPress{}, false
}

// Stale reports whether a press came from a keyboard older than the draft, for
// the buttons whose meaning depends on it (− and + name a line by its position).
// An offered item is the same item on every keyboard.
func (d *Draft) Stale(p DraftPress) bool {
	return (p.Op == DraftOpMore || p.Op == DraftOpLess) && p.Rev != d.Rev
}

// Press applies a quantity button. A stale index (the keyboard of an older state of
// the same draft) changes nothing; adding beyond the order limits is refused with an
// EINVALID error that says why.
func (d *Draft) Press(op string, index int) error {
	if op == DraftOpAdd || op == DraftOpMore || op == DraftOpLess {
		d.Awaiting = "" // a quantity button means the staff member moved on from typing
	}
	switch op {
	case DraftOpAdd:
		if index >= len(d.Offer) {
			return nil
		}
		return d.AddItems([]orders.Item{{Name: d.Offer[index].Name, Quantity: 1, UnitPrice: d.Offer[index].UnitPrice}})
	case DraftOpMore:
		if index >= len(d.Lines) {
			return nil
		}
		return d.AddItems([]orders.Item{{Name: d.Lines[index].Name, Quantity: 1, UnitPrice: d.Lines[index].UnitPrice}})
	case DraftOpLess:
		if index >= len(d.Lines) {
			return nil
		}
		if d.Lines[index].Quantity--; d.Lines[index].Quantity <= 0 {
			d.Lines = slices.Delete(d.Lines, index, index+1)
			if len(d.Lines) == 0 {
				d.Lines = nil
			}
		}
	case DraftOpItem:
		d.Awaiting = DraftAwaitItem
		return nil
	case DraftOpShipping:
		d.Awaiting = DraftAwaitShipping
		return nil
	}
	return nil
}

// AddItems adds items, merging each into a line of the same name and price.
func (d *Draft) AddItems(items []orders.Item) error {
	lines := append([]orders.Item(nil), d.Lines...)
	for _, it := range items {
		merged := false
		for i := range lines {
			if lines[i].Name == it.Name && lines[i].UnitPrice == it.UnitPrice {
				if lines[i].Quantity+it.Quantity > maxQuantity {
					return invalid("%s: at most %d of one item", quote(it.Name), maxQuantity)
				}
				lines[i].Quantity += it.Quantity
				merged = true
				break
			}
		}
		if !merged {
			if len(lines) >= MaxDraftLines {
				return invalid("a draft has at most %d lines; type longer orders with /order", MaxDraftLines)
			}
			lines = append(lines, it)
		}
	}
	next := *d
	next.Lines = lines
	if next.Total() > orders.MaxAmount {
		return invalid("the order total would exceed the largest amount chatpay accepts (%d minor units)", orders.MaxAmount)
	}
	d.Lines = lines
	return nil
}

// SetShipping sets the shipping fee, refusing one that overflows the total.
func (d *Draft) SetShipping(fee int64) error {
	next := *d
	next.ShippingFee = fee
	if next.Total() > orders.MaxAmount {
		return invalid("the order total would exceed the largest amount chatpay accepts (%d minor units)", orders.MaxAmount)
	}
	d.ShippingFee = fee
	return nil
}

// DraftLabels are the localised labels of a draft's fixed buttons.
type DraftLabels struct{ TypeItem, Shipping, Create, Discard string }

// Buttons is the draft's keyboard: "− 2 × name" and "+" per chosen line, the
// offered items not chosen yet (two to a row), then typing an item and the
// shipping fee, then create and discard. money formats an amount.
func (d *Draft) Buttons(labels DraftLabels, money func(int64) string) []orders.Button {
	data := func(op string, i ...int) string {
		s := draftDataPrefix + d.ID + ":" + op
		for _, n := range i {
			s += ":" + strconv.Itoa(n)
		}
		if op == DraftOpMore || op == DraftOpLess || op == DraftOpAdd {
			s += ":" + strconv.Itoa(d.Rev)
		}
		return s
	}
	var bs []orders.Button
	for i, l := range d.Lines {
		bs = append(bs,
			orders.Button{Label: fmt.Sprintf("− %d × %s", l.Quantity, clipLabel(l.Name)), Data: data(DraftOpLess, i)},
			orders.Button{Label: "+", Data: data(DraftOpMore, i), SameRow: true})
	}
	offered := 0
	for i, o := range d.Offer {
		chosen := false
		for _, l := range d.Lines {
			chosen = chosen || (l.Name == o.Name && l.UnitPrice == o.UnitPrice)
		}
		if chosen {
			continue
		}
		bs = append(bs, orders.Button{Label: "+ " + clipLabel(o.Name) + " · " + money(o.UnitPrice), Data: data(DraftOpAdd, i), SameRow: offered%2 == 1})
		offered++
	}
	bs = append(bs,
		orders.Button{Label: labels.TypeItem, Data: data(DraftOpItem)},
		orders.Button{Label: labels.Shipping, Data: data(DraftOpShipping), SameRow: true})
	if len(d.Lines) > 0 {
		bs = append(bs, orders.Button{Label: labels.Create, Data: data(DraftOpCreate)},
			orders.Button{Label: labels.Discard, Data: data(DraftOpDiscard), SameRow: true})
	} else {
		bs = append(bs, orders.Button{Label: labels.Discard, Data: data(DraftOpDiscard)})
	}
	return bs
}

func clipLabel(s string) string {
	if utf8.RuneCountInString(s) <= draftLabel {
		return s
	}
	r := []rune(s)
	return string(r[:draftLabel-1]) + "…"
}
