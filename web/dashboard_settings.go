package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// The owner's settings page (issue 4): the shop's name, language, currency display
// and paid-confirmation switch, and the texts of its customer messages with a
// preview. Only owners may open it; staff following a link get 403 and a sentence
// saying whose page it is (the navigation hides it from them anyway).
//
// The page is one form with one version (orders.ShopSettings' compare-and-set), so a
// form made before someone else saved is refused as a whole and comes back with the
// owner's input and, next to it, what is saved now: nothing typed is lost. The texts
// are edited one language at a time (?tl=). Without JavaScript, each text's Preview
// and Reset to default buttons post the form and the page comes back with the
// preview, or the built-in text in the box, unsaved; settings.js does the same in
// place as the owner types, through the preview endpoint.

const (
	settingsPath        = dashboardPath + "/settings"
	settingsPreviewPath = settingsPath + "/preview"
	settingsResetPath   = settingsPath + "/reset"

	// maxSettingsFormBytes bounds the settings form: a language's message texts, up
	// to 2,000 characters each, which a browser may percent-encode to twelve bytes a
	// character (four bytes of UTF-8, three characters each).
	maxSettingsFormBytes = 512 << 10

	// textField prefixes the name of a message text's textarea: tpl_order_card.
	textField = "tpl_"
)

// localeNames are the languages a shop may speak, each in its own words.
var localeNames = []struct{ code, name string }{
	{"en", "English"}, {"vi", "Tiếng Việt"}, {"th", "ไทย"}, {"fa", "فارسی"},
}

func localeName(code string) string {
	for _, l := range localeNames {
		if l.code == code {
			return l.name
		}
	}
	return code
}

func (s *Server) settingsRoutes(r *gin.RouterGroup) {
	r.GET(settingsPath, s.requireUser, s.settingsPage)
	r.POST(settingsPath, s.sameOriginForm(maxSettingsFormBytes), s.requireUser, s.postSettings)
	r.POST(settingsPreviewPath, s.sameOriginForm(maxSettingsFormBytes), s.requireUser, s.previewSettings)
	r.POST(settingsResetPath, s.sameOrigin, s.requireUser, s.resetSettings)
}

// settingsOwner returns the signed-in owner's shop (with its settings laid over it);
// for anyone else it has answered, with the page or, for JSON, an error.
func (s *Server) settingsOwner(c *gin.Context, asJSON bool) (*auth.User, *orders.Shop) {
	u := dashboardUser(c)
	shop, err := s.svc.Shop(u.ShopID)
	if err != nil {
		s.pageError(c, err, nil)
		return nil, nil
	}
	if u.Can(auth.ActionChangeSettings) {
		return u, shop
	}
	if asJSON {
		c.AbortWithStatusJSON(http.StatusForbidden, errorBody{Error: errorJSON{Code: orders.EUNAUTHORIZED,
			Message: "Only the shop's owner can change its settings."}})
		return nil, nil
	}
	s.renderPage(c, http.StatusForbidden, "settings", templates.PageView{
		Locale: shop.Locale, ShopName: shop.Name, Email: u.Email, FormAction: signOutPath, Nav: "settings",
		Settings: &templates.SettingsView{Forbidden: true},
	})
	return nil, nil
}

// settingsInput is the form as posted, or as the page first fills it.
type settingsInput struct {
	name, locale, textsLocale string
	toman, paid               bool
	texts                     map[string]string
	version                   int64
}

// savedInput fills the form from what is saved, laid over the configuration.
func (s *Server) savedInput(cfg *orders.Shop, st *orders.ShopSettings, textsLocale string) settingsInput {
	in := settingsInput{
		name: cfg.Name, locale: cfg.Locale, toman: cfg.DisplayToman, paid: cfg.SendPaidConfirmation,
		textsLocale: textsLocale, texts: map[string]string{}, version: st.Version,
	}
	if st.Name != nil {
		in.name = *st.Name
	}
	if st.Locale != nil {
		in.locale = *st.Locale
	}
	if st.DisplayToman != nil {
		in.toman = *st.DisplayToman
	}
	in.toman = in.toman && cfg.Currency == "IRR"
	if st.SendPaidConfirmation != nil {
		in.paid = *st.SendPaidConfirmation
	}
	for _, kind := range s.svc.MessageKinds() {
		if own, ok := st.Templates[textsLocale][kind]; ok {
			in.texts[kind] = own
		} else {
			in.texts[kind] = s.svc.DefaultMessage(textsLocale, kind)
		}
	}
	return in
}

// postedInput reads the posted form. A version that does not parse is left for the
// service to refuse as a stale form; the texts' language is checked by the caller.
func (s *Server) postedInput(c *gin.Context, shop *orders.Shop) settingsInput {
	in := settingsInput{
		name: c.PostForm("name"), locale: c.PostForm("locale"), textsLocale: c.PostForm("tl"),
		toman: c.PostForm("display_toman") != "", paid: c.PostForm("send_paid_confirmation") != "",
		texts: map[string]string{},
	}
	in.version, _ = strconv.ParseInt(c.PostForm("version"), 10, 64)
	if in.textsLocale == "" {
		in.textsLocale = shop.Locale
	}
	for _, kind := range s.svc.MessageKinds() {
		if v, ok := c.GetPostForm(textField + kind); ok {
			in.texts[kind] = v
		}
	}
	return in
}

func validLocale(code string) bool {
	return slices.ContainsFunc(localeNames, func(l struct{ code, name string }) bool { return l.code == code })
}

// textsLocaleOf is the language whose texts the page edits: ?tl= when it is one,
// else the shop's.
func textsLocaleOf(c *gin.Context, shop *orders.Shop) string {
	if tl := c.Query("tl"); validLocale(tl) {
		return tl
	}
	return shop.Locale
}

func settingsURL(textsLocale, msg string) string {
	q := url.Values{"tl": {textsLocale}}
	if msg != "" {
		q.Set("msg", msg)
	}
	return settingsPath + "?" + q.Encode()
}

// settingsPage shows the settings as saved now.
func (s *Server) settingsPage(c *gin.Context) {
	u, shop := s.settingsOwner(c, false)
	if shop == nil {
		return
	}
	st, err := s.svc.ShopSettings(c.Request.Context(), shop.ID)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	cfg, err := s.svc.ConfiguredShop(shop.ID)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	in := s.savedInput(cfg, st, textsLocaleOf(c, shop))
	v := s.settingsView(cfg, st, in)
	switch msg := c.Query("msg"); msg {
	case "saved", "reset":
		v.Flash = msg
	case "reset_conflict":
		v.Flash, v.FlashBad = msg, true
	}
	s.renderSettings(c, http.StatusOK, u, shop, v)
}

// postSettings saves the form, or, for a text's Preview or Reset to default button
// (do=preview:KIND, do=reset:KIND), shows the page again with the form as posted,
// saving nothing.
func (s *Server) postSettings(c *gin.Context) {
	u, shop := s.settingsOwner(c, false)
	if shop == nil {
		return
	}
	ctx := c.Request.Context()
	cfg, err := s.svc.ConfiguredShop(shop.ID)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	if tl := c.PostForm("tl"); tl != "" && !validLocale(tl) {
		// Only a hand-made post gets here; its texts must not land in another language.
		s.pageError(c, orders.Invalidf("tl", "%q is not a language of chatpay's.", tl), shop)
		return
	}
	in := s.postedInput(c, shop)
	action, kind, _ := strings.Cut(c.PostForm("do"), ":")
	if _, known := in.texts[kind]; (action == "preview" || action == "reset") && !known {
		action = "save" // a hand-made post: nothing to preview
	}
	switch action {
	case "preview", "reset":
		if action == "reset" {
			in.texts[kind] = s.svc.DefaultMessage(in.textsLocale, kind)
		}
		st := &orders.ShopSettings{Version: in.version, Templates: map[string]map[string]string{}}
		if saved, err := s.svc.ShopSettings(ctx, shop.ID); err == nil {
			st.Templates = saved.Templates
		}
		v := s.settingsView(cfg, st, in)
		v.Unsaved = true
		for i := range v.Messages {
			if m := &v.Messages[i]; m.Kind == kind {
				m.Open = true
				if action == "preview" {
					s.previewInto(shop.ID, in.textsLocale, m)
				}
			}
		}
		s.renderSettings(c, http.StatusOK, u, shop, v)
		return
	}

	_, err = s.svc.SaveSettings(ctx, shop.ID, orders.SettingsInput{
		Name: in.name, Locale: in.locale, DisplayToman: in.toman, SendPaidConfirmation: in.paid,
		TemplatesLocale: in.textsLocale, Templates: in.texts, Version: in.version, UserID: u.ID,
	})
	switch orders.ErrorCode(err) {
	case "":
		c.Redirect(http.StatusSeeOther, settingsURL(in.textsLocale, "saved"))
	case orders.EINVALID:
		saved, serr := s.svc.ShopSettings(ctx, shop.ID)
		if serr != nil {
			s.pageError(c, serr, shop)
			return
		}
		v := s.settingsView(cfg, saved, in)
		v.Version = in.version // still the form's: the next save stays compare-and-set
		s.addFieldErrors(v, in.textsLocale, err)
		s.renderSettings(c, http.StatusUnprocessableEntity, u, shop, v)
	case orders.ECONFLICT:
		saved, serr := s.svc.ShopSettings(ctx, shop.ID)
		if serr != nil {
			s.pageError(c, serr, shop)
			return
		}
		v := s.settingsView(cfg, saved, in)
		v.Conflict = true
		s.markSavedNow(v, cfg, saved, in)
		s.renderSettings(c, http.StatusConflict, u, shop, v)
	default:
		s.pageError(c, err, shop)
	}
}

// resetSettings hands the shop's fields back to the configuration.
func (s *Server) resetSettings(c *gin.Context) {
	u, shop := s.settingsOwner(c, false)
	if shop == nil {
		return
	}
	version, _ := strconv.ParseInt(c.PostForm("version"), 10, 64)
	_, err := s.svc.ResetSettings(c.Request.Context(), shop.ID, version, u.ID)
	switch orders.ErrorCode(err) {
	case "":
		// The shop may speak another language now: the page follows it.
		next, _ := s.svc.Shop(shop.ID)
		c.Redirect(http.StatusSeeOther, settingsURL(next.Locale, "reset"))
	case orders.ECONFLICT:
		c.Redirect(http.StatusSeeOther, settingsURL(shop.Locale, "reset_conflict"))
	default:
		s.pageError(c, err, shop)
	}
}

// previewJSON is the preview endpoint's answer: the text and its buttons' labels.
type previewJSON struct {
	Text    string   `json:"text"`
	Buttons []string `json:"buttons"`
}

// previewSettings renders a text for the sample order as the owner types (form
// fields locale, kind, text). A text that would be refused on save answers 422 with
// the reason; the page shows it under the box.
func (s *Server) previewSettings(c *gin.Context) {
	_, shop := s.settingsOwner(c, true)
	if shop == nil {
		return
	}
	text, buttons, err := s.svc.Preview(shop.ID, c.PostForm("locale"), c.PostForm("kind"), c.PostForm("text"))
	var e *orders.Error
	switch {
	case err == nil:
		out := previewJSON{Text: text, Buttons: make([]string, len(buttons))}
		for i, b := range buttons {
			out.Buttons[i] = b.Label
		}
		c.JSON(http.StatusOK, out)
	case errors.As(err, &e) && e.Code == orders.EINVALID:
		// The message alone: the page shows it under the box it is about.
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, errorBody{Error: errorJSON{Code: e.Code, Message: e.Message, Field: e.Field}})
	default:
		s.apiError(c, err, http.StatusUnprocessableEntity)
	}
}

// previewInto fills a message editor's preview, or its error.
func (s *Server) previewInto(shopID, locale string, m *templates.MessageEditor) {
	text, buttons, err := s.svc.Preview(shopID, locale, m.Kind, m.Text)
	var e *orders.Error
	switch {
	case err == nil:
		m.Preview = text
		for _, b := range buttons {
			m.PreviewButtons = append(m.PreviewButtons, b.Label)
		}
	case errors.As(err, &e):
		m.Error = e.Message
	default:
		m.Error = orders.ErrorMessage(err)
	}
}

// settingsView is the page for a form: cfg is the shop as configured, st what is
// saved (for the version and which texts are the owner's), in what the form holds.
func (s *Server) settingsView(cfg *orders.Shop, st *orders.ShopSettings, in settingsInput) *templates.SettingsView {
	v := &templates.SettingsView{
		Action: settingsPath, ResetAction: settingsResetPath, PreviewURL: settingsPreviewPath,
		Version:   st.Version,
		Name:      templates.SettingsField{Value: in.name, Configured: cfg.Name, Differs: in.name != cfg.Name},
		Locale:    templates.SettingsField{Value: in.locale, Configured: localeName(cfg.Locale), Differs: in.locale != cfg.Locale},
		Currency:  cfg.Currency,
		ShowToman: cfg.Currency == "IRR",
		Toman:     templates.SettingsSwitch{On: in.toman, Configured: cfg.DisplayToman, Differs: in.toman != cfg.DisplayToman},
		Paid: templates.SettingsSwitch{On: in.paid, Configured: cfg.SendPaidConfirmation,
			Differs: in.paid != cfg.SendPaidConfirmation},
		Overridden:  st.Name != nil || st.Locale != nil || st.DisplayToman != nil || st.SendPaidConfirmation != nil,
		TextsLocale: in.textsLocale,
	}
	v.Toman.Differs = v.Toman.Differs && v.ShowToman
	for _, l := range localeNames {
		v.Locales = append(v.Locales, templates.LocaleOption{Code: l.code, Name: l.name, Current: l.code == in.locale})
		v.TextsLocales = append(v.TextsLocales, templates.LocaleOption{Code: l.code, Name: l.name,
			URL: settingsURL(l.code, "") + "#messages", Current: l.code == in.textsLocale})
	}
	for _, kind := range s.svc.MessageKinds() {
		def := s.svc.DefaultMessage(in.textsLocale, kind)
		_, own := st.Templates[in.textsLocale][kind]
		text, ok := in.texts[kind]
		if !ok {
			text = def
		}
		v.Messages = append(v.Messages, templates.MessageEditor{
			Kind: kind, Field: textField + kind, Text: text, Default: def, Own: own,
			Fields: templates.MessageFields(kind), Open: own,
		})
	}
	return v
}

// addFieldErrors shows each field error of err next to its field and in the summary.
func (s *Server) addFieldErrors(v *templates.SettingsView, textsLocale string, err error) {
	for _, e := range fieldErrors(err) {
		se := templates.SettingsError{Field: e.Field, Message: e.Message, LabelKey: "settings_templates", Anchor: "messages"}
		switch e.Field {
		case "name":
			se.LabelKey, se.Anchor, v.Name.Error = "settings_name", "f-name", e.Message
		case "locale":
			se.LabelKey, se.Anchor, v.Locale.Error = "settings_locale", "f-locale", e.Message
		case "display_toman":
			se.LabelKey, se.Anchor, v.Toman.Error = "settings_toman", "f-toman", e.Message
		case "templates_locale":
			se.LabelKey = "settings_texts_language"
		default:
			kind, ok := strings.CutPrefix(e.Field, "templates."+textsLocale+".")
			for i := range v.Messages {
				if m := &v.Messages[i]; ok && m.Kind == kind {
					m.Error, m.Open = e.Message, true
					se.LabelKey, se.Anchor = "settings_kind_"+kind, "t-"+kind
				}
			}
		}
		v.Errors = append(v.Errors, se)
	}
}

// fieldErrors lists the *orders.Error values joined in err.
func fieldErrors(err error) []*orders.Error {
	var out []*orders.Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, err := range j.Unwrap() {
				walk(err)
			}
			return
		}
		var e *orders.Error
		if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	walk(err)
	return out
}

// markSavedNow shows, next to the owner's input, what someone else saved meanwhile
// where it differs.
func (s *Server) markSavedNow(v *templates.SettingsView, cfg *orders.Shop, saved *orders.ShopSettings, in settingsInput) {
	now := s.savedInput(cfg, saved, in.textsLocale)
	if now.name != in.name {
		v.Name.SavedNow = now.name
	}
	if now.locale != in.locale {
		v.Locale.SavedNow = localeName(now.locale)
	}
	v.Toman.SavedNowDiffers = v.ShowToman && now.toman != in.toman
	v.Paid.SavedNowDiffers = now.paid != in.paid
	for i := range v.Messages {
		m := &v.Messages[i]
		if strings.TrimSpace(now.texts[m.Kind]) != strings.TrimSpace(strings.ReplaceAll(m.Text, "\r\n", "\n")) {
			m.ChangedNow, m.Open = true, true
		}
	}
}

func (s *Server) renderSettings(c *gin.Context, status int, u *auth.User, shop *orders.Shop, v *templates.SettingsView) {
	p := dashboardPageView(shop, u, "settings")
	p.FormAction, p.Assets, p.Settings = signOutPath, []string{"settings.js"}, v
	s.renderPage(c, status, "settings", p)
}
