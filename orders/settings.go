package orders

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// A shop's settings have two sources. The configuration (chatpay's YAML) names the
// shop and sets its defaults; the owner changes some of them in the dashboard, and
// what they save (ShopSettings, in the store) is laid over the configuration: the
// dashboard wins, and "reset to configured" hands the fields back to the
// configuration. A saved field equal to the configured value is stored as "follow the
// configuration", so saving the form to fix one message does not pin the shop's name
// against a later change of the configuration.
//
// Service.Shop is on every hot path (each webhook, pay page and message), so it reads
// the merged shops from memory: one atomic pointer to an immutable table, swapped
// whole. The table is built at start (LoadSettings), after a save on this replica,
// when another replica says it saved (ReloadShopSettings, from a ChangeSettings), and
// every half minute (WatchSettings) in case such a change was lost.

// ShopSettings are what a shop's owner changed in the dashboard's settings page. A
// nil field follows the configuration; Templates hold the owner's own texts of
// customer messages, which replace the built-in ones.
type ShopSettings struct {
	ShopID               string
	Name                 *string
	Locale               *string
	DisplayToman         *bool
	SendPaidConfirmation *bool
	// Templates are the owner's message texts by locale, then by message kind
	// (KindOrderCard, KindPaidConfirmation, ...): text/template sources. Stores never
	// return nil.
	Templates map[string]map[string]string
	// Version is the compare-and-set counter: 0 before the first save, then one more
	// with each save.
	Version   int64
	UpdatedAt time.Time
	// UpdatedBy is the dashboard user who saved last.
	UpdatedBy string
}

// MessageTemplate is a customer message's text written by a shop's owner and
// compiled by the Renderer, which alone knows how to render it.
type MessageTemplate interface {
	// Source returns the text as the owner wrote it.
	Source() string
}

// MessageCompiler is a Renderer that lets owners rewrite customer messages: its
// Message renders the kind from MessageData.Shop.Messages when the shop has one.
// Without it, shops send the built-in texts and saving a text is refused.
type MessageCompiler interface {
	// MessageKinds lists the customer messages an owner may rewrite.
	MessageKinds() []string
	// DefaultMessage returns the built-in text of kind in locale.
	DefaultMessage(locale, kind string) (string, bool)
	// CompileMessage parses and checks an owner's text of kind in locale. Its error
	// is a sentence for the owner.
	CompileMessage(locale, kind, src string) (MessageTemplate, error)
}

// shopLocales are the languages a shop may speak to its customers.
var shopLocales = []string{"en", "vi", "th", "fa"}

// maxShopName bounds a shop's name, in characters.
const maxShopName = 100

// shopSet holds the configured shops and the merged ones Service.Shop returns.
type shopSet struct {
	configured map[string]*Shop
	order      []string
	// compiler is the renderer when it compiles owners' texts, else nil.
	compiler MessageCompiler
	table    atomic.Pointer[shopTable]
	// reload serialises rebuilding the table, from reading the store to swapping, so
	// that a read made before a save can never replace the shops built after it.
	reload sync.Mutex
}

// shopTable is one immutable generation of the merged shops.
type shopTable struct {
	byID map[string]*Shop
	list []*Shop
	// saved are the settings each merged shop was built from, by shop ID.
	saved map[string]*ShopSettings
}

func newShopSet(shops []*Shop, r Renderer) *shopSet {
	ss := &shopSet{configured: make(map[string]*Shop, len(shops))}
	ss.compiler, _ = r.(MessageCompiler)
	t := &shopTable{byID: make(map[string]*Shop, len(shops)), saved: map[string]*ShopSettings{}}
	for _, sh := range shops {
		if _, dup := ss.configured[sh.ID]; !dup {
			ss.order = append(ss.order, sh.ID)
		}
		ss.configured[sh.ID] = sh
		t.byID[sh.ID] = sh
	}
	for _, id := range ss.order {
		t.list = append(t.list, t.byID[id])
	}
	ss.table.Store(t)
	return ss
}

func (ss *shopSet) get(id string) (*Shop, bool) {
	sh, ok := ss.table.Load().byID[id]
	return sh, ok
}

func (ss *shopSet) all() []*Shop { return slices.Clone(ss.table.Load().list) }

// swap builds the next table from the current one with saved's shops rebuilt: a
// shop in saved with nil settings goes back to its configuration. Callers hold
// ss.reload. It returns the problems with owners' templates, which are left out.
func (ss *shopSet) swap(saved map[string]*ShopSettings) error {
	cur := ss.table.Load()
	next := &shopTable{byID: maps.Clone(cur.byID), saved: maps.Clone(cur.saved)}
	var errs []error
	for id, st := range saved {
		cfg, ok := ss.configured[id]
		if !ok {
			continue // settings of a shop no longer configured
		}
		if st == nil {
			next.byID[id] = cfg
			delete(next.saved, id)
			continue
		}
		if old := cur.saved[id]; old != nil && old.Version == st.Version && old.UpdatedAt.Equal(st.UpdatedAt) {
			continue // built from these settings already
		} else if old != nil && st.Version < old.Version {
			// Older than what the table has: a save swaps in after its commit, by which
			// time this replica may have loaded a newer save (another replica's, on its
			// ChangeSettings). Versions only grow, so the newer one stays.
			continue
		}
		sh, problems := ss.merge(cfg, st)
		errs = append(errs, problems...)
		next.byID[id], next.saved[id] = sh, st
	}
	for _, id := range ss.order {
		next.list = append(next.list, next.byID[id])
	}
	ss.table.Store(next)
	if len(errs) > 0 {
		return &TextsRefusedError{Errs: errs}
	}
	return nil
}

// TextsRefusedError lists owners' message texts left out when shops were loaded
// (this chatpay checks something the one that saved them did not): their built-in
// texts are sent until the owner saves them again. Everything else was applied, so
// it is for the logs, not a reason to stop.
type TextsRefusedError struct{ Errs []error }

func (e *TextsRefusedError) Error() string   { return errors.Join(e.Errs...).Error() }
func (e *TextsRefusedError) Unwrap() []error { return e.Errs }

// merge lays saved settings over a configured shop, compiling the owner's texts in
// the shop's language. A text that no longer compiles (a newer chatpay may check
// more) is left out, so the built-in one is sent, and reported.
func (ss *shopSet) merge(cfg *Shop, st *ShopSettings) (*Shop, []error) {
	if st.Name == nil && st.Locale == nil && st.DisplayToman == nil && st.SendPaidConfirmation == nil &&
		len(st.Templates[cfg.Locale]) == 0 {
		return cfg, nil // nothing to lay over the configuration
	}
	sh := *cfg
	if st.Name != nil {
		sh.Name = *st.Name
	}
	if st.Locale != nil {
		sh.Locale = *st.Locale
	}
	if st.DisplayToman != nil {
		sh.DisplayToman = *st.DisplayToman
	}
	sh.DisplayToman = sh.DisplayToman && sh.Currency == "IRR"
	if st.SendPaidConfirmation != nil {
		sh.SendPaidConfirmation = *st.SendPaidConfirmation
	}
	sh.Messages = nil
	texts := st.Templates[sh.Locale]
	if len(texts) == 0 {
		return &sh, nil
	}
	if ss.compiler == nil {
		return &sh, []error{fmt.Errorf("shop %s: the renderer cannot render the owner's message texts; the built-in ones are sent", sh.ID)}
	}
	var errs []error
	sh.Messages = make(map[string]MessageTemplate, len(texts))
	for _, kind := range slices.Sorted(maps.Keys(texts)) {
		m, err := ss.compiler.CompileMessage(sh.Locale, kind, texts[kind])
		if err != nil {
			errs = append(errs, fmt.Errorf("shop %s: %s (%s): %v; the built-in text is sent", sh.ID, kind, sh.Locale, err))
			continue
		}
		sh.Messages[kind] = m
	}
	return &sh, errs
}

// LoadSettings reads every shop's saved settings and lays them over the configured
// shops. It fails when the store cannot be read; texts that no longer compile are
// left out and reported with a *TextsRefusedError, and the rest is applied.
func (s *Service) LoadSettings(ctx context.Context) error { return s.ReloadSettings(ctx) }

// ReloadSettings rebuilds every shop from its configuration and what is saved now.
func (s *Service) ReloadSettings(ctx context.Context) error {
	s.shops.reload.Lock()
	defer s.shops.reload.Unlock()
	all, err := s.store.AllShopSettings(ctx)
	if err != nil {
		return fmt.Errorf("load shop settings: %w", err)
	}
	saved := make(map[string]*ShopSettings, len(s.shops.order))
	for _, id := range s.shops.order {
		saved[id] = nil // nothing saved: back to the configuration
	}
	for _, st := range all {
		saved[st.ShopID] = st
	}
	return s.shops.swap(saved)
}

// ReloadShopSettings rebuilds one shop from what is saved now: how a replica picks
// up a save made on another (a ChangeSettings).
func (s *Service) ReloadShopSettings(ctx context.Context, shopID string) error {
	if _, ok := s.shops.configured[shopID]; !ok {
		return nil
	}
	s.shops.reload.Lock()
	defer s.shops.reload.Unlock()
	st, err := s.store.ShopSettings(ctx, shopID)
	if errors.Is(err, ErrNotFound) {
		st, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("load shop settings: %w", err)
	}
	return s.shops.swap(map[string]*ShopSettings{shopID: st})
}

// ChangeSubscriber hands out the changes of one shop as they are published, on any
// replica (the live hub). The channel closes when stop is called, when ctx ends, or
// when the subscriber stops handing out changes.
type ChangeSubscriber interface {
	Subscribe(ctx context.Context, shopID string) (changes <-chan Change, stop func())
}

// WatchSettings keeps this replica's shops up to date until ctx ends: it reloads a
// shop as soon as changes (nil for none) says its settings were saved, on any
// replica, and every shop every interval, for a change that was lost on the way (a
// dropped message, a Redis restart). A subscription that ends is taken up again
// after an interval. Failures go to report; the next change or tick tries again.
func (s *Service) WatchSettings(ctx context.Context, every time.Duration, changes ChangeSubscriber, report func(error)) {
	if report == nil {
		report = func(error) {}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if changes != nil {
		for _, id := range s.shops.order {
			wg.Go(func() { s.followSettings(ctx, id, every, changes, report) })
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.ReloadSettings(ctx); err != nil && ctx.Err() == nil {
				report(err)
			}
		}
	}
}

// followSettings reloads one shop on each ChangeSettings of it.
func (s *Service) followSettings(ctx context.Context, shopID string, pause time.Duration, changes ChangeSubscriber, report func(error)) {
	for ctx.Err() == nil {
		ch, stop := changes.Subscribe(ctx, shopID)
		for c := range ch {
			if c.Kind != ChangeSettings || c.Shop != shopID {
				continue
			}
			if err := s.ReloadShopSettings(ctx, shopID); err != nil && ctx.Err() == nil {
				report(err)
			}
		}
		stop()
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}

// ConfiguredShop returns a shop as its configuration has it, without the owner's
// settings.
func (s *Service) ConfiguredShop(id string) (*Shop, error) {
	sh, ok := s.shops.configured[id]
	if !ok {
		return nil, Errorf(ENOTFOUND, "Shop %q not found.", id)
	}
	return sh, nil
}

// MessageKinds lists the customer messages an owner may rewrite, none when the
// renderer cannot render owners' texts.
func (s *Service) MessageKinds() []string {
	if s.shops.compiler == nil {
		return nil
	}
	return s.shops.compiler.MessageKinds()
}

// DefaultMessage returns the built-in text of a customer message in locale.
func (s *Service) DefaultMessage(locale, kind string) string {
	if s.shops.compiler == nil {
		return ""
	}
	src, _ := s.shops.compiler.DefaultMessage(locale, kind)
	return src
}

// ShopSettings returns what the shop's owner saved, read from the store (not from
// the shops in memory, which may be a moment behind), with Version 0 and no fields
// when nothing was saved.
func (s *Service) ShopSettings(ctx context.Context, shopID string) (*ShopSettings, error) {
	if _, err := s.ConfiguredShop(shopID); err != nil {
		return nil, err
	}
	st, err := s.store.ShopSettings(ctx, shopID)
	if errors.Is(err, ErrNotFound) {
		return &ShopSettings{ShopID: shopID, Templates: map[string]map[string]string{}}, nil
	}
	return st, err
}

// SettingsInput is the settings form as the owner submits it.
type SettingsInput struct {
	Name                 string
	Locale               string
	DisplayToman         bool
	SendPaidConfirmation bool
	// TemplatesLocale is the language of the texts in Templates: the page edits one
	// language at a time. Empty leaves every text as it was.
	TemplatesLocale string
	// Templates are texts of customer messages in TemplatesLocale, by kind. A kind
	// left out keeps its text; an empty text, or the built-in one, goes back to the
	// built-in text.
	Templates map[string]string
	// Version is the version of the settings the form was made from.
	Version int64
	// UserID is who saves.
	UserID string
}

// SaveSettings checks the form and saves it if the shop's settings are still at
// in.Version. Every field in error is reported, each as an EINVALID *Error naming its
// field (name, locale, display_toman, templates.<locale>.<kind>), joined; a stale
// form is an ECONFLICT and saves nothing. The shop changes on this replica at once,
// and other replicas are told.
func (s *Service) SaveSettings(ctx context.Context, shopID string, in SettingsInput) (*ShopSettings, error) {
	cfg, err := s.ConfiguredShop(shopID)
	if err != nil {
		return nil, err
	}
	prev, err := s.ShopSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	st := &ShopSettings{ShopID: shopID, Templates: cloneTemplates(prev.Templates)}
	var errs []error
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		errs = append(errs, Invalidf("name", "The shop needs a name."))
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		errs = append(errs, Invalidf("name", "The name must be plain text on one line."))
	case utf8.RuneCountInString(name) > maxShopName:
		errs = append(errs, Invalidf("name", "The name is at most %d characters long.", maxShopName))
	case name != cfg.Name:
		st.Name = &name
	}
	switch {
	case !slices.Contains(shopLocales, in.Locale):
		errs = append(errs, Invalidf("locale", "The language must be one of %s, not %q.", strings.Join(shopLocales, ", "), in.Locale))
	case in.Locale != cfg.Locale:
		st.Locale = &in.Locale
	}
	switch {
	case in.DisplayToman && cfg.Currency != "IRR":
		errs = append(errs, Invalidf("display_toman", "Only shops that sell in Iranian rials (IRR) can show amounts in toman; this shop sells in %s.", cfg.Currency))
	case cfg.Currency == "IRR" && in.DisplayToman != cfg.DisplayToman:
		st.DisplayToman = &in.DisplayToman
	}
	if in.SendPaidConfirmation != cfg.SendPaidConfirmation {
		st.SendPaidConfirmation = &in.SendPaidConfirmation
	}
	if in.TemplatesLocale != "" || len(in.Templates) > 0 {
		errs = append(errs, s.setTemplates(st, in.TemplatesLocale, in.Templates)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s.saveSettings(ctx, st, in.Version, in.UserID)
}

// ResetSettings hands the shop's name, language, toman display and paid
// confirmation back to the configuration, if the settings are still at version. The
// owner's message texts stay: each has its own reset.
func (s *Service) ResetSettings(ctx context.Context, shopID string, version int64, userID string) (*ShopSettings, error) {
	prev, err := s.ShopSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	return s.saveSettings(ctx, &ShopSettings{ShopID: shopID, Templates: cloneTemplates(prev.Templates)}, version, userID)
}

func (s *Service) saveSettings(ctx context.Context, st *ShopSettings, version int64, userID string) (*ShopSettings, error) {
	st.Version, st.UpdatedAt, st.UpdatedBy = version, s.Now(), userID
	err := s.store.InTx(ctx, func(tx Tx) error {
		st.Version = version // InTx may run fn again
		return tx.SaveShopSettings(ctx, st)
	})
	if errors.Is(err, ErrConflict) {
		return nil, Errorf(ECONFLICT, "Someone saved these settings after you opened them. Your changes are not saved yet: check them against what is saved now, then save again.")
	}
	if err != nil {
		return nil, err
	}
	s.shops.reload.Lock()
	// The owner's texts were checked just now, so only a problem of the store's
	// could be reported here, and there is none: the swap cannot fail.
	_ = s.shops.swap(map[string]*ShopSettings{st.ShopID: st})
	s.shops.reload.Unlock()
	s.publish(ctx, Change{Kind: ChangeSettings, Shop: st.ShopID})
	return st, nil
}

// setTemplates replaces st's texts in locale with texts, checking each.
func (s *Service) setTemplates(st *ShopSettings, locale string, texts map[string]string) []error {
	if !slices.Contains(shopLocales, locale) {
		return []error{Invalidf("templates_locale", "The language of the messages must be one of %s, not %q.", strings.Join(shopLocales, ", "), locale)}
	}
	if s.shops.compiler == nil {
		return []error{Invalidf("templates", "This chatpay cannot send shops' own message texts.")}
	}
	kinds := s.shops.compiler.MessageKinds()
	own := maps.Clone(st.Templates[locale])
	if own == nil {
		own = map[string]string{}
	}
	var errs []error
	for _, kind := range slices.Sorted(maps.Keys(texts)) {
		field := "templates." + locale + "." + kind
		if !slices.Contains(kinds, kind) {
			errs = append(errs, Invalidf(field, "%q is not a message chatpay sends customers.", kind))
			continue
		}
		src := normalizeText(texts[kind])
		def, _ := s.shops.compiler.DefaultMessage(locale, kind)
		if src == "" || src == normalizeText(def) {
			delete(own, kind)
			continue
		}
		if _, err := s.shops.compiler.CompileMessage(locale, kind, src); err != nil {
			errs = append(errs, templateError(locale, kind, err))
			continue
		}
		own[kind] = src
	}
	if len(own) == 0 {
		delete(st.Templates, locale)
	} else {
		st.Templates[locale] = own
	}
	return errs
}

// templateError is the EINVALID error of an owner's text, naming its language and
// message.
func templateError(locale, kind string, err error) *Error {
	return Invalidf("templates."+locale+"."+kind, "The %s message in %s: %v", kind, locale, err)
}

// normalizeText is an owner's text as it is compared and stored: the line breaks a
// browser sends (CRLF) as \n, without trailing whitespace.
func normalizeText(src string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	return strings.TrimRightFunc(src, unicode.IsSpace)
}

func cloneTemplates(t map[string]map[string]string) map[string]map[string]string {
	out := make(map[string]map[string]string, len(t))
	for loc, texts := range t {
		out[loc] = maps.Clone(texts)
	}
	return out
}

// Preview renders a customer message of kind as the shop would send it in locale,
// from src (the built-in text when src is empty), for a sample order in the shop's
// currency: what the settings page shows as the owner types. A text that would be
// refused on save is refused here with the same error.
func (s *Service) Preview(shopID, locale, kind, src string) (string, []Button, error) {
	cur, err := s.Shop(shopID)
	if err != nil {
		return "", nil, err
	}
	if !slices.Contains(shopLocales, locale) {
		return "", nil, Invalidf("locale", "The language must be one of %s, not %q.", strings.Join(shopLocales, ", "), locale)
	}
	if s.shops.compiler == nil || !slices.Contains(s.shops.compiler.MessageKinds(), kind) {
		return "", nil, Invalidf("kind", "%q is not a message chatpay sends customers.", kind)
	}
	sh := *cur
	sh.Locale, sh.Messages = locale, nil
	sh.DisplayToman = sh.DisplayToman && sh.Currency == "IRR"
	if src = normalizeText(src); src != "" {
		m, err := s.shops.compiler.CompileMessage(locale, kind, src)
		if err != nil {
			return "", nil, templateError(locale, kind, err)
		}
		sh.Messages = map[string]MessageTemplate{kind: m}
	}
	d := s.sampleMessage(&sh, kind)
	text, buttons, err := s.renderer.Message(kind, d)
	if err != nil {
		return "", nil, templateError(locale, kind, err)
	}
	return text, buttons, nil
}

// sampleMessage is the order a preview shows: two items and shipping in the shop's
// currency, with whatever the kind talks about (a refund, a shipment, a reason).
func (s *Service) sampleMessage(sh *Shop, kind string) MessageData {
	unit, ship := int64(150000), int64(30000)
	if c, ok := LookupCurrency(sh.Currency); ok && c.Decimals > 0 {
		unit, ship = 1500, 300 // 15.00 and 3.00
		for range c.Decimals - 2 {
			unit, ship = unit*10, ship*10
		}
	}
	now := s.Now()
	o := &Order{
		ID: "sample", ShopID: sh.ID, Code: "1042", Status: StatusAwaitingPayment, PaymentStatus: PaymentUnpaid,
		PaymentMethod: MethodOnline, Currency: sh.Currency,
		Items:       []Item{{Name: "T-shirt", Quantity: 2, UnitPrice: unit}, {Name: "Cap", Quantity: 1, UnitPrice: unit / 3}},
		ShippingFee: ship, Customer: Customer{Name: "Lan"}, CreatedAt: now, UpdatedAt: now,
	}
	o.Total = 2*unit + unit/3 + ship
	d := MessageData{Shop: sh, Order: o, LinkURL: s.publicURL + "/pay/sample", Amount: o.Total}
	switch kind {
	case KindPaidConfirmation, KindShipped, KindRefunded, KindCaptured:
		o.Status, o.PaymentStatus, o.PaidAt = StatusPaid, PaymentPaid, &now
	case KindCancelled:
		o.Status = StatusCancelled
	}
	switch kind {
	case KindPaymentFailed:
		d.Reason = "card declined"
	case KindShipped:
		o.Status = StatusShipped
		d.Shipment = &Shipment{ID: "sample", ShopID: sh.ID, OrderID: o.ID, Carrier: "DHL", TrackingNumber: "JD014600003828", CreatedAt: now}
	case KindRefunded:
		d.Amount = unit
	}
	return d
}
