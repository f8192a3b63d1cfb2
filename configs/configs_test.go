package configs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/configs"
)

// env returns a lookup function over a fixed set of variables, so tests never depend
// on the process environment.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

var noEnv = env(nil)

const (
	key1 = "key-shop1-0123456789abcdefghij"
	key2 = "key-shop2-0123456789abcdefghij"
)

// validFile is a complete file with two shops, the baseline the rule tests change.
const validFile = `
http:
  addr: "0.0.0.0:9090"
  public_url: "https://pay.example.com/"
database_url: "postgres://postgres@127.0.0.1:5432/chatpay?sslmode=disable"
redis_url: "redis://127.0.0.1:6379/0"
shops:
  - id: shop1
    name: "Shop One"
    currency: VND
    locale: vi
    api_keys: ["` + key1 + `"]
    gateways:
      sandbox:
        webhook_secret: "whsec_one"
    telegram:
      token: "123:abc"
      mode: webhook
      webhook_secret: "tg-secret_1"
      operator_chat_id: -1001234567890
  - id: shop-2
    name: "Shop Two"
    currency: irr
    locale: FA
    display_toman: true
    send_paid_confirmation: false
    api_keys: ["` + key2 + `"]
`

type fixture struct {
	dir string
}

func setup(t *testing.T) fixture {
	t.Helper()
	return fixture{dir: t.TempDir()}
}

// write stores a config file and returns its path.
func (f fixture) write(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	require.NoError(t, os.WriteFile(p, []byte(data), 0o600))
	return p
}

func parseValid(t *testing.T) *configs.Config {
	t.Helper()
	c, err := configs.Parse([]byte(validFile), noEnv)
	require.NoError(t, err)
	return c
}

func TestDefault(t *testing.T) {
	t.Parallel()
	c, err := configs.Parse(nil, noEnv)
	require.NoError(t, err)

	require.Equal(t, "127.0.0.1:8080", c.HTTP.Addr)
	require.Equal(t, "http://127.0.0.1:8080", c.HTTP.PublicURL)
	require.Equal(t, 15*time.Second, c.HTTP.ShutdownTimeout.Std())
	require.Equal(t, "sqlite:chatpay.db", c.DatabaseURL)
	require.Empty(t, c.RedisURL)
	require.Empty(t, c.SecretKey)
	require.Nil(t, c.SecretKeyBytes())
	require.Equal(t, configs.Log{Level: "info", Format: "auto"}, c.Log)
	require.Equal(t, 2*time.Minute, time.Duration(c.Jobs.ReconcileAfter))
	require.Equal(t, time.Minute, time.Duration(c.Jobs.ReconcileEvery))

	require.True(t, c.UsesDefaultShops())
	require.Len(t, c.Shops, 1)
	s := c.Shops[0]
	require.Equal(t, "demo", s.ID)
	require.Equal(t, "Demo Shop", s.Name)
	require.Equal(t, "VND", s.Currency)
	require.Equal(t, "en", s.Locale)
	require.False(t, s.DisplayToman)
	require.Empty(t, s.APIKeys, "the app generates the demo key")
	require.NotNil(t, s.SendPaidConfirmation)
	require.True(t, s.PaidConfirmation())
	require.NotNil(t, s.Gateways.Sandbox)
	require.Empty(t, s.Gateways.Sandbox.WebhookSecret, "the app generates the demo secret")
	require.Equal(t, []string{"sandbox"}, s.Gateways.Enabled())
	require.Nil(t, s.Telegram)

	// An empty or comment-only file is the default too.
	for _, data := range []string{"", "# nothing\n", "---\n"} {
		c2, err := configs.Parse([]byte(data), noEnv)
		require.NoError(t, err, "%q", data)
		require.Equal(t, c, c2)
	}
	require.Contains(t, string(configs.Default()), "database_url:")
}

func TestParseFile(t *testing.T) {
	t.Parallel()
	c := parseValid(t)
	require.False(t, c.UsesDefaultShops())
	require.Equal(t, "0.0.0.0:9090", c.HTTP.Addr)
	require.Equal(t, "https://pay.example.com", c.HTTP.PublicURL, "the trailing slash is dropped")
	require.Equal(t, 15*time.Second, c.HTTP.ShutdownTimeout.Std(), "unset keys keep the default")
	require.Equal(t, "redis://127.0.0.1:6379/0", c.RedisURL)
	require.Equal(t, configs.Log{Level: "info", Format: "auto"}, c.Log)
	require.Len(t, c.Shops, 2)

	s1 := c.Shops[0]
	require.Equal(t, []string{key1}, s1.APIKeys)
	require.True(t, s1.PaidConfirmation(), "send_paid_confirmation defaults to true")
	require.Equal(t, &configs.Sandbox{WebhookSecret: "whsec_one"}, s1.Gateways.Sandbox)
	require.Equal(t, &configs.Telegram{
		Token:          "123:abc",
		APIURL:         "https://api.telegram.org",
		Mode:           "webhook",
		WebhookSecret:  "tg-secret_1",
		OperatorChatID: -1001234567890,
	}, s1.Telegram)

	s2 := c.Shops[1]
	require.Equal(t, "shop-2", s2.ID)
	require.Equal(t, "IRR", s2.Currency, "currency codes are upper-cased")
	require.Equal(t, "fa", s2.Locale, "locales are lower-cased")
	require.True(t, s2.DisplayToman)
	require.False(t, s2.PaidConfirmation())
	require.Nil(t, s2.Gateways.Sandbox)
	require.Empty(t, s2.Gateways.Enabled())
	require.Nil(t, s2.Telegram)
}

func TestWebChatAllowedOrigins(t *testing.T) {
	t.Parallel()
	file := strings.Replace(validFile, "  - id: shop-2\n", `    webchat:
      allowed_origins: ["https://Shop.Example/", " https://*.shop.example ", "http://localhost:3000"]
  - id: shop-2
`, 1)
	c, err := configs.Parse([]byte(file), noEnv)
	require.NoError(t, err)
	require.Equal(t, &configs.WebChat{AllowedOrigins: []string{"https://shop.example", "https://*.shop.example", "http://localhost:3000"}},
		c.Shops[0].WebChat, "origins are compared as browsers send them: lower case, no trailing slash")
	require.Nil(t, c.Shops[1].WebChat, "the block is optional")
}

func TestOverlay(t *testing.T) {
	t.Parallel()

	t.Run("file keys overlay the default one by one", func(t *testing.T) {
		t.Parallel()
		c, err := configs.Parse([]byte("http:\n  addr: \":9000\"\nlog:\n  format: json\n"), noEnv)
		require.NoError(t, err)
		require.Equal(t, ":9000", c.HTTP.Addr)
		require.Equal(t, "http://127.0.0.1:8080", c.HTTP.PublicURL)
		require.Equal(t, configs.Log{Level: "info", Format: "json"}, c.Log)
		require.True(t, c.UsesDefaultShops(), "no shops: key keeps the demo shop")
		require.Equal(t, "demo", c.Shops[0].ID)
	})

	t.Run("a file's shops replace the default shops", func(t *testing.T) {
		t.Parallel()
		c := parseValid(t)
		for _, s := range c.Shops {
			require.NotEqual(t, "demo", s.ID)
		}
	})

	t.Run("a section with nothing under it keeps the default", func(t *testing.T) {
		t.Parallel()
		c, err := configs.Parse([]byte("http:\njobs:\n"), noEnv)
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:8080", c.HTTP.Addr)
		require.Equal(t, 2*time.Minute, c.Jobs.ReconcileAfter.Std())
	})

	t.Run("environment variables win over the file", func(t *testing.T) {
		t.Parallel()
		c, err := configs.Parse([]byte(validFile), env(map[string]string{
			"CHATPAY_HTTP_ADDR":    "127.0.0.1:7000",
			"CHATPAY_PUBLIC_URL":   "https://shop.example.org/",
			"CHATPAY_DATABASE_URL": "sqlite:/var/lib/chatpay/db.sqlite",
			"CHATPAY_REDIS_URL":    "",
		}))
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:7000", c.HTTP.Addr)
		require.Equal(t, "https://shop.example.org", c.HTTP.PublicURL)
		require.Equal(t, "sqlite:/var/lib/chatpay/db.sqlite", c.DatabaseURL)
		require.Empty(t, c.RedisURL, "a variable set to empty clears the value")
	})

	t.Run("environment variables win over the default", func(t *testing.T) {
		t.Parallel()
		c, err := configs.Parse(nil, env(map[string]string{"CHATPAY_REDIS_URL": "rediss://cache:6380"}))
		require.NoError(t, err)
		require.Equal(t, "rediss://cache:6380", c.RedisURL)
	})

	t.Run("an invalid value from the environment names the variable", func(t *testing.T) {
		t.Parallel()
		_, err := configs.Parse(nil, env(map[string]string{"CHATPAY_DATABASE_URL": "mysql://x"}))
		require.EqualError(t, err, "config: database_url (from CHATPAY_DATABASE_URL): must be sqlite:PATH or postgres://USER@HOST/DB")
		var ce *configs.Error
		require.True(t, errors.As(err, &ce))
		require.Equal(t, "database_url (from CHATPAY_DATABASE_URL)", ce.Key)
	})
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("explicit path", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		p := f.write(t, "chatpay.yaml", validFile)
		other := f.write(t, "other.yaml", "http:\n  addr: \":1\"\n")
		c, err := configs.Load(p, env(map[string]string{"CHATPAY_CONFIG": other}))
		require.NoError(t, err)
		require.Equal(t, "0.0.0.0:9090", c.HTTP.Addr, "the path argument wins over CHATPAY_CONFIG")
	})

	t.Run("CHATPAY_CONFIG when no path is given", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		p := f.write(t, "chatpay.yaml", "http:\n  addr: \":1234\"\n")
		c, err := configs.Load("", env(map[string]string{"CHATPAY_CONFIG": p, "CHATPAY_PUBLIC_URL": "https://x.example"}))
		require.NoError(t, err)
		require.Equal(t, ":1234", c.HTTP.Addr)
		require.Equal(t, "https://x.example", c.HTTP.PublicURL)
	})

	t.Run("no file at all", func(t *testing.T) {
		t.Parallel()
		c, err := configs.Load("", noEnv)
		require.NoError(t, err)
		require.True(t, c.UsesDefaultShops())
	})

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		_, err := configs.Load(filepath.Join(f.dir, "nope.yaml"), noEnv)
		require.ErrorContains(t, err, "config: open ")
		require.ErrorContains(t, err, "nope.yaml: no such file or directory")
	})

	t.Run("invalid file", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		p := f.write(t, "bad.yaml", "http:\n  addr: 8080\n")
		_, err := configs.Load(p, noEnv)
		require.EqualError(t, err, "config: http.addr: must be a string, got the number 8080 (put it in quotes)")
	})
}

func TestExpand(t *testing.T) {
	t.Parallel()
	file := strings.NewReplacer(
		`["`+key1+`"]`, `["${SHOP1_API_KEY}"]`,
		`"whsec_one"`, `"${SANDBOX_SECRET}"`,
		`-1001234567890`, `"${OPERATOR_CHAT}"`,
		`send_paid_confirmation: false`, `send_paid_confirmation: ${SEND_PAID}`,
		`"123:abc"`, `"bot${BOT_ID}:${BOT_KEY}"`,
	).Replace(validFile)
	vars := map[string]string{
		"SHOP1_API_KEY":  key1,
		"SANDBOX_SECRET": `s3cr3t: with "yaml" #chars, {braces} and $dollars`,
		"OPERATOR_CHAT":  "-100777",
		"SEND_PAID":      "true",
		"BOT_ID":         "42",
		"BOT_KEY":        "xyz",
	}

	t.Run("values come from the environment", func(t *testing.T) {
		t.Parallel()
		c, err := configs.Parse([]byte(file), env(vars))
		require.NoError(t, err)
		s := c.Shops[0]
		require.Equal(t, []string{key1}, s.APIKeys)
		require.Equal(t, vars["SANDBOX_SECRET"], s.Gateways.Sandbox.WebhookSecret, "a variable's contents are never parsed as YAML")
		require.Equal(t, int64(-100777), s.Telegram.OperatorChatID)
		require.Equal(t, "bot42:xyz", s.Telegram.Token)
		require.True(t, c.Shops[1].PaidConfirmation())
	})

	t.Run("an unset variable is an error naming it", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"SHOP1_API_KEY", "SANDBOX_SECRET", "OPERATOR_CHAT", "SEND_PAID", "BOT_KEY"} {
			partial := make(map[string]string)
			for k, v := range vars {
				if k != name {
					partial[k] = v
				}
			}
			_, err := configs.Parse([]byte(file), env(partial))
			require.ErrorContains(t, err, "environment variable "+name+" is not set", name)
		}
		_, err := configs.Parse([]byte(file), env(map[string]string{}))
		require.EqualError(t, err, "config: shops[0].api_keys[0]: environment variable SHOP1_API_KEY is not set")
	})

	t.Run("a variable set to empty is used", func(t *testing.T) {
		t.Parallel()
		v := map[string]string{}
		for k, val := range vars {
			v[k] = val
		}
		v["SANDBOX_SECRET"] = ""
		_, err := configs.Parse([]byte(file), env(v))
		require.EqualError(t, err, "config: shops[0].gateways.sandbox.webhook_secret: required")
	})

	t.Run("bad references", func(t *testing.T) {
		t.Parallel()
		tests := map[string]string{
			`redis_url: "${REDIS"`:       `config: redis_url: unclosed ${ in value`,
			`redis_url: "${}"`:           `config: redis_url: ${} is not a valid environment variable reference`,
			`redis_url: "${A-B}"`:        `config: redis_url: ${A-B} is not a valid environment variable reference`,
			`redis_url: "${X:-default}"`: `config: redis_url: ${X:-default} is not a valid environment variable reference`,
		}
		for data, want := range tests {
			_, err := configs.Parse([]byte(data), noEnv)
			require.EqualError(t, err, want, data)
		}
	})

	t.Run("escapes and lone dollars", func(t *testing.T) {
		t.Parallel()
		data := strings.Replace(validFile, `"whsec_one"`, `"a$b$$c$${NOT_A_VAR}$"`, 1)
		c, err := configs.Parse([]byte(data), noEnv)
		require.NoError(t, err)
		require.Equal(t, "a$b$$c${NOT_A_VAR}$", c.Shops[0].Gateways.Sandbox.WebhookSecret)
	})

	t.Run("only variables may spell numbers and booleans as text", func(t *testing.T) {
		t.Parallel()
		data := strings.Replace(validFile, "send_paid_confirmation: false", `send_paid_confirmation: "false"`, 1)
		_, err := configs.Parse([]byte(data), noEnv)
		require.EqualError(t, err, `config: shops[1].send_paid_confirmation: must be true or false, got the string "false"`)

		v := map[string]string{}
		for k, val := range vars {
			v[k] = val
		}
		v["SEND_PAID"] = "yes"
		_, err = configs.Parse([]byte(file), env(v))
		require.EqualError(t, err, `config: shops[1].send_paid_confirmation: must be true or false, got the string "${SEND_PAID}"`)

		v["SEND_PAID"], v["OPERATOR_CHAT"] = "false", "group"
		_, err = configs.Parse([]byte(file), env(v))
		require.EqualError(t, err, `config: shops[0].telegram.operator_chat_id: must be a whole number, got "group"`)
	})
}

func TestStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, want string
	}{
		{"unknown top-level key", "listen: x\n",
			"config: listen: unknown key (expected one of http, database_url, redis_url, secret_key, log, jobs, shops)"},
		{"unknown nested key", "http:\n  adr: x\n",
			"config: http.adr: unknown key (expected one of addr, public_url, shutdown_timeout, trusted_proxies)"},
		{"unknown shop key", "shops:\n  - id: a\n    colour: red\n",
			"config: shops[0].colour: unknown key (expected one of id, name, currency, locale, display_toman, api_keys, send_paid_confirmation, gateways, telegram, messenger, webchat)"},
		{"unknown webchat key", "shops:\n  - id: a\n    webchat:\n      origins: []\n",
			"config: shops[0].webchat.origins: unknown key (expected one of allowed_origins)"},
		{"string for the allowed origins", "shops:\n  - id: a\n    webchat:\n      allowed_origins: https://shop.example\n",
			`config: shops[0].webchat.allowed_origins: must be a list, got the string "https://shop.example"`},
		{"unknown gateway", "shops:\n  - id: a\n    gateways:\n      paypal: {}\n",
			"config: shops[0].gateways.paypal: unknown key (expected one of sandbox, stripe, omise)"},
		{"string for a mapping", "http: localhost\n",
			`config: http: must be a mapping of keys, got the string "localhost"`},
		{"mapping for a string", "database_url: {a: 1}\n",
			"config: database_url: must be a string, got a mapping"},
		{"number for a string", "redis_url: 6379\n",
			"config: redis_url: must be a string, got the number 6379 (put it in quotes)"},
		{"string for a bool", "shops:\n  - id: a\n    display_toman: yes\n",
			`config: shops[0].display_toman: must be true or false, got the string "yes"`},
		{"string for a number", "shops:\n  - id: a\n    telegram:\n      operator_chat_id: abc\n",
			`config: shops[0].telegram.operator_chat_id: must be a whole number, got the string "abc"`},
		{"float for a number", "shops:\n  - id: a\n    telegram:\n      operator_chat_id: 1.5\n",
			"config: shops[0].telegram.operator_chat_id: must be a whole number, got the number 1.5"},
		{"number out of range", "shops:\n  - id: a\n    telegram:\n      operator_chat_id: 18446744073709551615\n",
			"config: shops[0].telegram.operator_chat_id: number out of range"},
		{"mapping for a list", "shops:\n  id: a\n",
			"config: shops: must be a list, got a mapping"},
		{"string for a list", "shops:\n  - id: a\n    api_keys: abc\n",
			`config: shops[0].api_keys: must be a list, got the string "abc"`},
		{"number for a duration", "jobs:\n  reconcile_after: 120\n",
			`config: jobs.reconcile_after: must be a duration such as "90s" or "2m", got the number 120`},
		{"bad duration", "jobs:\n  reconcile_after: 2 minutes\n",
			`config: jobs.reconcile_after: must be a duration such as "90s" or "2m", got "2 minutes"`},
		{"list at the top", "- a\n",
			"config: the file must be a mapping of keys such as http: and shops:, not a list"},
		{"scalar at the top", "hello\n",
			`config: the file must be a mapping of keys such as http: and shops:, not the string "hello"`},
		{"number key", "http:\n  1: x\n",
			"config: http.1: unknown key (expected one of addr, public_url, shutdown_timeout, trusted_proxies)"},
		{"duplicate key", "redis_url: \"\"\nredis_url: \"\"\n",
			`config: line 2 column 1: mapping key "redis_url" already defined at [1:1]`},
		{"syntax error", "http: [\n",
			"config: line 1 column 7: sequence end token ']' not found"},
		{"two documents", "redis_url: \"\"\n---\nredis_url: \"\"\n",
			"config: the file must hold one YAML document, found 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := configs.Parse([]byte(tt.data), noEnv)
			require.Nil(t, c)
			require.EqualError(t, err, tt.want)
			require.NotContains(t, err.Error(), "\n", "errors are one line")
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(c *configs.Config)
		want   string
	}{
		{"addr without port", func(c *configs.Config) { c.HTTP.Addr = "localhost" },
			`config: http.addr: must be host:port, got "localhost"`},
		{"addr with a named port", func(c *configs.Config) { c.HTTP.Addr = "localhost:http" },
			`config: http.addr: must be host:port with a numeric port, got "localhost:http"`},
		{"addr with a huge port", func(c *configs.Config) { c.HTTP.Addr = ":70000" },
			`config: http.addr: must be host:port with a numeric port, got ":70000"`},
		{"public url missing", func(c *configs.Config) { c.HTTP.PublicURL = "" },
			"config: http.public_url: required"},
		{"public url relative", func(c *configs.Config) { c.HTTP.PublicURL = "/pay" },
			`config: http.public_url: must be an absolute http:// or https:// URL, got "/pay"`},
		{"public url ftp", func(c *configs.Config) { c.HTTP.PublicURL = "ftp://example.com" },
			`config: http.public_url: must be an absolute http:// or https:// URL, got "ftp://example.com"`},
		{"public url with query", func(c *configs.Config) { c.HTTP.PublicURL = "https://example.com/?a=1" },
			`config: http.public_url: must not have a query or fragment, got "https://example.com/?a=1"`},
		{"public url with fragment", func(c *configs.Config) { c.HTTP.PublicURL = "https://example.com#x" },
			`config: http.public_url: must not have a query or fragment, got "https://example.com#x"`},
		{"public url with user info", func(c *configs.Config) { c.HTTP.PublicURL = "https://u:p@example.com" },
			"config: http.public_url: must not contain a user name or password"},
		{"shutdown timeout zero", func(c *configs.Config) { c.HTTP.ShutdownTimeout = 0 },
			`config: http.shutdown_timeout: must be a positive duration such as "15s"`},
		{"database url missing", func(c *configs.Config) { c.DatabaseURL = "" },
			"config: database_url: required (must be sqlite:PATH or postgres://USER@HOST/DB)"},
		{"database url mysql", func(c *configs.Config) { c.DatabaseURL = "mysql://root@localhost/db" },
			"config: database_url: must be sqlite:PATH or postgres://USER@HOST/DB"},
		{"sqlite without a path", func(c *configs.Config) { c.DatabaseURL = "sqlite:" },
			"config: database_url: sqlite: needs a file path, such as sqlite:chatpay.db"},
		{"postgres url broken", func(c *configs.Config) { c.DatabaseURL = "postgres://u:p@[::1/db" },
			"config: database_url: is not a valid postgres:// URL"},
		{"redis url http", func(c *configs.Config) { c.RedisURL = "http://localhost:6379" },
			"config: redis_url: must be empty (in-process) or a redis:// or rediss:// URL"},
		{"redis url without host", func(c *configs.Config) { c.RedisURL = "redis://" },
			"config: redis_url: must be empty (in-process) or a redis:// or rediss:// URL"},
		{"secret key not base64", func(c *configs.Config) { c.SecretKey = "not base64!" },
			"config: secret_key: must be the base64 encoding of 32 random bytes (for example from `openssl rand -base64 32`), or empty to generate one"},
		{"secret key too short", func(c *configs.Config) { c.SecretKey = "c2hvcnQ=" },
			"config: secret_key: must be the base64 encoding of 32 random bytes (for example from `openssl rand -base64 32`), or empty to generate one"},
		{"log level", func(c *configs.Config) { c.Log.Level = "verbose" },
			`config: log.level: must be one of debug, info, warn, error, got "verbose"`},
		{"log format", func(c *configs.Config) { c.Log.Format = "xml" },
			`config: log.format: must be one of auto, json, text, got "xml"`},
		{"reconcile after", func(c *configs.Config) { c.Jobs.ReconcileAfter = -1 },
			`config: jobs.reconcile_after: must be a positive duration such as "2m"`},
		{"reconcile every", func(c *configs.Config) { c.Jobs.ReconcileEvery = 0 },
			`config: jobs.reconcile_every: must be a positive duration such as "1m"`},
		{"no shops", func(c *configs.Config) { c.Shops = nil },
			"config: shops: at least one shop is required"},
		{"shop id missing", func(c *configs.Config) { c.Shops[1].ID = "" },
			"config: shops[1].id: required"},
		{"shop id upper case", func(c *configs.Config) { c.Shops[1].ID = "Shop2" },
			`config: shops[1].id: must be at most 64 of a-z, 0-9 and -, got "Shop2"`},
		{"shop id with a slash", func(c *configs.Config) { c.Shops[1].ID = "a/b" },
			`config: shops[1].id: must be at most 64 of a-z, 0-9 and -, got "a/b"`},
		{"shop id too long", func(c *configs.Config) { c.Shops[1].ID = strings.Repeat("a", 65) },
			`config: shops[1].id: must be at most 64 of a-z, 0-9 and -, got "` + strings.Repeat("a", 65) + `"`},
		{"shop id duplicate", func(c *configs.Config) { c.Shops[1].ID = "shop1" },
			`config: shops[1].id: duplicate shop id "shop1"`},
		{"shop name blank", func(c *configs.Config) { c.Shops[0].Name = "  " },
			"config: shops[0].name: required"},
		{"unknown currency", func(c *configs.Config) { c.Shops[1].Currency = "VNDD" },
			`config: shops[1].currency: unknown currency "VNDD"`},
		{"unknown locale", func(c *configs.Config) { c.Shops[0].Locale = "de" },
			`config: shops[0].locale: must be one of en, vi, th, fa, got "de"`},
		{"toman for a non-IRR shop", func(c *configs.Config) { c.Shops[0].DisplayToman = true },
			"config: shops[0].display_toman: only applies to shops whose currency is IRR"},
		{"no api keys", func(c *configs.Config) { c.Shops[1].APIKeys = nil },
			"config: shops[1].api_keys: at least one API key is required"},
		{"empty api key", func(c *configs.Config) { c.Shops[1].APIKeys = []string{key2, ""} },
			"config: shops[1].api_keys[1]: must not be empty"},
		{"short api key", func(c *configs.Config) { c.Shops[1].APIKeys = []string{"short-key-12345678901234"[:23]} },
			"config: shops[1].api_keys[0]: must be at least 24 characters (for example from `openssl rand -hex 24`)"},
		{"api key with a space", func(c *configs.Config) { c.Shops[1].APIKeys = []string{key2 + " x"} },
			"config: shops[1].api_keys[0]: must be printable ASCII without spaces"},
		{"api key reused by another shop", func(c *configs.Config) { c.Shops[1].APIKeys = []string{key1} },
			`config: shops[1].api_keys[0]: the same key is already used by shop "shop1"; every API key must be unique`},
		{"api key repeated in one shop", func(c *configs.Config) { c.Shops[1].APIKeys = []string{key2, key2} },
			`config: shops[1].api_keys[1]: the same key is already used by shop "shop-2"; every API key must be unique`},
		{"sandbox without a secret", func(c *configs.Config) { c.Shops[0].Gateways.Sandbox.WebhookSecret = "" },
			"config: shops[0].gateways.sandbox.webhook_secret: required"},
		{"telegram without a token", func(c *configs.Config) { c.Shops[0].Telegram.Token = "" },
			"config: shops[0].telegram.token: required"},
		{"telegram api url", func(c *configs.Config) { c.Shops[0].Telegram.APIURL = "api.telegram.org" },
			`config: shops[0].telegram.api_url: must be an absolute http:// or https:// URL, got "api.telegram.org"`},
		{"telegram mode", func(c *configs.Config) { c.Shops[0].Telegram.Mode = "push" },
			`config: shops[0].telegram.mode: must be polling or webhook, got "push"`},
		{"telegram webhook without a secret", func(c *configs.Config) { c.Shops[0].Telegram.WebhookSecret = "" },
			"config: shops[0].telegram.webhook_secret: required in webhook mode"},
		{"telegram secret with bad characters", func(c *configs.Config) { c.Shops[0].Telegram.WebhookSecret = "a b" },
			"config: shops[0].telegram.webhook_secret: must be 1 to 256 of A-Z, a-z, 0-9, _ and - (Telegram's rule)"},
		{"telegram bot of two shops", func(c *configs.Config) {
			c.Shops[1].Telegram = &configs.Telegram{Token: "123:other-secret", APIURL: "https://api.telegram.org", Mode: "polling"}
		},
			`config: shops[1].telegram.token: the bot is already shop "shop1"'s; a bot belongs to one shop`},
		{"telegram sales group", func(c *configs.Config) { c.Shops[0].Telegram.SalesGroups = []int64{-100123, 42} },
			"config: shops[0].telegram.sales_groups[1]: must be a group's chat id, which is negative, got 42"},
		{"stripe without a secret key", func(c *configs.Config) {
			c.Shops[0].Gateways.Stripe = &configs.Stripe{WebhookSecrets: []string{"whsec_1"}}
		},
			"config: shops[0].gateways.stripe.secret_key: required"},
		{"stripe without webhook secrets", func(c *configs.Config) { c.Shops[0].Gateways.Stripe = &configs.Stripe{SecretKey: "sk_test_1"} },
			"config: shops[0].gateways.stripe.webhook_secrets: at least one webhook secret is required"},
		{"stripe session ttl", func(c *configs.Config) {
			c.Shops[0].Gateways.Stripe = &configs.Stripe{SecretKey: "sk_test_1", WebhookSecrets: []string{"whsec_1"}, SessionTTL: configs.Duration(10 * time.Minute)}
		}, "config: shops[0].gateways.stripe.session_ttl: must be between 30m and 24h, got 10m0s"},
		{"omise empty webhook secret", func(c *configs.Config) {
			c.Shops[0].Gateways.Omise = &configs.Omise{SecretKey: "skey_1", WebhookSecrets: []string{" "}}
		},
			"config: shops[0].gateways.omise.webhook_secrets: secret 0 is empty"},
		{"messenger page of two shops", func(c *configs.Config) { c.Shops[0].Messenger = messenger(); c.Shops[1].Messenger = messenger() },
			`config: shops[1].messenger.page_id: page 1234567890 is already shop "shop1"'s; a page belongs to one shop`},
		{"messenger without an app secret", func(c *configs.Config) { c.Shops[1].Messenger = messenger(); c.Shops[1].Messenger.AppSecret = "" },
			"config: shops[1].messenger.app_secret: required"},
		{"messenger without a verify token", func(c *configs.Config) { c.Shops[1].Messenger = messenger(); c.Shops[1].Messenger.VerifyToken = " " },
			"config: shops[1].messenger.verify_token: required"},
		{"messenger page id", func(c *configs.Config) { c.Shops[1].Messenger = messenger(); c.Shops[1].Messenger.PageID = "my-page" },
			`config: shops[1].messenger.page_id: must be the page's numeric id, got "my-page"`},
		{"messenger api version", func(c *configs.Config) { c.Shops[1].Messenger = messenger(); c.Shops[1].Messenger.APIVersion = "21" },
			`config: shops[1].messenger.api_version: must look like v21.0, got "21"`},
		{"messenger api url", func(c *configs.Config) {
			c.Shops[1].Messenger = messenger()
			c.Shops[1].Messenger.APIURL = "graph.facebook.com"
		},
			`config: shops[1].messenger.api_url: must be an absolute http:// or https:// URL, got "graph.facebook.com"`},
		{"messenger template without a language", func(c *configs.Config) {
			c.Shops[1].Messenger = messenger()
			c.Shops[1].Messenger.PaidTemplate = &configs.MessengerTemplate{Name: "order_paid"}
		}, "config: shops[1].messenger.paid_template: needs both name and language"},
		{"webchat origin with a path", func(c *configs.Config) {
			c.Shops[1].WebChat = &configs.WebChat{AllowedOrigins: []string{"https://shop.example", "https://shop.example/chat"}}
		}, `config: shops[1].webchat.allowed_origins[1]: must be an origin such as https://shop.example or https://*.shop.example (scheme, host and optional port, no path), got "https://shop.example/chat"`},
		{"webchat origin without a scheme", func(c *configs.Config) {
			c.Shops[0].WebChat = &configs.WebChat{AllowedOrigins: []string{"shop.example"}}
		},
			`config: shops[0].webchat.allowed_origins[0]: must be an origin such as https://shop.example or https://*.shop.example (scheme, host and optional port, no path), got "shop.example"`},
		{"webchat origin that widens the policy", func(c *configs.Config) {
			c.Shops[0].WebChat = &configs.WebChat{AllowedOrigins: []string{"https://shop.example *"}}
		}, `config: shops[0].webchat.allowed_origins[0]: must be an origin such as https://shop.example or https://*.shop.example (scheme, host and optional port, no path), got "https://shop.example *"`},
		{"webchat origin that is a keyword", func(c *configs.Config) { c.Shops[0].WebChat = &configs.WebChat{AllowedOrigins: []string{"'self'"}} },
			`config: shops[0].webchat.allowed_origins[0]: must be an origin such as https://shop.example or https://*.shop.example (scheme, host and optional port, no path), got "'self'"`},
		{"webchat origin that is any site", func(c *configs.Config) { c.Shops[0].WebChat = &configs.WebChat{AllowedOrigins: []string{"https://*"}} },
			`config: shops[0].webchat.allowed_origins[0]: must be an origin such as https://shop.example or https://*.shop.example (scheme, host and optional port, no path), got "https://*"`},
		{"webchat origin with a query", func(c *configs.Config) {
			c.Shops[0].WebChat = &configs.WebChat{AllowedOrigins: []string{"https://shop.example?x=1"}}
		}, `config: shops[0].webchat.allowed_origins[0]: must be an origin such as https://shop.example or https://*.shop.example (scheme, host and optional port, no path), got "https://shop.example?x=1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := parseValid(t)
			require.NoError(t, c.Validate())
			tt.change(c)
			err := c.Validate()
			require.EqualError(t, err, tt.want)
			// Secrets never appear in errors.
			require.NotContains(t, err.Error(), key1)
			require.NotContains(t, err.Error(), key2)
		})
	}

	t.Run("valid variations", func(t *testing.T) {
		t.Parallel()
		for name, change := range map[string]func(c *configs.Config){
			"any interface":          func(c *configs.Config) { c.HTTP.Addr = ":8080" },
			"ipv6":                   func(c *configs.Config) { c.HTTP.Addr = "[::1]:0" },
			"public url with prefix": func(c *configs.Config) { c.HTTP.PublicURL = "https://example.com/chatpay" },
			"postgresql scheme":      func(c *configs.Config) { c.DatabaseURL = "postgresql://u@db/chatpay" },
			"sqlite absolute path":   func(c *configs.Config) { c.DatabaseURL = "sqlite:/data/chatpay.db" },
			"no redis":               func(c *configs.Config) { c.RedisURL = "" },
			"rediss":                 func(c *configs.Config) { c.RedisURL = "rediss://:pw@cache:6380/1" },
			"secret key std":         func(c *configs.Config) { c.SecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" },
			"secret key url raw":     func(c *configs.Config) { c.SecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY" },
			"polling without secret": func(c *configs.Config) { c.Shops[0].Telegram.Mode, c.Shops[0].Telegram.WebhookSecret = "polling", "" },
			"no gateways":            func(c *configs.Config) { c.Shops[0].Gateways.Sandbox = nil },
			"webchat origins": func(c *configs.Config) {
				c.Shops[0].WebChat = &configs.WebChat{AllowedOrigins: []string{"https://shop.example", "http://localhost:3000", "https://*.shop.example", "https://xn--bcher-kva.example:8443"}}
			},
			"webchat without origins": func(c *configs.Config) { c.Shops[0].WebChat = &configs.WebChat{} },
		} {
			c := parseValid(t)
			change(c)
			require.NoError(t, c.Validate(), name)
		}
	})

	t.Run("secret key bytes", func(t *testing.T) {
		t.Parallel()
		c := parseValid(t)
		c.SecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		require.NoError(t, c.Validate())
		require.Equal(t, []byte("0123456789abcdef0123456789abcdef"), c.SecretKeyBytes())
	})
}

// The demo shop may run without an API key or webhook secret because the app creates
// them; a shop from a file may not, even when it copies the demo shop.
func TestDefaultShopSecrets(t *testing.T) {
	t.Parallel()
	c, err := configs.Parse(nil, noEnv)
	require.NoError(t, err)
	require.NoError(t, c.Validate())

	demo := "shops:\n  - id: demo\n    name: Demo Shop\n    currency: VND\n    locale: en\n    gateways:\n      sandbox: {}\n"
	_, err = configs.Parse([]byte(demo), noEnv)
	require.EqualError(t, err, "config: shops[0].api_keys: at least one API key is required")

	withKey := strings.Replace(demo, "locale: en\n", "locale: en\n    api_keys: [\""+key1+"\"]\n", 1)
	_, err = configs.Parse([]byte(withKey), noEnv)
	require.EqualError(t, err, "config: shops[0].gateways.sandbox.webhook_secret: required")

	// Once the app fills in generated secrets, the demo config still validates, and
	// generated keys are held to the same rules.
	c.Shops[0].APIKeys = []string{key1}
	c.Shops[0].Gateways.Sandbox.WebhookSecret = "generated"
	require.NoError(t, c.Validate())
	c.Shops[0].APIKeys = []string{"short"}
	require.EqualError(t, c.Validate(), "config: shops[0].api_keys[0]: must be at least 24 characters (for example from `openssl rand -hex 24`)")
}

func TestOptionalSections(t *testing.T) {
	t.Parallel()
	base := "shops:\n  - id: a\n    name: A\n    currency: USD\n    locale: en\n    api_keys: [\"" + key1 + "\"]\n"

	c, err := configs.Parse([]byte(base+"    gateways:\n      sandbox:\n        webhook_secret: s\n    telegram:\n      token: t\n"), noEnv)
	require.NoError(t, err)
	require.Equal(t, "polling", c.Shops[0].Telegram.Mode, "mode defaults to polling")
	require.Equal(t, "https://api.telegram.org", c.Shops[0].Telegram.APIURL)

	// A present but empty section is enabled (and then must be complete).
	_, err = configs.Parse([]byte(base+"    gateways:\n      sandbox:\n"), noEnv)
	require.EqualError(t, err, "config: shops[0].gateways.sandbox.webhook_secret: required")
	_, err = configs.Parse([]byte(base+"    telegram: {}\n"), noEnv)
	require.EqualError(t, err, "config: shops[0].telegram.token: required")

	// A null send_paid_confirmation means the default.
	c, err = configs.Parse([]byte(base+"    send_paid_confirmation: ~\n"), noEnv)
	require.NoError(t, err)
	require.True(t, c.Shops[0].PaidConfirmation())

	// Anchors and merge keys work as YAML says.
	anchors := "shops:\n" +
		"  - &base\n    id: a\n    name: A\n    currency: USD\n    locale: en\n    api_keys: [\"" + key1 + "\"]\n" +
		"  - <<: *base\n    id: b\n    api_keys: [\"" + key2 + "\"]\n"
	c, err = configs.Parse([]byte(anchors), noEnv)
	require.NoError(t, err)
	require.Equal(t, "b", c.Shops[1].ID)
	require.Equal(t, "USD", c.Shops[1].Currency)
}

func TestDuration(t *testing.T) {
	t.Parallel()
	var d configs.Duration
	require.NoError(t, d.UnmarshalText([]byte("90s")))
	require.Equal(t, 90*time.Second, d.Std())
	b, err := d.MarshalText()
	require.NoError(t, err)
	require.Equal(t, "1m30s", string(b))
	require.EqualError(t, d.UnmarshalText([]byte("soon")), `must be a duration such as "90s" or "2m", got "soon"`)

	c, err := configs.Parse([]byte("jobs:\n  reconcile_after: 90s\n  reconcile_every: 2m\n"), noEnv)
	require.NoError(t, err)
	require.Equal(t, 90*time.Second, c.Jobs.ReconcileAfter.Std())
	require.Equal(t, 2*time.Minute, c.Jobs.ReconcileEvery.Std())
}

func FuzzParse(f *testing.F) {
	f.Add(configs.Default())
	f.Add([]byte(validFile))
	f.Add([]byte("http:\n  addr: ${ADDR}\nshops:\n  - id: ${ID}\n    api_keys: [\"$${x}\"]\n"))
	f.Add([]byte("shops:\n  - &a {id: a}\n  - *a\n"))
	f.Add([]byte("http: [\n"))
	f.Add([]byte("- 1\n"))
	f.Add([]byte("a: 1\n---\nb: 2\n"))
	f.Add([]byte("jobs: {reconcile_after: 1h, reconcile_every: -1s}\n"))
	f.Add([]byte("shops:\n  - telegram:\n      operator_chat_id: 99999999999999999999\n"))
	lookup := env(map[string]string{"ADDR": "127.0.0.1:1", "ID": "x"})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := configs.Parse(data, lookup)
		if err != nil {
			require.Nil(t, c)
			msg := err.Error()
			require.True(t, strings.HasPrefix(msg, "config: "), "%q", msg)
			require.NotContains(t, msg, "\n")
			return
		}
		// Whatever parses is valid, and stays valid.
		require.NoError(t, c.Validate())
		require.NotEmpty(t, c.Shops)
		for _, s := range c.Shops {
			require.NotNil(t, s.SendPaidConfirmation)
		}
	})
}

// messenger is a valid, normalised messenger block.
func messenger() *configs.Messenger {
	return &configs.Messenger{PageID: "1234567890", PageAccessToken: "EAAB-token", AppSecret: "app-secret",
		VerifyToken: "verify-me", AppID: "987654321", APIURL: "https://graph.facebook.com", APIVersion: "v21.0"}
}

func TestMessengerBlock(t *testing.T) {
	t.Parallel()
	yaml := `
shops:
  - id: shop1
    name: Shop
    currency: VND
    locale: vi
    api_keys: ["` + key1 + `"]
    messenger:
      page_id: "1234567890"
      page_access_token: "${PAGE_TOKEN}"
      app_secret: s3cret
      verify_token: v3rify
      app_id: "987654321"
      paid_template: {name: order_paid, language: vi}
`
	env := map[string]string{"PAGE_TOKEN": "EAAB-from-env"}
	c, err := configs.Parse([]byte(yaml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	require.NoError(t, c.Validate())
	m := c.Shops[0].Messenger
	require.Equal(t, "EAAB-from-env", m.PageAccessToken)
	require.Equal(t, "https://graph.facebook.com", m.APIURL, "the default")
	require.Equal(t, "v21.0", m.APIVersion, "the default")
	require.Equal(t, &configs.MessengerTemplate{Name: "order_paid", Language: "vi"}, m.PaidTemplate)
}
