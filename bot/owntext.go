package bot

import (
	"context"
	"log/slog"

	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// Shop owners may rewrite the messages their customers get (the dashboard's
// settings). The Service keeps each shop's texts, compiled by this Renderer, in
// Shop.Messages; Message uses them in place of the built-in texts.

// message renders kind from the shop owner's own text when the shop has one, and from
// the built-in text otherwise, or when the owner's fails on this order: the checks at
// save time make that rare, and an owner's text must never hold up a payment.
func (r Renderer) message(kind string, v templates.View, shop *orders.Shop) (string, []templates.Button, error) {
	if shop != nil {
		if m, ok := shop.Messages[kind].(*templates.MessageTemplate); ok {
			text, buttons, err := r.Templates.MessageWith(m, v)
			if err == nil {
				return text, buttons, nil
			}
			if r.Logger != nil {
				r.Logger.LogAttrs(context.Background(), slog.LevelWarn, "the shop's own text failed; the built-in text is sent",
					slog.String("shop_id", shop.ID), slog.String("kind", kind), slog.Any("err", err))
			}
		}
	}
	return r.Templates.Message(kind, v)
}

// MessageKinds implements orders.MessageCompiler.
func (r Renderer) MessageKinds() []string { return templates.MessageKinds() }

// DefaultMessage implements orders.MessageCompiler.
func (r Renderer) DefaultMessage(locale, kind string) (string, bool) {
	return r.Templates.DefaultMessage(locale, kind)
}

// CompileMessage implements orders.MessageCompiler.
func (r Renderer) CompileMessage(locale, kind, src string) (orders.MessageTemplate, error) {
	m, err := r.Templates.CompileMessage(locale, kind, src)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return m, nil
}

var _ orders.MessageCompiler = Renderer{}
