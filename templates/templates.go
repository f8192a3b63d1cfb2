// Package templates holds every text chatpay shows people: the chat messages sent to
// customers, the notices sent to shop staff, and the HTML pages (pay, paid, gone, not
// found, error, sandbox checkout, the dashboard's sign-in and orders) and the texts of
// the chat conversation (the staff's commands and their replies), in English,
// Vietnamese, Thai and Persian. Everything is embedded, so the binary needs no files at
// run time. It imports nothing of chatpay's own: callers hand it views with money
// already formatted (see FormatMoney).
package templates

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"

	"github.com/goccy/go-yaml"
)

//go:embed locales/*.yaml pages/*.html assets/*
var files embed.FS

// locales lists the supported locales; the first is the fallback for unknown ones.
var locales = []string{"en", "vi", "th", "fa"}

// Locales returns the supported locale codes: en, vi, th, fa.
func Locales() []string { return slices.Clone(locales) }

// Message kinds, notice kinds and page names. A locale file must define exactly these.
var (
	messageKinds = []string{"order_card", "paid_confirmation", "payment_failed", "shipped", "refunded", "cancelled", "captured", "authorized", "hold_released", "dispute_refunded"}
	noticeKinds  = []string{"paid", "ready_to_ship", "payment_failed", "duplicate_payment", "duplicate_hold", "amount_mismatch", "unknown_session", "refund_failed", "refunded_at_gateway", "message_failed", "command_failed", "dispute_opened", "dispute_closed", "dispute_deadline", "captured", "capture_failed", "authorized", "void_failed", "hold_released", "captured_cancelled"}
	pageNames    = []string{"pay", "paid", "gone", "not_found", "error", "sandbox_checkout", "qr", "signin", "dashboard", "dashboard_order", "settings", "demo", "demo_start", "reports", "disputes", "dispute", "webchat", "webchat_start", "inbox", "inbox_order_new"}
	chatKinds    = []string{
		"card_warning", "welcome", "staff_mirror", "order_created", "order_created_ship",
		"order_invalid", "payment_required", "shipped_ok", "resent_ok", "cancelled_ok",
		"refund_ok", "not_found", "orders_list", "help", "error", "not_in_topic",
		"business_window_closed", "group_order_sent", "group_order_start", "group_reply_needed",
		"claim_not_found", "claim_closed", "order_draft", "draft_hint_pick", "draft_hint_item", "draft_hint_shipping",
		"draft_discarded", "draft_expired",
	}
)

// Button is a URL button under a chat message.
type Button struct{ Label, URL string }

// ItemView is one order line, with money already formatted.
type ItemView struct {
	Name      string
	Quantity  int64
	UnitPrice string
	Amount    string
}

// View is what a chat message or staff notice may show. Money is already formatted.
type View struct {
	Locale, ShopName, OrderCode, CustomerName string
	Items                                     []ItemView
	Shipping, Total, Amount                   string
	LinkURL                                   string
	Carrier, TrackingNumber, Reason, Status   string
	// Due is a dispute's evidence deadline, formatted ("" when none); Outcome is a
	// closed dispute's result, won or lost.
	Due, Outcome string
}

// ChatView is what a chat text may use: the replies of the conversation handler to
// customers and staff. Money is already formatted.
type ChatView struct {
	Locale       string
	CustomerName string
	OrderCode    string
	// Total is the order's total, or the refunded amount in refund_ok.
	Total string
	Items []ItemView
	// Shipping is the shipping fee, "" for none.
	Shipping string
	LinkURL  string
	// Text is free text: the customer's message in staff_mirror, the error in
	// order_invalid and error.
	Text string
	// Orders are the lines of orders_list.
	Orders []ChatOrderLine
	// Bot is the bot's username without the @, for the help text.
	Bot string
	// ShipOnPayment says an order draft ships as soon as it is paid (order_draft).
	ShipOnPayment bool
}

// ChatOrderLine is one order in the open-orders list. Status is an order status
// (awaiting_payment, paid, …), shown by its localised name; any other text is shown as
// it is. Total is already formatted.
type ChatOrderLine struct{ Code, Status, Total string }

// PageView is what an HTML page may show. Money is already formatted.
type PageView struct {
	Locale, Title, ShopName, OrderCode, Status string
	Items                                      []ItemView
	Shipping, Total                            string
	// Message is the body text of the gone, not_found, error and paid pages; each
	// page has a sensible default when it is empty.
	Message string
	// FormAction is where the page's form posts: the pay link path on the pay page,
	// the checkout path on the sandbox checkout page.
	FormAction string
	// Gateways are the gateway names the customer may choose from. With one, it is
	// sent as a hidden field; with several, as radio buttons.
	Gateways []string
	// Pending says an attempt is pending at the gateway: the page says the payment is
	// being confirmed.
	Pending bool
	// Failed says the last attempt failed; FailureReason says why, if known.
	Failed        bool
	FailureReason string
	// SessionID and Amount are shown on the sandbox checkout page.
	SessionID, Amount string
	// Dir is the text direction, "rtl" or "ltr"; Page fills it from the locale when
	// it is empty.
	Dir string
	// QRImage is the QR code page's image URL (at the gateway); Amount is what it
	// charges, FormAction the pay link it returns to once paid.
	QRImage string
	// Expires and ExpiresISO say when the QR code stops working, for people and as a
	// <time datetime> value; both are empty when the gateway does not say.
	Expires, ExpiresISO string
	// StatusURL is the JSON status endpoint the QR page polls.
	StatusURL string
	// Nonce is the Content-Security-Policy nonce of the QR page's inline script.
	Nonce string
	// ShopID is the shop the sign-in form signs in to (a hidden field when known, a
	// text field otherwise); Email is the address it was filled with, or the
	// signed-in user's on the dashboard.
	ShopID, Email string
	// SignInFailed and Throttled say why the sign-in page is shown again: a wrong
	// email or password (one generic text), or too many failures.
	SignInFailed, Throttled bool
	// Orders are the dashboard's order rows.
	Orders []OrderRow
	// Order is the dashboard's order page: payments, refunds, shipments, timeline
	// and which actions it offers.
	Order *OrderDetail

	// Nav names the dashboard section a page belongs to (orders, inbox, reports,
	// disputes, settings); a page with Nav set is drawn in the dashboard's frame,
	// with its navigation and the signed-in user. CanSettings shows the settings
	// entry, which only owners may open.
	Nav         string
	CanSettings bool
	// Assets are the scripts (paths under /assets/) the page loads: every page works
	// without them, they only make it live.
	Assets []string
	// The views of the dashboard's sections, the customer's web chat and the demo;
	// each page reads its own and the rest stay nil.
	OrderList *OrderListView
	Inbox     *InboxView
	Settings  *SettingsView
	Report    *ReportView
	Disputes  *DisputesView
	WebChat   *WebChatView
	Demo      *DemoView
}

// OrderRow is one order on the dashboard, with money and time already formatted.
// Status is an order status, shown by its localised name; CreatedISO is the
// <time datetime> value of Created; URL is the order's dashboard page.
type OrderRow struct {
	Code, Customer, Total, Status, Created, CreatedISO, URL string
}

// locale is one parsed locale file.
type locale struct {
	code string
	file localeFile

	messages map[string]*texttemplate.Template
	notices  map[string]*texttemplate.Template
	chat     map[string]*texttemplate.Template
	// funcs are the functions the locale's texts may call (num, status); a shop
	// owner's message templates get them too (see CompileMessage).
	funcs texttemplate.FuncMap
	// pages are the HTML pages with this locale's strings baked in (see parsePage).
	pages map[string]*htmltemplate.Template
}

// localeFile is the shape of locales/*.yaml.
type localeFile struct {
	// Dir is the writing direction of the language: ltr or rtl.
	Dir string `yaml:"dir"`
	// Buttons are the labels of chat buttons: pay_now and pay_again.
	Buttons map[string]string `yaml:"buttons"`
	// Messages and Notices are text/template sources keyed by kind.
	Messages map[string]string `yaml:"messages"`
	Notices  map[string]string `yaml:"notices"`
	// Chat holds the conversation handler's texts, text/template sources keyed by kind
	// and executed with a ChatView.
	Chat map[string]string `yaml:"chat"`
	// Page holds the strings of the HTML pages, keyed by name.
	Page map[string]string `yaml:"page"`
}

// Templates renders chat messages, notices and pages. It is safe for concurrent use.
type Templates struct {
	locales map[string]*locale
}

// New parses the embedded locale files and pages. It fails if a locale misses a kind
// or a page string that English has, so a gap is found at start-up, not by a customer.
func New() (*Templates, error) { return newTemplates(files, true) }

// newTemplates is New reading the locale files and pages from fsys, so tests can hand
// it broken ones; bake false keeps the locale strings as actions (see parsePage).
func newTemplates(fsys fs.FS, bake bool) (*Templates, error) {
	t := &Templates{locales: make(map[string]*locale)}
	for _, code := range locales {
		loc, err := parseLocale(fsys, code)
		if err != nil {
			return nil, err
		}
		t.locales[code] = loc
	}
	en := t.locales["en"]
	for _, code := range locales {
		if err := sameKeys(code, "page", en.file.Page, t.locales[code].file.Page); err != nil {
			return nil, err
		}
		if err := sameKeys(code, "buttons", en.file.Buttons, t.locales[code].file.Buttons); err != nil {
			return nil, err
		}
	}

	layout, err := fs.ReadFile(fsys, "pages/layout.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, name := range pageNames {
		page, err := fs.ReadFile(fsys, path.Join("pages", name+".html"))
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		for _, loc := range t.locales {
			strs := loc.file.Page
			if !bake {
				strs = nil
			}
			tmpl, err := parsePage(name, string(layout), string(page), strs)
			if err != nil {
				return nil, err
			}
			loc.pages[name] = tmpl
		}
	}
	return t, nil
}

// parsePage parses the layout and a page for one locale, with the locale's strings
// baked in: every action that only prints one of them, {{.T.key}} or {{$.T.key}},
// becomes the string itself, escaped as html/template escapes text. Those actions were
// a third of a page's, and each costs a field lookup, a map lookup and an escaper call
// through reflection on every render. Other uses of T (as in {{or .Message .T.lead}})
// stay actions. A nil strs bakes nothing, which TestBakedPagesMatch compares against.
//
// Baking assumes such actions sit in HTML text, where they are today: text is
// escaped the same way in a quoted attribute or a <title>, but not in a URL, a script
// or a style sheet. TestBakedPagesMatch renders every page both ways to catch that.
func parsePage(name, layout, page string, strs map[string]string) (*htmltemplate.Template, error) {
	tmpl, err := htmltemplate.New("layout.html").Option("missingkey=error").Parse(bakeStrings(layout, strs))
	if err != nil {
		return nil, fmt.Errorf("templates: layout: %w", err)
	}
	if _, err := tmpl.New(name + ".html").Parse(bakeStrings(page, strs)); err != nil {
		return nil, fmt.Errorf("templates: page %s: %w", name, err)
	}
	return tmpl, nil
}

// localeString matches an action that prints one locale string.
var localeString = regexp.MustCompile(`\{\{\$?\.T\.([A-Za-z0-9_]+)\}\}`)

// bakeStrings replaces the actions that print one of strs by the escaped string. A
// key strs lacks stays an action (and fails at render as before); so does a string
// whose escaped form contains the template delimiter, which would otherwise be parsed
// as an action.
func bakeStrings(src string, strs map[string]string) string {
	if strs == nil {
		return src
	}
	return localeString.ReplaceAllStringFunc(src, func(action string) string {
		key := localeString.FindStringSubmatch(action)[1]
		v, ok := strs[key]
		if !ok {
			return action
		}
		escaped := escapeText(v)
		if strings.Contains(escaped, "{{") {
			return action
		}
		return escaped
	})
}

// textEscaper prints its data as html/template prints a string in HTML text.
var textEscaper = htmltemplate.Must(htmltemplate.New("text").Parse("{{.}}"))

// escapeText escapes s exactly as html/template would in HTML text ({{.}} between
// tags), which is not quite html.EscapeString: html/template also escapes "+".
func escapeText(s string) string {
	var b strings.Builder
	if err := textEscaper.Execute(&b, s); err != nil {
		panic(err) // printing a string cannot fail
	}
	return b.String()
}

func parseLocale(fsys fs.FS, code string) (*locale, error) {
	name := "locales/" + code + ".yaml"
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	loc := &locale{
		code:     code,
		messages: make(map[string]*texttemplate.Template),
		notices:  make(map[string]*texttemplate.Template),
		chat:     make(map[string]*texttemplate.Template),
		pages:    make(map[string]*htmltemplate.Template),
	}
	if err := yaml.UnmarshalWithOptions(data, &loc.file, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("templates: %s: %s", name, yaml.FormatError(err, false, false))
	}
	if err := mergeAreaPages(fsys, code, &loc.file); err != nil {
		return nil, err
	}
	if loc.file.Dir != "ltr" && loc.file.Dir != "rtl" {
		return nil, fmt.Errorf("templates: %s: dir must be ltr or rtl", name)
	}
	funcs := texttemplate.FuncMap{
		"num": func(n int64) string { return formatInt(n, code) },
		// status names an order status in the locale's words, as the pages do, so
		// the handler can pass the status it has.
		"status": func(s string) string {
			if l, ok := loc.file.Page["status_"+s]; ok {
				return l
			}
			return s
		},
	}
	loc.funcs = funcs
	parse := func(section string, kinds []string, src map[string]string, dst map[string]*texttemplate.Template) error {
		if err := sameKeys(code, section, sliceSet(kinds), src); err != nil {
			return err
		}
		for kind, text := range src {
			tmpl, err := texttemplate.New(kind).Funcs(funcs).Option("missingkey=error").Parse(text)
			if err != nil {
				return fmt.Errorf("templates: %s: %s.%s: %w", name, section, kind, err)
			}
			dst[kind] = tmpl
		}
		return nil
	}
	if err := parse("messages", messageKinds, loc.file.Messages, loc.messages); err != nil {
		return nil, err
	}
	if err := parse("notices", noticeKinds, loc.file.Notices, loc.notices); err != nil {
		return nil, err
	}
	if err := parse("chat", chatKinds, loc.file.Chat, loc.chat); err != nil {
		return nil, err
	}
	return loc, nil
}

// sameKeys reports a locale section that misses or adds keys compared to want.
func sameKeys[V1, V2 any](code, section string, want map[string]V1, got map[string]V2) error {
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[k]; !ok {
			return fmt.Errorf("templates: locales/%s.yaml: %s.%s is missing", code, section, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			return fmt.Errorf("templates: locales/%s.yaml: %s.%s is not a known key", code, section, k)
		}
	}
	return nil
}

func sliceSet(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

// normLocale maps "vi", "VI", "vi-VN" and "vi_VN" to "vi", and anything unsupported to
// "en".
func normLocale(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	if slices.Contains(locales, s) {
		return s
	}
	return "en"
}

func (t *Templates) locale(code string) *locale { return t.locales[normLocale(code)] }

// Message renders a chat message to a customer in v.Locale (English when unknown).
// order_card carries a Pay now button and payment_failed a Pay again button, both to
// v.LinkURL (left out when there is no link, as for cash-on-delivery orders).
func (t *Templates) Message(kind string, v View) (string, []Button, error) {
	loc := t.locale(v.Locale)
	tmpl, ok := loc.messages[kind]
	if !ok {
		return "", nil, fmt.Errorf("templates: unknown message kind %q", kind)
	}
	text, err := execText(tmpl, v)
	if err != nil {
		return "", nil, err
	}
	return text, messageButtons(loc, kind, v.LinkURL), nil
}

// Notice renders a notice for the shop's staff in v.Locale (the shop's locale).
// StatusLabel returns an order status as the locale's pages name it ("Paid"), or the
// status itself when there is no name for it.
func (t *Templates) StatusLabel(locale, status string) string {
	loc := t.locale(locale)
	if loc == nil {
		loc = t.locale("en")
	}
	if l, ok := loc.file.Page["status_"+status]; ok {
		return l
	}
	return status
}

// ButtonLabel returns a chat button's label in a locale (English when the locale is
// unknown), or name itself when there is no such button.
func (t *Templates) ButtonLabel(locale, name string) string {
	loc := t.locale(locale)
	if loc == nil {
		loc = t.locale("en")
	}
	if l, ok := loc.file.Buttons[name]; ok {
		return l
	}
	return name
}

func (t *Templates) Notice(kind string, v View) (string, error) {
	tmpl, ok := t.locale(v.Locale).notices[kind]
	if !ok {
		return "", fmt.Errorf("templates: unknown notice kind %q", kind)
	}
	return execText(tmpl, v)
}

// Chat renders a text of the chat conversation in v.Locale (English when unknown): a
// reply to the customer (card_warning, welcome), a customer's message as the staff see
// it (staff_mirror), or a reply to a staff command (the other kinds). Like Message,
// it tidies the blank lines optional parts leave.
func (t *Templates) Chat(kind string, v ChatView) (string, error) {
	tmpl, ok := t.locale(v.Locale).chat[kind]
	if !ok {
		return "", fmt.Errorf("templates: unknown chat kind %q", kind)
	}
	return execText(tmpl, v)
}

var manyBlankLines = regexp.MustCompile(`\n{3,}`)

// execText runs a text template and tidies the whitespace optional sections leave
// behind, so the locale files can stay readable.
func execText(tmpl *texttemplate.Template, v any) (string, error) {
	var b strings.Builder
	if err := tmpl.Execute(&b, v); err != nil {
		return "", fmt.Errorf("templates: %s: %w", tmpl.Name(), err)
	}
	return tidyText(b.String()), nil
}

// tidyText drops trailing spaces, runs of blank lines and surrounding whitespace.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s = manyBlankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.TrimSpace(s)
}

// pageData is what page templates see: the view's fields, the locale's strings as T,
// and helpers as methods. It repeats PageView's fields rather than embedding it:
// text/template finds a field by name through reflection on every action, and a name
// promoted from an embedded struct costs a breadth-first search with allocations,
// which was a seventh of rendering a pay page. newPageData copies every field, as
// TestPageDataCopiesEveryField checks.
type pageData struct {
	Locale, Title, ShopName, OrderCode, Status string
	Items                                      []ItemView
	Shipping, Total                            string
	Message                                    string
	FormAction                                 string
	Gateways                                   []string
	Pending                                    bool
	Failed                                     bool
	FailureReason                              string
	SessionID, Amount                          string
	Dir                                        string
	QRImage                                    string
	Expires, ExpiresISO                        string
	StatusURL                                  string
	Nonce                                      string
	ShopID, Email                              string
	SignInFailed, Throttled                    bool
	Orders                                     []OrderRow
	Order                                      *OrderDetail
	Nav                                        string
	CanSettings                                bool
	Assets                                     []string
	OrderList                                  *OrderListView
	Inbox                                      *InboxView
	Settings                                   *SettingsView
	Report                                     *ReportView
	Disputes                                   *DisputesView
	WebChat                                    *WebChatView
	Demo                                       *DemoView

	T    map[string]string
	Lang string
	// Heading is the page's title: PageView.Title or the page's default.
	Heading string
}

func newPageData(p *PageView) pageData {
	return pageData{
		Locale:        p.Locale,
		Title:         p.Title,
		ShopName:      p.ShopName,
		OrderCode:     p.OrderCode,
		Status:        p.Status,
		Items:         p.Items,
		Shipping:      p.Shipping,
		Total:         p.Total,
		Message:       p.Message,
		FormAction:    p.FormAction,
		Gateways:      p.Gateways,
		Pending:       p.Pending,
		Failed:        p.Failed,
		FailureReason: p.FailureReason,
		SessionID:     p.SessionID,
		Amount:        p.Amount,
		Dir:           p.Dir,
		QRImage:       p.QRImage,
		Expires:       p.Expires,
		ExpiresISO:    p.ExpiresISO,
		StatusURL:     p.StatusURL,
		Nonce:         p.Nonce,
		ShopID:        p.ShopID,
		Email:         p.Email,
		SignInFailed:  p.SignInFailed,
		Throttled:     p.Throttled,
		Orders:        p.Orders,
		Order:         p.Order,
		Nav:           p.Nav,
		CanSettings:   p.CanSettings,
		Assets:        p.Assets,
		OrderList:     p.OrderList,
		Inbox:         p.Inbox,
		Settings:      p.Settings,
		Report:        p.Report,
		Disputes:      p.Disputes,
		WebChat:       p.WebChat,
		Demo:          p.Demo,
	}
}

// Num writes a quantity with the locale's digits.
func (d pageData) Num(n int64) string { return formatInt(n, d.Lang) }

// GatewayLabel is the name shown for a gateway choice.
func (d pageData) GatewayLabel(name string) string {
	if l, ok := d.T["gateway_"+name]; ok {
		return l
	}
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// StatusLabel is the localised name of an order status.
func (d pageData) StatusLabel(status string) string {
	if l, ok := d.T["status_"+status]; ok {
		return l
	}
	return status
}

// Page renders the named page as a complete HTML document: pay, paid, gone,
// not_found, error, sandbox_checkout, qr, signin or dashboard. Nothing is written when
// rendering fails, and the page is written with one Write.
func (t *Templates) Page(w io.Writer, name string, p PageView) error {
	bp := pagePool.Get().(*[]byte)
	defer putPageBuffer(bp)
	b, err := t.AppendPage((*bp)[:0], name, p)
	*bp = b
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AppendPage renders the named page like Page and appends it to dst. When rendering
// fails it returns dst with its original length (its spare capacity may have been
// written to). Servers use it to render into a reused buffer and to know the page's
// length before they answer.
func (t *Templates) AppendPage(dst []byte, name string, p PageView) ([]byte, error) {
	loc := t.locale(p.Locale)
	tmpl, ok := loc.pages[name]
	if !ok {
		return dst, fmt.Errorf("templates: unknown page %q", name)
	}
	if p.Dir != "rtl" && p.Dir != "ltr" {
		// The direction goes into an attribute the browser acts on: anything but the
		// two real values falls back to the locale's own.
		p.Dir = loc.file.Dir
	}
	d := newPageData(&p)
	d.T, d.Lang, d.Heading = loc.file.Page, loc.code, p.Title
	if d.Heading == "" {
		d.Heading = loc.file.Page["title_"+name]
	}
	w := appendWriter{b: dst}
	if err := tmpl.Execute(&w, &d); err != nil {
		return dst, fmt.Errorf("templates: page %s: %w", name, err)
	}
	return w.b, nil
}

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// pagePool holds Page's render buffers. A page is a few kilobytes, most of it the
// inline style sheet; growing a fresh buffer to that size for every page view was a
// tenth of rendering one.
var pagePool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledPage bounds the buffers kept for reuse, so that one unusually large page
// (an order with hundreds of items) does not stay in memory.
const maxPooledPage = 64 << 10

func putPageBuffer(bp *[]byte) {
	if cap(*bp) <= maxPooledPage {
		pagePool.Put(bp)
	}
}

// areaFile is the shape of locales/<code>.<area>.yaml: the page strings of one part of
// the product (the inbox, the web chat, ...), kept apart from the locale's main file so
// each part's strings live next to each other.
type areaFile struct {
	Page map[string]string `yaml:"page"`
}

// mergeAreaPages adds the page strings of every locales/<code>.<area>.yaml to f. A key
// defined twice is an error, so one part cannot silently change another's words.
func mergeAreaPages(fsys fs.FS, code string, f *localeFile) error {
	names, err := fs.Glob(fsys, "locales/"+code+".*.yaml")
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("templates: %w", err)
		}
		var area areaFile
		if err := yaml.UnmarshalWithOptions(data, &area, yaml.Strict()); err != nil {
			return fmt.Errorf("templates: %s: %s", name, yaml.FormatError(err, false, false))
		}
		if f.Page == nil {
			f.Page = make(map[string]string, len(area.Page))
		}
		for k, v := range area.Page {
			if _, dup := f.Page[k]; dup {
				return fmt.Errorf("templates: %s: page.%s is already defined", name, k)
			}
			f.Page[k] = v
		}
	}
	return nil
}

// Assets returns the static scripts pages load from /assets/.
func Assets() fs.FS {
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		panic(err) // the directory is embedded
	}
	return sub
}
