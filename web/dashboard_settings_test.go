package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// settingsDash is a dashboard with the real renderer (which compiles owners' texts),
// shop-a (VND, Vietnamese) with an owner and a staff member, and shop-ir (IRR).
type settingsDash struct {
	t      *testing.T
	engine *gin.Engine
	svc    *orders.Service
	owner  *http.Cookie
	staff  *http.Cookie
}

func setupSettings(t *testing.T) *settingsDash {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	require.NoError(t, store.Migrate(ctx))
	pages, err := templates.New()
	require.NoError(t, err)
	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{
			{ID: "shop-a", Name: "Cửa hàng A", Currency: "VND", Locale: "vi", SendPaidConfirmation: true},
			{ID: "shop-ir", Name: "Ir", Currency: "IRR", Locale: "fa", SendPaidConfirmation: true},
		},
		Store: store, Renderer: bot.Renderer{Templates: pages}, PublicURL: "https://pay.example",
		LinkKey: bytes.Repeat([]byte{7}, orders.LinkKeyLen),
	})
	require.NoError(t, err)
	require.NoError(t, svc.LoadSettings(ctx))
	authSvc, _ := authtest.NewService(t, store)
	for _, u := range []struct {
		shop, email string
		role        auth.Role
	}{{"shop-a", "owner@example.com", auth.RoleOwner}, {"shop-a", "staff@example.com", auth.RoleStaff}, {"shop-ir", "owner@example.com", auth.RoleOwner}} {
		_, err := authSvc.AddUser(ctx, u.shop, u.email, u.role, authtest.Password)
		require.NoError(t, err)
	}
	srv, err := New(Config{Service: svc, Gateways: gateway.NewRegistry(), Pages: pages, Auth: authSvc})
	require.NoError(t, err)
	d := &settingsDash{t: t, engine: gin.New(), svc: svc}
	srv.Register(d.engine)
	d.owner = d.signIn("shop-a", "owner@example.com")
	d.staff = d.signIn("shop-a", "staff@example.com")
	return d
}

func (d *settingsDash) signIn(shop, email string) *http.Cookie {
	d.t.Helper()
	rec := d.do(http.MethodPost, "/dashboard/signin", url.Values{"shop": {shop}, "email": {email}, "password": {authtest.Password}}, "same-origin", nil)
	require.Equal(d.t, http.StatusSeeOther, rec.Code, rec.Body.String())
	return sessionCookieOf(d.t, rec, "chatpay_session")
}

// do sends a request as a browser would: a form, when not nil, posted with the given
// Sec-Fetch-Site.
func (d *settingsDash) do(method, path string, form url.Values, fetchSite string, cookie *http.Cookie) *httptest.ResponseRecorder {
	d.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	d.engine.ServeHTTP(rec, req)
	return rec
}

// form is shop A's settings form as the page first shows it, at version, with the
// texts in Vietnamese.
func (d *settingsDash) form(version string) url.Values { return d.formIn(version, "vi") }

// formIn is form with the texts in textsLocale.
func (d *settingsDash) formIn(version, textsLocale string) url.Values {
	f := url.Values{"version": {version}, "tl": {textsLocale}, "name": {"Cửa hàng A"}, "locale": {"vi"},
		"send_paid_confirmation": {"1"}, "do": {"save"}}
	for _, kind := range d.svc.MessageKinds() {
		f.Set("tpl_"+kind, d.svc.DefaultMessage(textsLocale, kind))
	}
	return f
}

func (d *settingsDash) saved() *orders.ShopSettings {
	d.t.Helper()
	st, err := d.svc.ShopSettings(context.Background(), "shop-a")
	require.NoError(d.t, err)
	return st
}

func TestSettingsPageOwnerOnly(t *testing.T) {
	t.Parallel()
	d := setupSettings(t)

	rec := d.do(http.MethodGet, "/dashboard/settings", nil, "", nil)
	require.Equal(t, http.StatusSeeOther, rec.Code, "signed out: to the sign-in page")

	rec = d.do(http.MethodGet, "/dashboard/settings", nil, "", d.staff)
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.Contains(t, rec.Body.String(), "Chỉ chủ cửa hàng mới xem và thay đổi được phần cài đặt", "says whose page it is, in the shop's language")
	require.NotContains(t, rec.Body.String(), "<form method=\"post\" action=\"/dashboard/settings\"")
	require.NotContains(t, rec.Body.String(), `href="/dashboard/settings"`, "the navigation hides settings from staff")

	f := d.form("0")
	f.Set("name", "Staff's name")
	rec = d.do(http.MethodPost, "/dashboard/settings", f, "same-origin", d.staff)
	require.Equal(t, http.StatusForbidden, rec.Code)
	rec = d.do(http.MethodPost, "/dashboard/settings/reset", url.Values{"version": {"0"}}, "same-origin", d.staff)
	require.Equal(t, http.StatusForbidden, rec.Code)
	rec = d.do(http.MethodPost, "/dashboard/settings/preview", url.Values{"locale": {"vi"}, "kind": {"paid_confirmation"}}, "same-origin", d.staff)
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.Equal(t, "unauthorized", decodePreviewError(t, rec).Code)
	require.Zero(t, d.saved().Version, "staff saved nothing")

	rec = d.do(http.MethodGet, "/dashboard/settings", nil, "", d.owner)
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	require.Contains(t, page, `<form method="post" action="/dashboard/settings" id="settings-form" data-preview-url="/dashboard/settings/preview">`)
	require.Contains(t, page, `<script src="/assets/settings.js" defer></script>`)
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "script-src 'self'")
	require.Contains(t, page, `aria-current="page">Cài đặt`)
	require.NotContains(t, page, `name="display_toman"`, "toman is only offered to IRR shops")
	require.Contains(t, page, `name="tpl_paid_confirmation"`)
}

func TestSettingsCrossSitePostsRefused(t *testing.T) {
	t.Parallel()
	d := setupSettings(t)
	f := d.form("0")
	f.Set("name", "Forged")
	for _, path := range []string{"/dashboard/settings", "/dashboard/settings/reset", "/dashboard/settings/preview"} {
		rec := d.do(http.MethodPost, path, f, "cross-site", d.owner)
		require.Equal(t, http.StatusForbidden, rec.Code, path)
		require.Contains(t, rec.Body.String(), "submitted from another site", path)
	}
	require.Zero(t, d.saved().Version)
	name, _ := d.svc.Shop("shop-a")
	require.Equal(t, "Cửa hàng A", name.Name)
}

func TestSettingsSaveConflictAndErrors(t *testing.T) {
	t.Parallel()
	d := setupSettings(t)
	f := d.formIn("0", "fa")
	f.Set("name", "Tiệm Hoa Lan")
	f.Del("send_paid_confirmation")
	// A Persian text, percent-encoded, is far beyond the 4 KiB other forms allow.
	f.Set("tpl_paid_confirmation", strings.Repeat("پرداخت شد ", 150)+"#{{.OrderCode}}\r\n")
	rec := d.do(http.MethodPost, "/dashboard/settings", f, "same-origin", d.owner)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.Equal(t, "/dashboard/settings?msg=saved&tl=fa", rec.Header().Get("Location"))
	st := d.saved()
	require.EqualValues(t, 1, st.Version)
	require.Equal(t, "Tiệm Hoa Lan", *st.Name)
	require.False(t, *st.SendPaidConfirmation)
	require.Equal(t, strings.Repeat("پرداخت شد ", 150)+"#{{.OrderCode}}", st.Templates["fa"]["paid_confirmation"])
	require.Len(t, st.Templates["fa"], 1, "texts left at the default are not stored")
	sh, _ := d.svc.Shop("shop-a")
	require.Equal(t, "Tiệm Hoa Lan", sh.Name)
	require.False(t, sh.SendPaidConfirmation)

	rec = d.do(http.MethodGet, "/dashboard/settings?msg=saved&tl=fa", nil, "", d.owner)
	page := rec.Body.String()
	require.Contains(t, page, "Đã lưu cài đặt.")
	require.Contains(t, page, `value="Tiệm Hoa Lan"`)
	require.Contains(t, page, "Theo cấu hình: <bdi>Cửa hàng A</bdi>", "the configured name beside the owner's")
	require.Contains(t, page, `<input type="hidden" name="version" value="1">`)
	require.Contains(t, page, `action="/dashboard/settings/reset"`, "fields differ from the configuration: reset is offered")

	// Someone else saved meanwhile: the stale form saves nothing, comes back with the
	// owner's input and what is saved now, at the new version.
	stale := d.form("0")
	stale.Set("name", "Another name")
	rec = d.do(http.MethodPost, "/dashboard/settings", stale, "same-origin", d.owner)
	require.Equal(t, http.StatusConflict, rec.Code)
	page = rec.Body.String()
	require.Contains(t, page, "Có người khác đã lưu cài đặt này")
	require.Contains(t, page, `value="Another name"`, "the owner's input is kept")
	require.Contains(t, page, "Đang lưu: <bdi>Tiệm Hoa Lan</bdi>", "beside what is saved now")
	require.Contains(t, page, `<input type="hidden" name="version" value="1">`, "saving again applies it")
	require.Equal(t, "Tiệm Hoa Lan", *d.saved().Name)

	// Errors name their fields, keep the input and the form's version.
	bad := d.form("1")
	bad.Set("name", "")
	bad.Set("tpl_shipped", "Đã gửi {{.Carrier")
	rec = d.do(http.MethodPost, "/dashboard/settings", bad, "same-origin", d.owner)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	page = rec.Body.String()
	require.Contains(t, page, `<a href="#f-name">Tên cửa hàng</a>: <bdi>The shop needs a name.</bdi>`)
	require.Contains(t, page, `<a href="#t-shipped">Đã gửi hàng</a>: <bdi>The shipped message in vi: line 1:`)
	require.Contains(t, page, `aria-invalid="true"`)
	require.Contains(t, page, "Đã gửi {{.Carrier</textarea>", "the text as typed")
	require.Contains(t, page, `<input type="hidden" name="version" value="1">`)
	require.EqualValues(t, 1, d.saved().Version)

	// Back to the configuration.
	rec = d.do(http.MethodPost, "/dashboard/settings/reset", url.Values{"version": {"0"}}, "same-origin", d.owner)
	require.Equal(t, "/dashboard/settings?msg=reset_conflict&tl=vi", rec.Header().Get("Location"), "reset is compare-and-set too")
	rec = d.do(http.MethodPost, "/dashboard/settings/reset", url.Values{"version": {"1"}}, "same-origin", d.owner)
	require.Equal(t, "/dashboard/settings?msg=reset&tl=vi", rec.Header().Get("Location"))
	st = d.saved()
	require.Nil(t, st.Name)
	require.Nil(t, st.SendPaidConfirmation)
	require.Contains(t, st.Templates["fa"], "paid_confirmation", "texts stay")
	sh, _ = d.svc.Shop("shop-a")
	require.Equal(t, "Cửa hàng A", sh.Name)
}

func TestSettingsPreviewWithoutScript(t *testing.T) {
	t.Parallel()
	d := setupSettings(t)
	f := d.form("0")
	f.Set("tpl_paid_confirmation", "Cảm ơn {{.CustomerName}}! Đơn #{{.OrderCode}}: {{.Total}}")
	f.Set("do", "preview:paid_confirmation")
	rec := d.do(http.MethodPost, "/dashboard/settings", f, "same-origin", d.owner)
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	require.Contains(t, page, "Cảm ơn Lan! Đơn #1042: 380.000 ₫", "the sample order, in the shop's money")
	require.Contains(t, page, "Các thay đổi này chưa được lưu.")
	require.Zero(t, d.saved().Version, "a preview saves nothing")

	f.Set("tpl_order_card", "no code")
	f.Set("do", "preview:order_card")
	rec = d.do(http.MethodPost, "/dashboard/settings", f, "same-origin", d.owner)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "the text must show the order&#39;s code")

	f.Set("do", "reset:order_card")
	rec = d.do(http.MethodPost, "/dashboard/settings", f, "same-origin", d.owner)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "\n"+templateEscape(d.svc.DefaultMessage("vi", "order_card"))+"</textarea>", "the built-in text back in the box")
	require.NotContains(t, rec.Body.String(), ">\nno code</textarea>")
	require.Zero(t, d.saved().Version)
}

// templateEscape escapes text as html/template does in HTML text and a textarea.
func templateEscape(s string) string { return htmlEscaper.Replace(s) }

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;")

func decodePreviewError(t *testing.T, rec *httptest.ResponseRecorder) errorJSON {
	t.Helper()
	var body errorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return body.Error
}

func TestSettingsPreviewEndpoint(t *testing.T) {
	t.Parallel()
	d := setupSettings(t)
	rec := d.do(http.MethodPost, "/dashboard/settings/preview",
		url.Values{"locale": {"en"}, "kind": {"order_card"}, "text": {"#{{.OrderCode}} {{.Total}}"}}, "same-origin", d.owner)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got previewJSON
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, previewJSON{Text: "#1042 ₫380,000", Buttons: []string{"Pay now"}}, got)

	rec = d.do(http.MethodPost, "/dashboard/settings/preview",
		url.Values{"locale": {"th"}, "kind": {"paid_confirmation"}, "text": {""}}, "same-origin", d.owner)
	require.Equal(t, http.StatusOK, rec.Code)
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Contains(t, got.Text, "1042", "an empty text previews the built-in one")
	require.Empty(t, got.Buttons)

	rec = d.do(http.MethodPost, "/dashboard/settings/preview",
		url.Values{"locale": {"vi"}, "kind": {"refunded"}, "text": {"Hoàn tiền đơn #{{.OrderCode}}"}}, "same-origin", d.owner)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	e := decodePreviewError(t, rec)
	require.Equal(t, errorJSON{Code: "invalid", Field: "templates.vi.refunded",
		Message: "The refunded message in vi: the text must show the amount, {{.Amount}}"}, e)

	rec = d.do(http.MethodPost, "/dashboard/settings/preview", url.Values{"locale": {"xx"}, "kind": {"refunded"}}, "same-origin", d.owner)
	require.Equal(t, "locale", decodePreviewError(t, rec).Field)
}

// The IRR shop's owner may show toman; the toman choice is on its page only.
func TestSettingsToman(t *testing.T) {
	t.Parallel()
	d := setupSettings(t)
	owner := d.signIn("shop-ir", "owner@example.com")
	rec := d.do(http.MethodGet, "/dashboard/settings", nil, "", owner)
	require.Contains(t, rec.Body.String(), `name="display_toman"`)
	require.Contains(t, rec.Body.String(), `dir="rtl"`)
	f := url.Values{"version": {"0"}, "tl": {"fa"}, "name": {"Ir"}, "locale": {"fa"}, "display_toman": {"1"},
		"send_paid_confirmation": {"1"}}
	rec = d.do(http.MethodPost, "/dashboard/settings", f, "same-origin", owner)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	sh, _ := d.svc.Shop("shop-ir")
	require.True(t, sh.DisplayToman)

	// Shop A sells in dong: a hand-made toman field is refused, naming it.
	f = d.form("0")
	f.Set("display_toman", "1")
	rec = d.do(http.MethodPost, "/dashboard/settings", f, "same-origin", d.owner)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.Contains(t, rec.Body.String(), `<a href="#f-toman">`)
}

func TestSettingsTextsOfUnknownLanguageRefused(t *testing.T) {
	t.Parallel()
	d := setupSettings(t)
	f := d.form("0")
	f.Set("tl", "xx")
	f.Set("tpl_paid_confirmation", "Paid #{{.OrderCode}}")
	rec := d.do(http.MethodPost, "/dashboard/settings", f, "same-origin", d.owner)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Zero(t, d.saved().Version)
}

func TestSettingsFormBodyLimit(t *testing.T) {
	t.Parallel()
	d := setupSettings(t)
	f := d.form("0")
	f.Set("tpl_shipped", strings.Repeat("x", maxSettingsFormBytes))
	rec := d.do(http.MethodPost, "/dashboard/settings", f, "same-origin", d.owner)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Zero(t, d.saved().Version)
}
