package templates

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func mustTemplates(t testing.TB) *Templates {
	t.Helper()
	tpl, err := New()
	require.NoError(t, err)
	return tpl
}

// Every built-in customer message passes the checks an owner's text must pass, so an
// owner who starts from the default text starts from a valid one.
func TestDefaultMessagesCompile(t *testing.T) {
	t.Parallel()
	tpl := mustTemplates(t)
	for _, loc := range Locales() {
		for _, kind := range MessageKinds() {
			src, ok := tpl.DefaultMessage(loc, kind)
			require.True(t, ok, "%s %s", loc, kind)
			_, err := tpl.CompileMessage(loc, kind, src)
			require.NoError(t, err, "%s %s", loc, kind)
		}
	}
	_, ok := tpl.DefaultMessage("de", "order_card")
	require.False(t, ok, "an unsupported locale has no default")
}

func TestCompileMessageRefuses(t *testing.T) {
	t.Parallel()
	tpl := mustTemplates(t)
	for _, c := range []struct {
		name, kind, src, want string
	}{
		{"empty", "paid_confirmation", " \n ", "empty"},
		{"too long", "paid_confirmation", "#{{.OrderCode}}" + strings.Repeat("x", MaxMessageTemplate), "characters long"},
		{"invalid UTF-8", "paid_confirmation", "#{{.OrderCode}} \xff", "UTF-8"},
		{"syntax", "paid_confirmation", "Paid #{{.OrderCode}\n", "line 1: "},
		{"unknown field", "paid_confirmation", "Paid\n#{{.OrderNumber}}", "line 2: {{.OrderNumber}} is not something this message can show; it can show"},
		{"unknown item field", "order_card", "#{{.OrderCode}} {{.Total}} {{range .Items}}{{.Price}}{{end}}", "{{.Price}} is not something"},
		{"define", "paid_confirmation", `{{define "x"}}hi{{end}}#{{.OrderCode}}`, "{{define}}"},
		{"template", "paid_confirmation", `#{{.OrderCode}} {{template "order_card" .}}`, "{{template"},
		{"block", "paid_confirmation", `{{block "b" .}}#{{.OrderCode}}{{end}}`, "{{define}} and {{block}}"},
		{"range over a number", "paid_confirmation", "#{{.OrderCode}}{{range 1000000000}}x{{end}}", "may only go over a field"},
		{"range over a function", "paid_confirmation", "#{{.OrderCode}}{{range (len .Items)}}x{{end}}", "may only go over a field"},
		{"nested range", "order_card", "#{{.OrderCode}} {{.Total}}{{range .Items}}{{if .Name}}{{range $.Items}}x{{end}}{{end}}{{end}}", "{{range}} inside {{range}}"},
		{"printf", "paid_confirmation", `#{{printf "%999999s" .OrderCode}}`, `function "printf" is not allowed`},
		{"printf in parentheses", "paid_confirmation", `#{{.OrderCode}}{{if (printf "x")}}y{{end}}`, `function "printf" is not allowed`},
		{"call", "paid_confirmation", `#{{.OrderCode}}{{call .ShopName}}`, `function "call" is not allowed`},
		{"no order code", "paid_confirmation", "Thank you for your payment!", "order's code"},
		{"code only when named", "paid_confirmation", "Thanks{{with .CustomerName}} {{.}}, order #{{$.OrderCode}}{{end}}!", "order's code"},
		{"card without total", "order_card", "Order #{{.OrderCode}}", "total"},
		{"refund without amount", "refunded", "Order #{{.OrderCode}} was refunded.", "amount"},
		{"index past a one-item order", "order_card", "#{{.OrderCode}} {{.Total}} {{(index .Items 1).Name}}", "index out of range"},
		{"wrong type", "paid_confirmation", "#{{num .OrderCode}}", "line 1: "},
		{"prints too much", "order_card", "#{{.OrderCode}} {{.Total}}{{range .Items}}" + strings.Repeat("{{.}}", 380) + "{{end}}", "longer than"},
		{"prints nothing", "paid_confirmation", "{{if .Reason}}#{{.OrderCode}}{{end}}", "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := tpl.CompileMessage("en", c.kind, c.src)
			require.Error(t, err)
			require.Nil(t, m)
			require.Contains(t, err.Error(), c.want)
			require.NotContains(t, err.Error(), "template: ", "the owner sees no internal template names")
		})
	}
	_, err := tpl.CompileMessage("de", "paid_confirmation", "#{{.OrderCode}}")
	require.ErrorContains(t, err, "not a supported language")
	_, err = tpl.CompileMessage("en", "welcome", "#{{.OrderCode}}")
	require.ErrorContains(t, err, "not a message chatpay sends")
}

func TestMessageWith(t *testing.T) {
	t.Parallel()
	tpl := mustTemplates(t)
	m, err := tpl.CompileMessage("fa", "order_card",
		"سفارش #{{.OrderCode}}\n{{range .Items}}{{.Name}} × {{num .Quantity}}\n{{end}}\n\n\n{{.Total}}   \n")
	require.NoError(t, err)
	require.Equal(t, "fa", m.Locale())
	require.Equal(t, "order_card", m.Kind())
	v := View{Locale: "en", OrderCode: "1001", Total: "330.000 ₫", LinkURL: "https://pay.example/pay/x",
		Items: []ItemView{{Name: "Áo thun", Quantity: 12}}}
	text, buttons, err := tpl.MessageWith(m, v)
	require.NoError(t, err)
	require.Equal(t, "سفارش #1001\nÁo thun × ۱۲\n\n330.000 ₫", text, "the locale's num, tidied as the built-in texts are")
	require.Equal(t, []Button{{Label: "پرداخت", URL: v.LinkURL}}, buttons, "Pay now in the template's language")

	_, defButtons, err := tpl.Message("order_card", View{Locale: "fa", OrderCode: "1", Total: "1", LinkURL: v.LinkURL})
	require.NoError(t, err)
	require.Equal(t, defButtons, buttons, "the same buttons as the built-in text")

	v.LinkURL = ""
	_, buttons, err = tpl.MessageWith(m, v)
	require.NoError(t, err)
	require.Empty(t, buttons, "no link, no button")

	// An order the samples did not foresee can still fail: the caller falls back.
	long, err := tpl.CompileMessage("en", "order_card", "#{{.OrderCode}} {{.Total}}{{range .Items}}"+strings.Repeat("{{.Name}}", 10)+"{{end}}")
	require.NoError(t, err)
	v.Items = make([]ItemView, 100)
	for i := range v.Items {
		v.Items[i].Name = strings.Repeat("n", 200)
	}
	_, _, err = tpl.MessageWith(long, v)
	require.ErrorContains(t, err, "longer than")
}

func TestMessageFieldsCompile(t *testing.T) {
	t.Parallel()
	tpl := mustTemplates(t)
	for _, kind := range MessageKinds() {
		src := strings.Join(MessageFields(kind), " ") + " #{{.OrderCode}} {{.Total}} {{.Amount}}"
		_, err := tpl.CompileMessage("vi", kind, src)
		require.NoError(t, err, "the help for %s names fields that exist", kind)
	}
}

// FuzzCompileMessage feeds CompileMessage arbitrary owner texts: it never panics,
// and whatever it accepts renders a full order quickly, within the output bound.
func FuzzCompileMessage(f *testing.F) {
	tpl := mustTemplates(f)
	for _, kind := range MessageKinds() {
		src, _ := tpl.DefaultMessage("en", kind)
		f.Add(kind, src)
	}
	f.Add("paid_confirmation", "#{{.OrderCode}}{{range 99999999}}x{{end}}")
	f.Add("paid_confirmation", `{{define "a"}}{{template "a"}}{{end}}#{{.OrderCode}}`)
	f.Add("order_card", "{{range .Items}}{{range $.Items}}{{end}}{{end}}#{{.OrderCode}}{{.Total}}")
	f.Add("refunded", "{{with $x := .Amount}}{{$x}}{{end}} #{{.OrderCode}} {{index .Items 0 | print}}")
	f.Add("shipped", "{{/* c */}}{{if and .Carrier (not .TrackingNumber)}}{{else}}#{{.OrderCode}}{{end}}")
	kinds := MessageKinds()
	f.Fuzz(func(t *testing.T, kind, src string) {
		if !utf8.ValidString(kind) || len(kind) > 40 {
			kind = kinds[len(kind)%len(kinds)]
		}
		m, err := tpl.CompileMessage("en", kind, src)
		if err != nil {
			require.Nil(t, m)
			return
		}
		v := fullSample("en")
		v.Items = make([]ItemView, 100)
		for i := range v.Items {
			v.Items[i] = ItemView{Name: strings.Repeat("n", 200), Quantity: 9, UnitPrice: "1", Amount: "9"}
		}
		start := time.Now()
		text, _, err := tpl.MessageWith(m, v)
		require.Less(t, time.Since(start), 2*time.Second)
		if err == nil {
			require.LessOrEqual(t, len(text), maxRendered)
		}
	})
}
