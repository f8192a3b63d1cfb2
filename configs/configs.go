// Package configs loads chatpay's configuration: the embedded default (default.yaml),
// overlaid by a YAML file, overlaid by a few environment variables. Loading is strict —
// an unknown key, a wrong type or an invalid value stops start-up with one line that
// names the key, such as
//
//	config: shops[1].currency: unknown currency "VNDD"
//
// It imports nothing of chatpay's own; cmd/chatpay turns a Config into the domain's
// types.
package configs

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed default.yaml
var defaultYAML []byte

// Default returns the embedded default configuration file.
func Default() []byte { return slices.Clone(defaultYAML) }

// Config is chatpay's whole configuration.
type Config struct {
	HTTP        HTTP   `yaml:"http"`
	DatabaseURL string `yaml:"database_url"`
	RedisURL    string `yaml:"redis_url"`
	// SecretKey is the base64 encoding of 32 random bytes that seal payment-link
	// tokens. Empty means chatpay generates one on first start and keeps it in the
	// database, so links survive restarts either way.
	SecretKey string `yaml:"secret_key"`
	Log       Log    `yaml:"log"`
	Jobs      Jobs   `yaml:"jobs"`
	Shops     []Shop `yaml:"shops"`

	// defaultShops is true while Shops are the embedded demo shop(s).
	defaultShops bool
	// envKeys maps a key path to the environment variable that set it, so an error
	// can point at the variable rather than at a file that never mentioned the key.
	envKeys map[string]string
}

// HTTP configures the server.
type HTTP struct {
	// Addr is the host:port to listen on.
	Addr string `yaml:"addr"`
	// PublicURL is the base of every link chatpay sends (pay links, sandbox checkout,
	// webhook URLs), without a trailing slash.
	PublicURL       string   `yaml:"public_url"`
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// TrustedProxies are the addresses or CIDRs of the reverse proxies in front of
	// chatpay, whose X-Forwarded-For names the client (sign-in throttling, logs).
	// Empty trusts none: the peer address is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // auto | json | text
}

// Jobs configures background work.
type Jobs struct {
	// ReconcileAfter is how long an attempt may stay pending before chatpay asks the
	// gateway about it.
	ReconcileAfter Duration `yaml:"reconcile_after"`
	// ReconcileEvery is how often the reconciliation job runs.
	ReconcileEvery Duration `yaml:"reconcile_every"`
}

// Shop is one shop chatpay sells for.
type Shop struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	Currency string `yaml:"currency"`
	Locale   string `yaml:"locale"`
	// DisplayToman shows IRR amounts as toman (a tenth of the rial count).
	DisplayToman bool `yaml:"display_toman"`
	// APIKeys authenticate the shop's REST calls (Authorization: Bearer KEY).
	APIKeys []string `yaml:"api_keys"`
	// SendPaidConfirmation, true unless set to false, posts "You have successfully
	// paid for order #CODE." to the customer's chat. Parse fills it in, so it is
	// never nil in a loaded Config.
	SendPaidConfirmation *bool      `yaml:"send_paid_confirmation"`
	Gateways             Gateways   `yaml:"gateways"`
	Telegram             *Telegram  `yaml:"telegram"`
	Messenger            *Messenger `yaml:"messenger"`
	// WebChat configures the shop's built-in web chat; it is optional.
	WebChat *WebChat `yaml:"webchat"`
}

// WebChat configures a shop's built-in web chat.
type WebChat struct {
	// AllowedOrigins are the sites that may show the shop's web chat in a frame (the
	// widget on the shop's own site): origins such as "https://shop.example" or
	// "https://*.shop.example", without a path. chatpay's own origin always may.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// PaidConfirmation reports whether the shop sends the paid confirmation message.
func (s *Shop) PaidConfirmation() bool {
	return s.SendPaidConfirmation == nil || *s.SendPaidConfirmation
}

// Gateways holds a shop's payment gateways; a nil entry is a disabled gateway. New
// gateways (Stripe, Omise) join as further pointer fields.
type Gateways struct {
	Sandbox *Sandbox `yaml:"sandbox"`
	Stripe  *Stripe  `yaml:"stripe"`
	Omise   *Omise   `yaml:"omise"`
}

// Enabled returns the names of the configured gateways, in a fixed order.
func (g Gateways) Enabled() []string {
	var names []string
	if g.Sandbox != nil {
		names = append(names, "sandbox")
	}
	if g.Stripe != nil {
		names = append(names, "stripe")
	}
	if g.Omise != nil {
		names = append(names, "omise")
	}
	return names
}

// Stripe configures a shop's Stripe account.
type Stripe struct {
	SecretKey string `yaml:"secret_key"`
	// WebhookSecrets are the endpoint's signing secrets (whsec_…): more than one
	// while a secret is being rolled.
	WebhookSecrets []string `yaml:"webhook_secrets"`
	// APIURL overrides https://api.stripe.com (stripe-mock in tests).
	APIURL string `yaml:"api_url"`
	// SessionTTL is how long a Checkout Session stays payable, 30m to 24h (default 1h).
	SessionTTL Duration `yaml:"session_ttl"`
	// ManualCapture only authorises at checkout; the shop captures later.
	ManualCapture bool `yaml:"manual_capture"`
}

// Omise configures a shop's Opn Payments (Omise) account.
type Omise struct {
	SecretKey string `yaml:"secret_key"`
	PublicKey string `yaml:"public_key"`
	// WebhookSecrets are the base64 webhook secrets the dashboard shows: more than
	// one during a rotation.
	WebhookSecrets []string `yaml:"webhook_secrets"`
	// APIURL overrides https://api.omise.co (an emulator in tests).
	APIURL string `yaml:"api_url"`
	// SourceType is how customers pay: promptpay (default) or a redirect source.
	SourceType string `yaml:"source_type"`
}

// Sandbox configures the built-in sandbox gateway.
type Sandbox struct {
	// WebhookSecret signs the sandbox's webhooks (HMAC-SHA256).
	WebhookSecret string `yaml:"webhook_secret"`
}

// Telegram configures a shop's Telegram bot.
type Telegram struct {
	Token string `yaml:"token"`
	// APIURL is the Bot API's base URL; tests point it at an emulator.
	APIURL string `yaml:"api_url"`
	// Mode is polling (getUpdates) or webhook.
	Mode string `yaml:"mode"`
	// WebhookSecret is the secret_token Telegram echoes in webhook requests.
	WebhookSecret string `yaml:"webhook_secret"`
	// OperatorChatID is the forum supergroup where staff work; 0 means none.
	OperatorChatID int64 `yaml:"operator_chat_id"`
	// SalesGroups are the groups (such as the discussion group of the shop's
	// channel) whose administrators may sell by answering comments with /order.
	// Anyone can add a bot to a group; in groups not listed, it sells nothing.
	SalesGroups []int64 `yaml:"sales_groups"`
}

// Messenger configures a shop's Facebook Page on Messenger.
type Messenger struct {
	PageID          string `yaml:"page_id"`
	PageAccessToken string `yaml:"page_access_token"`
	// AppSecret signs Meta's webhooks (X-Hub-Signature-256) and chatpay's calls
	// (appsecret_proof).
	AppSecret string `yaml:"app_secret"`
	// VerifyToken answers the webhook subscription handshake (hub.verify_token).
	VerifyToken string `yaml:"verify_token"`
	// AppID is chatpay's Meta app: echoes of messages it sent carry it, and are
	// told apart from what staff type in the Page inbox.
	AppID string `yaml:"app_id"`
	// APIURL and APIVersion locate the Graph API; tests point APIURL at an emulator.
	APIURL     string `yaml:"api_url"`
	APIVersion string `yaml:"api_version"`
	// PaidTemplate is an approved utility message template for the paid
	// confirmation outside the 24-hour window; without one, the confirmation is
	// not sent then and the owner is told.
	PaidTemplate *MessengerTemplate `yaml:"paid_template"`
}

// MessengerTemplate names an approved Messenger utility message template.
type MessengerTemplate struct {
	Name     string `yaml:"name"`
	Language string `yaml:"language"`
}

// Duration is a time.Duration written as "90s" or "2m" in YAML.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("must be a duration such as \"90s\" or \"2m\", got %q", b)
	}
	*d = Duration(v)
	return nil
}

// Error is a configuration error about one key. Its text is one line:
// "config: KEY: MESSAGE".
type Error struct {
	// Key is the key path, such as "shops[1].currency"; empty for errors about the
	// file as a whole.
	Key     string
	Message string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return "config: " + e.Message
	}
	return "config: " + e.Key + ": " + e.Message
}

func errorf(key, format string, args ...any) *Error {
	return &Error{Key: key, Message: fmt.Sprintf(format, args...)}
}

// envOverrides are the environment variables that win over the file.
var envOverrides = []struct {
	name, key string
	field     func(c *Config) *string
}{
	{"CHATPAY_HTTP_ADDR", "http.addr", func(c *Config) *string { return &c.HTTP.Addr }},
	{"CHATPAY_PUBLIC_URL", "http.public_url", func(c *Config) *string { return &c.HTTP.PublicURL }},
	{"CHATPAY_DATABASE_URL", "database_url", func(c *Config) *string { return &c.DatabaseURL }},
	{"CHATPAY_REDIS_URL", "redis_url", func(c *Config) *string { return &c.RedisURL }},
}

// Load reads the configuration: the embedded default, overlaid by the YAML file at
// path (or, when path is empty, at $CHATPAY_CONFIG; with neither, no file), overlaid
// by CHATPAY_HTTP_ADDR, CHATPAY_PUBLIC_URL, CHATPAY_DATABASE_URL and
// CHATPAY_REDIS_URL. env looks up environment variables (nil: os.LookupEnv); it also
// feeds ${VAR} references in the file. The result is validated.
func Load(path string, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	if path == "" {
		path, _ = env("CHATPAY_CONFIG")
	}
	var data []byte
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, &Error{Message: err.Error()}
		}
	}
	return Parse(data, env)
}

// Parse is Load with the file's contents given: the embedded default, overlaid by
// data (which may be empty), overlaid by the environment variables. env, when given,
// replaces os.LookupEnv.
func Parse(data []byte, env ...func(string) (string, bool)) (*Config, error) {
	lookup := os.LookupEnv
	if len(env) > 0 && env[0] != nil {
		lookup = env[0]
	}
	c := &Config{}
	if err := decodeFile(defaultYAML, c, lookup); err != nil {
		return nil, fmt.Errorf("embedded default: %w", err)
	}
	c.defaultShops = true
	if err := decodeFile(data, c, lookup); err != nil {
		return nil, err
	}
	for _, o := range envOverrides {
		if v, ok := lookup(o.name); ok {
			*o.field(c) = v
			if c.envKeys == nil {
				c.envKeys = make(map[string]string)
			}
			c.envKeys[o.key] = o.name
		}
	}
	c.normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// UsesDefaultShops reports whether the shops are the embedded demo shop, because no
// file defined `shops:`. Only then may a shop lack API keys and a sandbox webhook
// secret: chatpay generates random ones on first start, stores them and logs the key,
// so the demo works out of the box while a real shop can never run unauthenticated.
func (c *Config) UsesDefaultShops() bool { return c.defaultShops }

// SecretKeyBytes returns the decoded secret key, or nil when none is configured. The
// config must be valid.
func (c *Config) SecretKeyBytes() []byte {
	b, _ := decodeSecret(c.SecretKey)
	return b
}

// normalize fills defaults that depend on what is present and tidies values whose
// spelling does not matter.
func (c *Config) normalize() {
	c.HTTP.PublicURL = strings.TrimRight(c.HTTP.PublicURL, "/")
	for i := range c.Shops {
		s := &c.Shops[i]
		s.Currency = strings.ToUpper(s.Currency)
		s.Locale = strings.ToLower(s.Locale)
		if s.SendPaidConfirmation == nil {
			yes := true
			s.SendPaidConfirmation = &yes
		}
		if t := s.Telegram; t != nil {
			if t.APIURL == "" {
				t.APIURL = "https://api.telegram.org"
			}
			t.APIURL = strings.TrimRight(t.APIURL, "/")
			if t.Mode == "" {
				t.Mode = "polling"
			}
		}
		if w := s.WebChat; w != nil {
			for j, o := range w.AllowedOrigins {
				w.AllowedOrigins[j] = strings.TrimRight(strings.ToLower(strings.TrimSpace(o)), "/")
			}
		}
		if m := s.Messenger; m != nil {
			if m.APIURL == "" {
				m.APIURL = "https://graph.facebook.com"
			}
			m.APIURL = strings.TrimRight(m.APIURL, "/")
			if m.APIVersion == "" {
				m.APIVersion = "v21.0"
			}
		}
	}
}

// currencies are the ISO 4217 codes a shop may use. The list mirrors the domain's
// (orders/money.go); a test keeps the two in step.
var currencies = []string{"EUR", "GBP", "IDR", "IRR", "JPY", "KRW", "MYR", "PHP", "SGD", "THB", "USD", "VND"}

var (
	locales       = []string{"en", "vi", "th", "fa"}
	logLevels     = []string{"debug", "info", "warn", "error"}
	logFormats    = []string{"auto", "json", "text"}
	telegramModes = []string{"polling", "webhook"}

	shopIDPattern       = regexp.MustCompile(`^[a-z0-9-]+$`)
	tgSecretPattern     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	graphIDPattern      = regexp.MustCompile(`^[0-9]{1,32}$`)
	graphVersionPattern = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)
	minAPIKeyLen        = 24
	maxShopIDLen        = 64
	secretKeyLen        = 32
	secretKeyEncodings  = []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}
)

// originPattern is a web origin as a Content-Security-Policy source may name one:
// scheme, host (its first label may be the * wildcard) and an optional port, lower
// case, nothing else, so it can go into a header as it is.
var originPattern = regexp.MustCompile(`^https?://(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$`)

// Validate checks every value and returns the first problem, naming its key.
func (c *Config) Validate() error {
	if err := c.validate(); err != nil {
		if name, ok := c.envKeys[err.Key]; ok {
			err.Key += " (from " + name + ")"
		}
		return err
	}
	return nil
}

func (c *Config) validate() *Error {
	if err := checkAddr(c.HTTP.Addr); err != "" {
		return errorf("http.addr", "%s", err)
	}
	if err := checkBaseURL(c.HTTP.PublicURL); err != "" {
		return errorf("http.public_url", "%s", err)
	}
	if c.HTTP.ShutdownTimeout <= 0 {
		return errorf("http.shutdown_timeout", "must be a positive duration such as \"15s\"")
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != "" {
		return errorf("database_url", "%s", err)
	}
	if err := checkRedisURL(c.RedisURL); err != "" {
		return errorf("redis_url", "%s", err)
	}
	if c.SecretKey != "" {
		if _, err := decodeSecret(c.SecretKey); err != nil {
			return errorf("secret_key", "must be the base64 encoding of %d random bytes (for example from `openssl rand -base64 32`), or empty to generate one", secretKeyLen)
		}
	}
	if !slices.Contains(logLevels, c.Log.Level) {
		return errorf("log.level", "must be one of %s, got %q", strings.Join(logLevels, ", "), c.Log.Level)
	}
	if !slices.Contains(logFormats, c.Log.Format) {
		return errorf("log.format", "must be one of %s, got %q", strings.Join(logFormats, ", "), c.Log.Format)
	}
	if c.Jobs.ReconcileAfter <= 0 {
		return errorf("jobs.reconcile_after", "must be a positive duration such as \"2m\"")
	}
	if c.Jobs.ReconcileEvery <= 0 {
		return errorf("jobs.reconcile_every", "must be a positive duration such as \"1m\"")
	}
	if len(c.Shops) == 0 {
		return errorf("shops", "at least one shop is required")
	}
	ids := make(map[string]bool)
	keyOwner := make(map[string]string)  // api key -> shop id
	pageOwner := make(map[string]string) // facebook page id -> shop id
	botOwner := make(map[string]string)  // telegram bot id -> shop id
	for i := range c.Shops {
		if err := c.validateShop(i, ids, keyOwner); err != nil {
			return err
		}
		// A page's events reach one shop's webhook; two shops on one page would
		// each see the other's customers.
		if m := c.Shops[i].Messenger; m != nil {
			if owner, ok := pageOwner[m.PageID]; ok {
				return errorf(fmt.Sprintf("shops[%d].messenger.page_id", i), "page %s is already shop %q's; a page belongs to one shop", m.PageID, owner)
			}
			pageOwner[m.PageID] = c.Shops[i].ID
		}
		// Likewise a bot's updates reach one consumer (its one webhook, or one
		// poller), so two shops on one bot would take each other's customers. The
		// bot is its id, the token's part before the colon; errors never echo a token.
		if t := c.Shops[i].Telegram; t != nil {
			bot, _, _ := strings.Cut(t.Token, ":")
			if owner, ok := botOwner[bot]; ok {
				return errorf(fmt.Sprintf("shops[%d].telegram.token", i), "the bot is already shop %q's; a bot belongs to one shop", owner)
			}
			botOwner[bot] = c.Shops[i].ID
		}
	}
	return nil
}

func (c *Config) validateShop(i int, ids map[string]bool, keyOwner map[string]string) *Error {
	s := &c.Shops[i]
	p := fmt.Sprintf("shops[%d]", i)
	switch {
	case s.ID == "":
		return errorf(p+".id", "required")
	case len(s.ID) > maxShopIDLen || !shopIDPattern.MatchString(s.ID):
		return errorf(p+".id", "must be at most %d of a-z, 0-9 and -, got %q", maxShopIDLen, s.ID)
	case ids[s.ID]:
		return errorf(p+".id", "duplicate shop id %q", s.ID)
	}
	ids[s.ID] = true
	if strings.TrimSpace(s.Name) == "" {
		return errorf(p+".name", "required")
	}
	if !slices.Contains(currencies, s.Currency) {
		return errorf(p+".currency", "unknown currency %q", s.Currency)
	}
	if !slices.Contains(locales, s.Locale) {
		return errorf(p+".locale", "must be one of %s, got %q", strings.Join(locales, ", "), s.Locale)
	}
	if s.DisplayToman && s.Currency != "IRR" {
		return errorf(p+".display_toman", "only applies to shops whose currency is IRR")
	}
	if len(s.APIKeys) == 0 && !c.defaultShops {
		return errorf(p+".api_keys", "at least one API key is required")
	}
	for j, k := range s.APIKeys {
		kp := fmt.Sprintf("%s.api_keys[%d]", p, j)
		switch {
		case k == "":
			return errorf(kp, "must not be empty")
		case len(k) < minAPIKeyLen:
			return errorf(kp, "must be at least %d characters (for example from `openssl rand -hex 24`)", minAPIKeyLen)
		case strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r > '~' }):
			return errorf(kp, "must be printable ASCII without spaces")
		}
		// The key itself is a secret: errors name the shop that already has it.
		if owner, ok := keyOwner[k]; ok {
			return errorf(kp, "the same key is already used by shop %q; every API key must be unique", owner)
		}
		keyOwner[k] = s.ID
	}
	if sb := s.Gateways.Sandbox; sb != nil && sb.WebhookSecret == "" && !c.defaultShops {
		return errorf(p+".gateways.sandbox.webhook_secret", "required")
	}
	if st := s.Gateways.Stripe; st != nil {
		sp := p + ".gateways.stripe"
		if strings.TrimSpace(st.SecretKey) == "" {
			return errorf(sp+".secret_key", "required")
		}
		if err := checkSecrets(st.WebhookSecrets); err != "" {
			return errorf(sp+".webhook_secrets", "%s", err)
		}
		if st.APIURL != "" {
			if err := checkBaseURL(st.APIURL); err != "" {
				return errorf(sp+".api_url", "%s", err)
			}
		}
		if ttl := st.SessionTTL.Std(); ttl != 0 && (ttl < 30*time.Minute || ttl > 24*time.Hour) {
			return errorf(sp+".session_ttl", "must be between 30m and 24h, got %s", ttl)
		}
	}
	if om := s.Gateways.Omise; om != nil {
		op := p + ".gateways.omise"
		if strings.TrimSpace(om.SecretKey) == "" {
			return errorf(op+".secret_key", "required")
		}
		if err := checkSecrets(om.WebhookSecrets); err != "" {
			return errorf(op+".webhook_secrets", "%s", err)
		}
		if om.APIURL != "" {
			if err := checkBaseURL(om.APIURL); err != "" {
				return errorf(op+".api_url", "%s", err)
			}
		}
	}
	if t := s.Telegram; t != nil {
		tp := p + ".telegram"
		if t.Token == "" {
			return errorf(tp+".token", "required")
		}
		if err := checkBaseURL(t.APIURL); err != "" {
			return errorf(tp+".api_url", "%s", err)
		}
		if !slices.Contains(telegramModes, t.Mode) {
			return errorf(tp+".mode", "must be polling or webhook, got %q", t.Mode)
		}
		if t.Mode == "webhook" && t.WebhookSecret == "" {
			return errorf(tp+".webhook_secret", "required in webhook mode")
		}
		if t.WebhookSecret != "" && !tgSecretPattern.MatchString(t.WebhookSecret) {
			return errorf(tp+".webhook_secret", "must be 1 to 256 of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
		}
		for j, g := range t.SalesGroups {
			if g >= 0 {
				return errorf(fmt.Sprintf("%s.sales_groups[%d]", tp, j), "must be a group's chat id, which is negative, got %d", g)
			}
		}
	}
	if w := s.WebChat; w != nil {
		for j, o := range w.AllowedOrigins {
			if !originPattern.MatchString(o) {
				return errorf(fmt.Sprintf("%s.webchat.allowed_origins[%d]", p, j),
					"must be an origin such as https://shop.example or https://*.shop.example (scheme, host and optional port, no path), got %q", o)
			}
		}
	}
	if m := s.Messenger; m != nil {
		mp := p + ".messenger"
		for _, f := range []struct{ key, value string }{
			{"page_id", m.PageID}, {"page_access_token", m.PageAccessToken}, {"app_secret", m.AppSecret},
			{"verify_token", m.VerifyToken}, {"app_id", m.AppID},
		} {
			if strings.TrimSpace(f.value) == "" {
				return errorf(mp+"."+f.key, "required")
			}
		}
		if !graphIDPattern.MatchString(m.PageID) {
			return errorf(mp+".page_id", "must be the page's numeric id, got %q", m.PageID)
		}
		if !graphIDPattern.MatchString(m.AppID) {
			return errorf(mp+".app_id", "must be the app's numeric id, got %q", m.AppID)
		}
		if err := checkBaseURL(m.APIURL); err != "" {
			return errorf(mp+".api_url", "%s", err)
		}
		if !graphVersionPattern.MatchString(m.APIVersion) {
			return errorf(mp+".api_version", "must look like v21.0, got %q", m.APIVersion)
		}
		if t := m.PaidTemplate; t != nil && (t.Name == "" || t.Language == "") {
			return errorf(mp+".paid_template", "needs both name and language")
		}
	}
	return nil
}

// checkSecrets returns what is wrong with a gateway's webhook secrets, or "".
func checkSecrets(secrets []string) string {
	if len(secrets) == 0 {
		return "at least one webhook secret is required"
	}
	for i, s := range secrets {
		if strings.TrimSpace(s) == "" {
			return fmt.Sprintf("secret %d is empty", i)
		}
	}
	return ""
}

// checkAddr returns what is wrong with a listen address, or "".
func checkAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("must be host:port, got %q", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		return fmt.Sprintf("must be host:port with a numeric port, got %q", addr)
	}
	return ""
}

// checkBaseURL returns what is wrong with a base URL that paths are appended to, or
// "". A path prefix is allowed (a reverse proxy may strip it); a query, fragment or
// user info is not, since appending a path would produce a broken link.
func checkBaseURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return "required"
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Sprintf("must be an absolute http:// or https:// URL, got %q", s)
	case u.User != nil:
		return "must not contain a user name or password"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Sprintf("must not have a query or fragment, got %q", s)
	}
	return ""
}

func checkDatabaseURL(s string) string {
	const want = "must be sqlite:PATH or postgres://USER@HOST/DB"
	switch {
	case s == "":
		return "required (" + want + ")"
	case strings.HasPrefix(s, "sqlite:"):
		if strings.TrimPrefix(s, "sqlite:") == "" {
			return "sqlite: needs a file path, such as sqlite:chatpay.db"
		}
		return ""
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return "is not a valid postgres:// URL"
		}
		return ""
	}
	return want
}

func checkRedisURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return "must be empty (in-process) or a redis:// or rediss:// URL"
	}
	return ""
}

func decodeSecret(s string) ([]byte, error) {
	for _, enc := range secretKeyEncodings {
		if b, err := enc.DecodeString(s); err == nil && len(b) == secretKeyLen {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64 of %d bytes", secretKeyLen)
}
