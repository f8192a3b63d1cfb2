package templates

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"unicode/utf8"
)

// A shop's owner may rewrite the messages chatpay sends customers (the settings page):
// an override is a text/template source like the locale files', with the same View
// and functions. It runs inside the transaction that queues the message, on every
// order, long after the owner typed it, so CompileMessage refuses at save time what
// could fail or run away at send time:
//
//   - at most MaxMessageTemplate characters of valid text;
//   - only the template language's conditionals and output: no {{define}},
//     {{template}} or {{block}}, no functions beyond comparisons, len, index, print,
//     num and status (printf's widths could print megabytes), and {{range}} only over
//     a field such as .Items, never nested, so the work is bounded by the order;
//   - it must run against two sample orders, a full one and a bare one (one item, no
//     shipping, no customer name, no link), so a misspelt field or an {{index}} past
//     the end fails now, and whichever branch an {{if}} takes is exercised;
//   - what it prints must name the order (its code), and show what the message is
//     about: the total on the order card, the amount on refunded and captured. The
//     Pay now and Pay again buttons carry the link, so no text needs it.
//
// Even so, Templates.MessageWith may fail on an order the samples did not foresee;
// callers then send the built-in text (see bot.Renderer), so an owner's template can
// never hold up a payment.

// MaxMessageTemplate is the longest message template an owner may write, in
// characters.
const MaxMessageTemplate = 2000

// maxRendered bounds what one message template may print, in bytes: chat platforms
// take a few thousand characters at most.
const maxRendered = 16 << 10

// templateFuncs are the functions an owner's template may call: text/template's
// comparisons and helpers that cannot print much, and the locale's own.
var templateFuncs = []string{"and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index", "print", "num", "status"}

// MessageKinds returns the kinds of messages chatpay sends customers, each of which a
// shop's owner may rewrite.
func MessageKinds() []string { return slices.Clone(messageKinds) }

// DefaultMessage returns the built-in template source of a customer message in a
// supported locale.
func (t *Templates) DefaultMessage(locale, kind string) (string, bool) {
	loc, ok := t.locales[locale]
	if !ok {
		return "", false
	}
	src, ok := loc.file.Messages[kind]
	return src, ok
}

// MessageFields returns the fields a message of kind usually shows, written as in a
// template ({{.OrderCode}}), for the settings page's help. A template may use any
// field of View; these are the ones that have a value for this kind.
func MessageFields(kind string) []string {
	f := []string{"{{.CustomerName}}", "{{.ShopName}}", "{{.OrderCode}}"}
	switch kind {
	case "order_card":
		return append(f, "{{range .Items}}{{.Name}} {{num .Quantity}} {{.UnitPrice}} {{.Amount}}{{end}}", "{{.Shipping}}", "{{.Total}}")
	case "payment_failed":
		return append(f, "{{.Total}}", "{{.Reason}}")
	case "shipped":
		return append(f, "{{.Carrier}}", "{{.TrackingNumber}}")
	case "refunded", "captured":
		return append(f, "{{.Amount}}", "{{.Total}}")
	}
	return append(f, "{{.Total}}")
}

// MessageTemplate is a customer message's text written by a shop's owner, parsed and
// checked by CompileMessage. It is immutable and safe for concurrent use.
type MessageTemplate struct {
	locale, kind, src string
	tmpl              *texttemplate.Template
}

// Source returns the template's text as the owner wrote it.
func (m *MessageTemplate) Source() string { return m.src }

// Locale and Kind say which message the template replaces.
func (m *MessageTemplate) Locale() string { return m.locale }
func (m *MessageTemplate) Kind() string   { return m.kind }

// CompileMessage parses src as the text of a customer message of kind in locale and
// checks it (see the rules above). Its errors are sentences for the owner, without the
// locale and kind, which the caller names.
func (t *Templates) CompileMessage(locale, kind, src string) (*MessageTemplate, error) {
	loc, ok := t.locales[locale]
	if !ok {
		return nil, fmt.Errorf("%q is not a supported language", locale)
	}
	if !slices.Contains(messageKinds, kind) {
		return nil, fmt.Errorf("%q is not a message chatpay sends", kind)
	}
	if !utf8.ValidString(src) {
		return nil, errors.New("the text is not valid UTF-8")
	}
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("the text is empty")
	}
	if n := utf8.RuneCountInString(src); n > MaxMessageTemplate {
		return nil, fmt.Errorf("the text is %d characters long; the most is %d", n, MaxMessageTemplate)
	}
	funcs := make(texttemplate.FuncMap, len(loc.funcs))
	for name, fn := range loc.funcs {
		funcs[name] = fn
	}
	tmpl, err := texttemplate.New(kind).Funcs(funcs).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, ownerError(kind, err)
	}
	if len(tmpl.Templates()) > 1 {
		return nil, errors.New("{{define}} and {{block}} are not allowed")
	}
	if tmpl.Tree == nil || tmpl.Tree.Root == nil {
		return nil, errors.New("the text is empty")
	}
	if err := checkNodes(tmpl.Tree.Root, 0); err != nil {
		return nil, err
	}
	m := &MessageTemplate{locale: locale, kind: kind, src: src, tmpl: tmpl}
	for _, v := range []View{fullSample(locale), bareSample(locale)} {
		text, err := execLimited(tmpl, v)
		if err != nil {
			return nil, ownerError(kind, err)
		}
		if err := requireShown(kind, text, v); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// MessageWith renders a customer message like Message does, from the owner's template
// m: the same buttons, in m's locale, whatever v.Locale says.
func (t *Templates) MessageWith(m *MessageTemplate, v View) (string, []Button, error) {
	loc := t.locales[m.locale]
	text, err := execLimited(m.tmpl, v)
	if err != nil {
		return "", nil, fmt.Errorf("templates: the shop's %s (%s): %w", m.kind, m.locale, err)
	}
	return text, messageButtons(loc, m.kind, v.LinkURL), nil
}

// messageButtons are the buttons under a customer message: Pay now under the order
// card and Pay again under a failed payment, both to the link, when there is one.
func messageButtons(loc *locale, kind, link string) []Button {
	if link == "" {
		return nil
	}
	switch kind {
	case "order_card":
		return []Button{{Label: loc.file.Buttons["pay_now"], URL: link}}
	case "payment_failed":
		return []Button{{Label: loc.file.Buttons["pay_again"], URL: link}}
	}
	return nil
}

// checkNodes refuses what an owner's template may not do; depth is how many {{range}}
// the node is in.
func checkNodes(n parse.Node, depth int) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkNodes(c, depth); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkPipe(n.Pipe)
	case *parse.IfNode:
		return checkBranch(&n.BranchNode, depth, depth)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode, depth, depth)
	case *parse.RangeNode:
		if depth > 0 {
			return fmt.Errorf("line %d: {{range}} inside {{range}} is not allowed", lineOf(n.Pipe))
		}
		if !rangesOverField(n.Pipe) {
			return fmt.Errorf("line %d: {{range}} may only go over a field, such as {{range .Items}}", lineOf(n.Pipe))
		}
		return checkBranch(&n.BranchNode, depth+1, depth)
	case *parse.TemplateNode:
		return fmt.Errorf("{{template %q}} is not allowed", n.Name)
	}
	// Text, comments, break and continue are harmless.
	return nil
}

func checkBranch(b *parse.BranchNode, listDepth, elseDepth int) error {
	if err := checkPipe(b.Pipe); err != nil {
		return err
	}
	if err := checkNodes(b.List, listDepth); err != nil {
		return err
	}
	if b.ElseList != nil {
		return checkNodes(b.ElseList, elseDepth)
	}
	return nil
}

// checkPipe refuses calls to functions that are not in templateFuncs, in a pipeline
// and in the parenthesised pipelines inside it.
func checkPipe(p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			switch a := arg.(type) {
			case *parse.IdentifierNode:
				if !slices.Contains(templateFuncs, a.Ident) {
					return fmt.Errorf("the function %q is not allowed; use %s", a.Ident, strings.Join(templateFuncs, ", "))
				}
			case *parse.PipeNode:
				if err := checkPipe(a); err != nil {
					return err
				}
			case *parse.ChainNode:
				if pn, ok := a.Node.(*parse.PipeNode); ok {
					if err := checkPipe(pn); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// rangesOverField reports whether a {{range}} pipeline is one field, such as .Items
// or $.Items: never a number, which Go's templates would count up to.
func rangesOverField(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return true
	case *parse.VariableNode:
		return len(a.Ident) > 1 && a.Ident[0] == "$"
	}
	return false
}

// lineOf is the line of a pipeline in its template, for an error message.
func lineOf(p *parse.PipeNode) int {
	if p == nil || p.Line == 0 {
		return 1
	}
	return p.Line
}

// limitWriter collects a template's output up to max bytes, and fails past it.
type limitWriter struct {
	b   strings.Builder
	max int
}

var errTooLong = fmt.Errorf("the message would be longer than %d bytes", maxRendered)

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.max {
		return 0, errTooLong
	}
	return w.b.Write(p)
}

// execLimited runs an owner's template with its output bounded, then tidies it as
// execText does.
func execLimited(tmpl *texttemplate.Template, v View) (string, error) {
	w := &limitWriter{max: maxRendered}
	if err := tmpl.Execute(w, v); err != nil {
		return "", err
	}
	text := tidyText(w.b.String())
	if text == "" {
		return "", errors.New("the message would be empty")
	}
	return text, nil
}

// requireShown checks that a rendered sample names the order and shows what kind is
// about.
func requireShown(kind, text string, v View) error {
	if !strings.Contains(text, v.OrderCode) {
		return errors.New("the text must show the order's code, {{.OrderCode}}")
	}
	switch kind {
	case "order_card":
		if !strings.Contains(text, v.Total) {
			return errors.New("the order card must show the total, {{.Total}}")
		}
	case "refunded", "captured":
		if !strings.Contains(text, v.Amount) {
			return errors.New("the text must show the amount, {{.Amount}}")
		}
	}
	return nil
}

// Sample orders the checks run an owner's template against. Their values are unlike
// anything an owner would type, so that finding them in the output means the
// template printed the field.
func fullSample(locale string) View {
	return View{
		Locale: locale, ShopName: "Sample Shop 7Q", OrderCode: "90417", CustomerName: "Sample Customer 7Q",
		Items: []ItemView{
			{Name: "Sample item A7", Quantity: 2, UnitPrice: "1.111,11 SMP", Amount: "2.222,22 SMP"},
			{Name: "Sample item B7", Quantity: 1, UnitPrice: "333,33 SMP", Amount: "333,33 SMP"},
		},
		Shipping: "44,44 SMP", Total: "2.599,99 SMP", Amount: "1.299,95 SMP",
		LinkURL: "https://pay.example.invalid/pay/sample", Carrier: "Sample Carrier", TrackingNumber: "TRK-SAMPLE-7Q",
		Reason: "sample reason", Status: "paid", Due: "2030-01-02 03:04 UTC", Outcome: "won",
	}
}

func bareSample(locale string) View {
	return View{
		Locale: locale, OrderCode: "80526",
		Items: []ItemView{{Name: "Sample item C7", Quantity: 1, UnitPrice: "555,55 SMP", Amount: "555,55 SMP"}},
		Total: "555,55 SMP", Amount: "555,55 SMP", Status: "paid",
	}
}

// templatePrefix is how text/template starts its errors: "template: NAME:LINE:COL: ".
var templatePrefix = regexp.MustCompile(`^template: [a-z_]+:(\d+)(?::\d+)?: `)

// missingField is text/template's complaint about a field View does not have.
var missingField = regexp.MustCompile(`executing "[a-z_]+" at <([^>]*)>: can't evaluate field (\w+)`)

// ownerError rewrites a text/template error for the shop's owner: with its line,
// without the template's internal name, and with the fields they may use when the
// error is a field that does not exist.
func ownerError(kind string, err error) error {
	if errors.Is(err, errTooLong) {
		return err
	}
	msg := err.Error()
	where := ""
	if m := templatePrefix.FindStringSubmatch(msg); m != nil {
		where, msg = "line "+m[1]+": ", msg[len(m[0]):]
	}
	if m := missingField.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s{{%s}} is not something this message can show; it can show %s",
			where, m[1], strings.Join(MessageFields(kind), ", "))
	}
	return errors.New(where + msg)
}
