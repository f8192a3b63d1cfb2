package templates

// SettingsView is the owner's settings page: the shop's name, language, currency
// display and paid-confirmation switch, and the texts of its customer messages in one
// language at a time, each with a preview. Errors are the service's sentences; the
// page names each field with its own label.
type SettingsView struct {
	// Forbidden shows only a note that settings are the owner's (a staff member
	// followed a link to the page).
	Forbidden bool
	// Action is where the form posts; ResetAction where "reset to configured"
	// posts; PreviewURL is the endpoint settings.js asks for previews.
	Action, ResetAction, PreviewURL string
	// Version is the version of the settings the form was made from.
	Version int64
	// Flash is a message key (saved, reset, reset_conflict), FlashBad says it
	// reports a failure. Conflict says the form was made from settings someone saved
	// over meanwhile; Unsaved says the page shows input not saved yet (after a
	// preview or a reset of a text without JavaScript).
	Flash             string
	FlashBad          bool
	Conflict, Unsaved bool
	// Errors are every field in error, for the summary at the top; each field also
	// shows its own.
	Errors []SettingsError

	Name      SettingsField
	Locale    SettingsField
	Locales   []LocaleOption
	Currency  string
	ShowToman bool // the shop sells in IRR, so it may show toman
	Toman     SettingsSwitch
	Paid      SettingsSwitch
	// Overridden says some field differs from the configuration: the page then
	// offers to reset them.
	Overridden bool

	// TextsLocale is the language of Messages; TextsLocales link to the others.
	TextsLocale  string
	TextsLocales []LocaleOption
	Messages     []MessageEditor
}

// SettingsError is one field in error: Field is its form name, LabelKey the page's
// string naming it (settings_name, settings_kind_paid_confirmation, ...), Anchor the
// id of its input.
type SettingsError struct {
	Field, LabelKey, Anchor, Message string
}

// SettingsField is a text field or a choice: what the form holds, the configured
// value as the page shows it (when it Differs from the form's), and what is saved
// now when someone else saved another value meanwhile.
type SettingsField struct {
	Value, Configured string
	Differs           bool
	SavedNow, Error   string
}

// SettingsSwitch is a checkbox, like SettingsField.
type SettingsSwitch struct {
	On, Configured, Differs bool
	// SavedNowDiffers says someone saved the other value meanwhile.
	SavedNowDiffers bool
	Error           string
}

// LocaleOption is a language: its code, its own name, and a link for the texts'
// language switch.
type LocaleOption struct {
	Code, Name, URL string
	Current         bool
}

// MessageEditor is the editor of one customer message.
type MessageEditor struct {
	// Kind is the message kind (order_card, ...); Field its textarea's name.
	Kind, Field string
	// Text is what the textarea holds; Default the built-in text; Own says the
	// shop's saved text differs from the built-in one.
	Text, Default string
	Own           bool
	// Fields are the fields the message usually shows, for the help.
	Fields []string
	// Preview is the rendered text for a sample order, with its buttons' labels,
	// when the owner asked for it; Error is what is wrong with Text.
	Preview        string
	PreviewButtons []string
	Error          string
	// ChangedNow says someone saved another text for this message meanwhile.
	ChangedNow bool
	// Open unfolds the editor: it has an error, a preview, or the owner's text.
	Open bool
}
