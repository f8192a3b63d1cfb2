package templates

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testSettingsView takes every branch of the settings page, with hostile text where
// the owner or the service chose it.
func testSettingsView() *SettingsView {
	return &SettingsView{
		Action: "/dashboard/settings", ResetAction: "/dashboard/settings/reset", PreviewURL: "/dashboard/settings/preview",
		Version: 7, Flash: "reset_conflict", FlashBad: true, Conflict: true, Unsaved: true,
		Errors: []SettingsError{
			{Field: "name", LabelKey: "settings_name", Anchor: "f-name", Message: "<b>The shop needs a name.</b>"},
			{Field: "templates.fa.shipped", LabelKey: "settings_kind_shipped", Anchor: "t-shipped", Message: "line 1: {{.X}} & 'y'"},
			{Field: "odd", LabelKey: "no_such_key", Anchor: "x", Message: "m"},
		},
		Name:        SettingsField{Value: "Lan's <Shop>", Configured: "Config \"Shop\"", Differs: true, SavedNow: "Other <Shop>", Error: "<i>bad</i>"},
		Locale:      SettingsField{Value: "fa", Configured: "English", Differs: true, SavedNow: "ไทย", Error: "e"},
		Locales:     []LocaleOption{{Code: "en", Name: "English"}, {Code: "fa", Name: "فارسی", Current: true}},
		Currency:    "IRR",
		ShowToman:   true,
		Toman:       SettingsSwitch{On: true, Configured: false, Differs: true, SavedNowDiffers: true, Error: "toman <no>"},
		Paid:        SettingsSwitch{On: false, Configured: true, Differs: true, SavedNowDiffers: true},
		Overridden:  true,
		TextsLocale: "fa",
		TextsLocales: []LocaleOption{{Code: "en", Name: "English", URL: "/dashboard/settings?tl=en"},
			{Code: "fa", Name: "فارسی", URL: "/dashboard/settings?tl=fa", Current: true}},
		Messages: []MessageEditor{
			{Kind: "paid_confirmation", Field: "tpl_paid_confirmation", Text: "</textarea><script>x</script> #{{.OrderCode}}",
				Default: "You have paid #{{.OrderCode}} <ok>", Own: true, Fields: MessageFields("paid_confirmation"),
				Preview: "Paid #1042 <b>", PreviewButtons: []string{"Pay <now>"}, Error: "line 2: x", ChangedNow: true, Open: true},
			{Kind: "weird_kind", Field: "tpl_weird_kind", Text: "t", Default: "d"},
		},
	}
}

func TestSettingsPageRenders(t *testing.T) {
	t.Parallel()
	baked, err := New()
	require.NoError(t, err)
	plain, err := newTemplates(files, false)
	require.NoError(t, err)
	views := map[string]*SettingsView{
		"full":      testSettingsView(),
		"empty":     {},
		"forbidden": {Forbidden: true},
		"plain":     {Action: "/a", Name: SettingsField{Value: "S"}, Locale: SettingsField{Value: "en"}, Paid: SettingsSwitch{On: true}},
	}
	for _, loc := range append(Locales(), "xx") {
		for vn, v := range views {
			p := PageView{Locale: loc, ShopName: "Lan's <Shop>", Nav: "settings", CanSettings: true, Settings: v,
				Assets: []string{"settings.js"}}
			want, err := plain.AppendPage(nil, "settings", p)
			require.NoError(t, err, "%s in %s", vn, loc)
			got, err := baked.AppendPage(nil, "settings", p)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s in %s", vn, loc)
		}
	}

	var b strings.Builder
	require.NoError(t, baked.Page(&b, "settings", PageView{Locale: "fa", Nav: "settings", CanSettings: true,
		Settings: testSettingsView(), Assets: []string{"settings.js"}}))
	page := b.String()
	require.NotContains(t, page, "<script>x</script>", "the owner's text is escaped inside the textarea")
	require.Contains(t, page, "&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt; #{{.OrderCode}}")
	require.Contains(t, page, `<script src="/assets/settings.js" defer></script>`)
	require.Contains(t, page, `dir="rtl"`)
	require.Contains(t, page, "پیش‌نمایش", "Persian strings")
	require.Contains(t, page, "نام فروشگاه", "the summary names the field with its label")
	require.Contains(t, page, `name="display_toman"`)
	require.Contains(t, page, `aria-current="page">تنظیمات`, "the settings entry is the current section")

	b.Reset()
	require.NoError(t, baked.Page(&b, "settings", PageView{Locale: "en", Settings: &SettingsView{Forbidden: true}}))
	require.Contains(t, b.String(), "Only the shop&#39;s owner")
	require.NotContains(t, b.String(), "<form")
}
