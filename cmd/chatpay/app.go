package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/chatpay/chatpay/auth"
	authredis "github.com/chatpay/chatpay/auth/redis"
	"github.com/chatpay/chatpay/bot"
	dialogmemory "github.com/chatpay/chatpay/bot/dialog/memory"
	dialogredis "github.com/chatpay/chatpay/bot/dialog/redis"
	"github.com/chatpay/chatpay/bot/messenger"
	"github.com/chatpay/chatpay/bot/ratelimit/memory"
	ratelimitredis "github.com/chatpay/chatpay/bot/ratelimit/redis"
	"github.com/chatpay/chatpay/bot/telegram"
	"github.com/chatpay/chatpay/bot/webchat"
	"github.com/chatpay/chatpay/configs"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/gateway/stripe"
	"github.com/chatpay/chatpay/jobs"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
	"github.com/chatpay/chatpay/web"
	"github.com/chatpay/chatpay/web/live"
	"github.com/chatpay/chatpay/webhooks"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// Version returns the build's version: the linker-set one, else the module's.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

// Run parses the command line and runs the command it names until ctx is done.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) (string, bool)) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("chatpay "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML config file overlaid on the embedded default (or CHATPAY_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (commands: serve, migrate, version)", fs.Arg(0))
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "chatpay", Version())
		return nil
	case "serve", "migrate":
	default:
		return fmt.Errorf("unknown command %q (commands: serve, migrate, version)", cmd)
	}
	cfg, err := configs.Load(*configPath, env)
	if err != nil {
		return err
	}
	m := NewMain(cfg)
	m.Stdout = stdout
	m.Logger = newLogger(cfg, stderr)
	if cmd == "migrate" {
		return m.Migrate(ctx)
	}
	if err := m.Open(ctx); err != nil {
		_ = m.Close(context.Background())
		return err
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), m.Config.HTTP.ShutdownTimeout.Std())
	defer cancel()
	return m.Close(shutdownCtx)
}

// newLogger logs text on a terminal and JSON otherwise, unless configured.
func newLogger(cfg *configs.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.Log.Format
	if format == "" || format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Store is what Main needs from either store beyond orders.Store.
type Store interface {
	orders.Store
	Migrate(ctx context.Context) error
}

// jobRunner is a River client of either driver.
type jobRunner interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Main is the whole chatpay process. End-to-end tests start it for real on a free
// port: NewMain, set Listener (optional), Open, drive it over HTTP, Close.
type Main struct {
	Config *configs.Config
	Logger *slog.Logger
	Stdout io.Writer
	// Listener, when set, is used instead of listening on Config.HTTP.Addr.
	Listener net.Listener
	// OpenStore, when set, replaces opening Config.DatabaseURL (tests use it to give
	// each test its own Postgres schema).
	OpenStore func(ctx context.Context) (Store, error)
	// SandboxPendingDelay is how long the sandbox keeps a "pending" checkout pending
	// before it succeeds; zero means the sandbox's default.
	SandboxPendingDelay time.Duration

	Store    Store
	Service  *orders.Service
	Sandbox  *sandbox.Engine
	Gateways *gateway.Registry
	Jobs     *jobs.Jobs
	Registry *prometheus.Registry
	// Redis is the shared cache between replicas, nil when redis_url is empty (one
	// process keeps what it needs in memory).
	Redis *redis.Client
	// Live carries committed changes to the dashboards and web chats watching them:
	// through Redis to every replica when redis_url is set, in this process otherwise.
	Live *live.Hub
	// APIKeys maps each API key to its shop, including the generated demo key.
	APIKeys map[string]string
	// URL is the base URL the server listens on once Open returns.
	URL string
	// demoLink is the one-time sign-in link printed for the demo shop's owner; empty
	// unless the default configuration is in use.
	demoLink string
	// Telegram holds each shop's bot client, for shops with a telegram block.
	Telegram map[string]*telegram.Client
	// Messenger holds each shop's page client, for shops with a messenger block.
	Messenger map[string]*messenger.Client
	// telegramHandler acts on recorded Telegram updates (tests call it again to
	// check that handling an update twice does nothing twice).
	telegramHandler *telegram.Handler

	runner jobRunner
	// stopPolling ends the Telegram pollers; polling waits for them.
	stopPolling context.CancelFunc
	polling     sync.WaitGroup
	closed      bool
	server      *http.Server
	served      chan error

	// stopSettings ends the settings watch; settingsDone is closed once it has.
	stopSettings context.CancelFunc
	settingsDone chan struct{}
}

// NewMain returns a Main for cfg.
func NewMain(cfg *configs.Config) *Main {
	return &Main{Config: cfg, Logger: slog.Default(), Stdout: io.Discard}
}

// openStore opens the configured store.
func (m *Main) openStore(ctx context.Context) (Store, error) {
	if m.OpenStore != nil {
		return m.OpenStore(ctx)
	}
	u := m.Config.DatabaseURL
	switch {
	case strings.HasPrefix(u, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(u, "sqlite:"))
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return postgres.Open(ctx, u, postgres.Options{})
	}
	return nil, fmt.Errorf("config: database_url: want sqlite:PATH or postgres://…")
}

// Migrate applies the store's migrations.
func (m *Main) Migrate(ctx context.Context) error {
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	m.Logger.Info("migrations applied", "database", redactURL(m.Config.DatabaseURL))
	return nil
}

// Open starts chatpay: store and migrations, secrets, service, gateways, jobs and the
// HTTP server. It returns once the server accepts connections.
func (m *Main) Open(ctx context.Context) error {
	started := time.Now()
	cfg := m.Config
	var err error
	if m.Store, err = m.openStore(ctx); err != nil {
		return err
	}
	if err := m.Store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	if cfg.RedisURL != "" {
		if m.Redis, err = openRedis(ctx, cfg.RedisURL); err != nil {
			return err
		}
	}
	if m.Live, err = m.liveHub(ctx); err != nil {
		return err
	}

	linkKey, err := m.linkKey(ctx)
	if err != nil {
		return err
	}
	shops, secrets, err := m.shops(ctx)
	if err != nil {
		return err
	}
	pages, err := templates.New()
	if err != nil {
		return err
	}
	m.Service, err = orders.NewService(orders.Config{
		Shops:           shops,
		Store:           m.Store,
		Renderer:        bot.Renderer{Templates: pages, Logger: m.Logger.With("component", "render")},
		PublicURL:       cfg.HTTP.PublicURL,
		LinkKey:         linkKey,
		ScrubChatUpdate: bot.RedactCardNumbersJSON,
		ChatOfUpdate: func(source string, raw []byte) string {
			switch {
			case strings.HasPrefix(source, "telegram:"):
				return telegram.ChatOfUpdate(raw)
			case strings.HasPrefix(source, "messenger:"):
				return messenger.ChatOfUpdate(raw)
			}
			return ""
		},
		// Refunds follow the payment's gateway's capabilities. The registry is built
		// below, before anything can create a refund; a gateway the shop no longer has
		// is not refused here: the refund job reports it.
		RefundRules: func(shopID, name string) orders.RefundRules {
			if m.Gateways == nil {
				return orders.RefundRules{PartialRefund: true}
			}
			c, err := m.Gateways.Capabilities(shopID, name)
			if err != nil {
				return orders.RefundRules{PartialRefund: true}
			}
			return orders.RefundRules{PartialRefund: c.PartialRefund, MaxRefunds: c.MaxRefundsPerPayment, Window: c.RefundWindow}
		},
		// Captures, likewise, follow the gateway's capabilities; a gateway the shop no
		// longer has captures nothing.
		CaptureRules: func(shopID, name string) orders.CaptureRules {
			if m.Gateways == nil {
				return orders.CaptureRules{}
			}
			c, err := m.Gateways.Capabilities(shopID, name)
			if err != nil {
				return orders.CaptureRules{}
			}
			return orders.CaptureRules{Capture: c.Capture, PartialCapture: c.PartialCapture}
		},
		Changes: m.Live,
	})
	if err != nil {
		return err
	}
	// Shops carry what their owners saved in the dashboard's settings. Service.Shop
	// reads them from memory, kept current from the live hub (a save on any replica)
	// and reloaded every half minute for a change lost on the way.
	if err := m.Service.LoadSettings(ctx); err != nil {
		var refused *orders.TextsRefusedError
		if !errors.As(err, &refused) {
			return err
		}
		m.Logger.Warn("shop settings: owners' texts left out, the built-in ones are sent", "err", err)
	}
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	m.stopSettings, m.settingsDone = stopWatch, make(chan struct{})
	go func() {
		defer close(m.settingsDone)
		m.Service.WatchSettings(watchCtx, 30*time.Second, m.Live, func(err error) {
			m.Logger.Warn("shop settings: reload", "err", err)
		})
	}()

	if m.Listener == nil {
		if m.Listener, err = net.Listen("tcp", cfg.HTTP.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
		}
	}
	m.URL = "http://" + m.Listener.Addr().String()

	m.Registry = prometheus.NewRegistry()
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	m.Sandbox = sandbox.New(sandbox.Options{
		PublicURL: cfg.HTTP.PublicURL,
		WebhookURL: func(shopID string) string {
			// The sandbox stands in for a remote gateway, so it calls our public URL
			// like one would; tests on a free port set public_url to the listener.
			return cfg.HTTP.PublicURL + "/webhooks/sandbox/" + shopID
		},
		PendingDelay: m.SandboxPendingDelay,
		Logger:       m.Logger.With("component", "sandbox"),
	})
	m.Gateways = gateway.NewRegistry()
	for _, sh := range cfg.Shops {
		if sh.Gateways.Sandbox != nil {
			m.Gateways.Add(sh.ID, m.Sandbox.Gateway(sh.ID, secrets[sh.ID]))
		}
		if err := m.addRealGateways(sh); err != nil {
			return err
		}
	}

	if err := m.openTelegram(); err != nil {
		return err
	}
	if err := m.openMessenger(); err != nil {
		return err
	}
	// One limiter for everything that sends, so that in-process limits are shared
	// too (through Redis they would be anyway).
	limiter := m.limiter()
	m.telegramHandler = &telegram.Handler{
		Service:      m.Service,
		Texts:        pages,
		Clients:      m.telegramClient,
		OperatorChat: m.operatorChat,
		SalesGroup:   m.salesGroup,
		Dialogs:      m.dialogs(),
		Logger:       m.Logger.With("component", "telegram"),
	}
	m.Jobs, err = jobs.New(jobs.Config{
		Service:  m.Service,
		Gateways: m.Gateways,
		Channels: bot.Channels{
			orders.ChannelWebchat:  webchat.Channel{Messages: m.Service},
			orders.ChannelTelegram: telegram.NewChannel(m.telegramClient, m.operatorChat, m.Service),
			orders.ChannelMessenger: messenger.Channel{
				Clients: m.messengerClient, PaidTemplate: m.messengerPaidTemplate, Orders: m.Service,
			},
		},
		ChatHandler: chatHandlers{"telegram": m.telegramHandler, "messenger": &messenger.Handler{
			Service: m.Service, Texts: pages, Clients: m.messengerClient, Limiter: limiter,
			Logger: m.Logger.With("component", "messenger"),
		}},
		Notifier: telegram.Notifier{Clients: m.telegramClient, OperatorChat: m.operatorChat},
		Limiter:  limiter,
		Account: func(shop *orders.Shop, channel string) string {
			for _, sh := range cfg.Shops {
				switch {
				case sh.ID != shop.ID:
				case channel == orders.ChannelTelegram && sh.Telegram != nil:
					return bot.TelegramBotID(sh.Telegram.Token)
				case channel == orders.ChannelMessenger && sh.Messenger != nil:
					return sh.Messenger.PageID
				}
			}
			return shop.ID
		},
		OperatorChat:   m.operatorChat,
		ReconcileAfter: cfg.Jobs.ReconcileAfter.Std(),
		ReconcileEvery: cfg.Jobs.ReconcileEvery.Std(),
		Logger:         m.Logger.With("component", "jobs"),
		Registerer:     m.Registry,
	})
	if err != nil {
		return err
	}
	if m.runner, err = m.jobClient(); err != nil {
		return err
	}
	if err := m.runner.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}

	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	// Gin trusts every proxy unless told otherwise, which would let any client set
	// its own address with X-Forwarded-For and slip past per-IP sign-in limits.
	if err := engine.SetTrustedProxies(cfg.HTTP.TrustedProxies); err != nil {
		return fmt.Errorf("config: http.trusted_proxies: %w", err)
	}
	engine.Use(gin.Recovery())
	engine.ContextWithFallback = true
	// Dashboard users live in the same database as the orders; both stores keep them.
	as, ok := m.Store.(auth.Store)
	if !ok {
		return fmt.Errorf("the store %T keeps no dashboard users", m.Store)
	}
	authSvc, err := auth.NewService(auth.Config{Store: as, Throttle: m.signInThrottle(), Logger: m.Logger.With("component", "auth")})
	if err != nil {
		return err
	}
	var demoShop string
	if cfg.UsesDefaultShops() && len(cfg.Shops) > 0 {
		demoShop = cfg.Shops[0].ID
		if m.demoLink, err = m.demoSignInLink(ctx, authSvc, demoShop); err != nil {
			return err
		}
	}
	srv, err := web.New(web.Config{
		Service:  m.Service,
		Gateways: m.Gateways,
		Sandbox:  m.Sandbox,
		Pages:    pages,
		APIKeys:  m.APIKeys,
		Auth:     authSvc,
		// The public URL is where browsers reach us, so it says whether over HTTPS.
		SecureCookies: strings.HasPrefix(m.Config.HTTP.PublicURL, "https://"),
		Ready:         m.ready,
		Gatherer:      m.Registry,
		Registerer:    m.Registry,
		Logger:        m.Logger.With("component", "http"),
		DemoShop:      demoShop,
		Live:          m.Live,
		// The web chat's limits go through the same limiter (under keys of their
		// own), so with redis_url set they hold across replicas, not per replica.
		ChatLimiter: limiter,
	})
	if err != nil {
		return err
	}
	srv.Register(engine)
	hookMetrics := webhooks.NewMetrics(m.Registry)
	(&webhooks.Handler{
		Service:  m.Service,
		Gateways: m.Gateways,
		Logger:   m.Logger.With("component", "webhooks"),
		Metrics:  hookMetrics,
	}).Register(engine)
	(&webhooks.TelegramHandler{
		Service: m.Service,
		Bots:    m.telegramWebhookBot,
		Metrics: hookMetrics,
	}).Register(engine)
	(&webhooks.MessengerHandler{
		Service:  m.Service,
		Platform: messenger.Platform{},
		Pages:    m.messengerPage,
		Metrics:  hookMetrics,
	}).Register(engine)

	m.server = &http.Server{
		Handler:           engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	// Event streams never go idle, so Shutdown would wait them out: they end as it starts.
	m.server.RegisterOnShutdown(m.Live.CloseSubscriptions)
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.Listener) }()
	m.startTelegram(ctx)

	m.Logger.Info("chatpay ready", "version", Version(), "listen", m.URL, "public_url", cfg.HTTP.PublicURL,
		"database", redactURL(cfg.DatabaseURL), "redis", redactURL(cfg.RedisURL), "shops", len(shops), "startup", time.Since(started).Round(time.Millisecond).String())
	m.printWelcome(shops)
	return nil
}

// Close stops accepting requests, lets in-flight requests and jobs finish (until ctx
// is done), then closes the store.
func (m *Main) Close(ctx context.Context) error {
	if m.closed {
		return nil // closing twice (a test's cleanup after an explicit Close) is harmless
	}
	m.closed = true
	var errs []error
	if m.server != nil {
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := <-m.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	} else if m.Listener != nil {
		_ = m.Listener.Close()
	}
	if m.stopPolling != nil {
		m.stopPolling()
		m.polling.Wait()
	}
	if m.stopSettings != nil {
		m.stopSettings()
		<-m.settingsDone
	}
	if m.runner != nil {
		if err := m.runner.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("jobs shutdown: %w", err))
		}
	}
	if m.Sandbox != nil {
		_ = m.Sandbox.Close()
	}
	if m.Live != nil {
		// After the jobs, which publish too, and before the Redis client it sends on.
		if err := m.Live.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if m.Redis != nil {
		if err := m.Redis.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if m.Store != nil {
		if err := m.Store.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// StopJobs stops working background jobs (they keep being queued). Benchmarks use it
// to measure the request path alone.
func (m *Main) StopJobs(ctx context.Context) error {
	if m.runner == nil {
		return nil
	}
	err := m.runner.Stop(ctx)
	m.runner = nil
	return err
}

// liveHub returns the hub of live updates: through Redis pub/sub when it is
// configured, so that a change committed on one replica reaches the browsers
// connected to any other, in this process otherwise.
func (m *Main) liveHub(ctx context.Context) (*live.Hub, error) {
	o := live.Options{Logger: m.Logger.With("component", "live")}
	if m.Redis != nil {
		return live.NewRedisHub(ctx, m.Redis, o)
	}
	return live.NewHub(o), nil
}

// limiter returns the outbound rate limiter: shared through Redis between replicas
// when it is configured, in this process otherwise.
func (m *Main) limiter() bot.Limiter {
	if m.Redis != nil {
		return ratelimitredis.New(m.Redis, "")
	}
	return memory.New(memory.Options{})
}

// signInThrottle counts failed dashboard sign-ins: in Redis when it is configured, so
// that guesses spread over replicas still meet one limit, in this process otherwise
// (nil: auth's default).
func (m *Main) signInThrottle() auth.Throttle {
	if m.Redis != nil {
		return authredis.New(m.Redis, "", auth.DefaultMaxFailures, auth.DefaultFailureWindow)
	}
	return nil
}

// dialogs returns where chat dialogs (guided order drafts) are kept: in Redis when it
// is configured, so that any replica can take a dialog's next step, in this process
// otherwise.
func (m *Main) dialogs() bot.Dialogs {
	if m.Redis != nil {
		return dialogredis.New(m.Redis, "")
	}
	return dialogmemory.New(dialogmemory.Options{})
}

// ready reports whether chatpay can serve: its store and, when configured, Redis
// answer.
func (m *Main) ready(ctx context.Context) error {
	if err := m.Store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if m.Redis != nil {
		if err := m.Redis.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	return nil
}

// openRedis connects to redis_url and checks that it answers, so that a wrong URL
// stops start-up instead of surfacing on the first rate-limited message.
func openRedis(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		// ParseURL's error quotes the whole URL, password included.
		var uerr *neturl.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("config: redis_url: %w", err)
	}
	client := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis at %s: %w", redactURL(url), err)
	}
	return client, nil
}

// jobClient builds the River client for the configured store.
func (m *Main) jobClient() (jobRunner, error) {
	rc := m.Jobs.RiverConfig()
	switch st := m.Store.(type) {
	case *sqlite.Store:
		return st.JobClient(rc)
	case *postgres.Store:
		return st.JobClient(rc)
	}
	return nil, fmt.Errorf("no job runner for store %T", m.Store)
}

// linkKey returns the key that seals payment-link tokens: the configured secret_key,
// or one generated on first start and kept in the store so links survive restarts.
func (m *Main) linkKey(ctx context.Context) ([]byte, error) {
	enc := m.Config.SecretKey
	if enc == "" {
		var err error
		enc, err = m.Store.Secret(ctx, "link_key", func() (string, error) {
			return randomString(orders.LinkKeyLen, base64.StdEncoding)
		})
		if err != nil {
			return nil, fmt.Errorf("link key: %w", err)
		}
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) != orders.LinkKeyLen {
		return nil, fmt.Errorf("config: secret_key: want %d random bytes, base64-encoded", orders.LinkKeyLen)
	}
	return key, nil
}

// shops turns the configured shops into domain shops, collects their API keys and
// returns each shop's sandbox webhook secret. The embedded demo shop has neither key
// nor secret in its config: both are generated on first start, stored, and the key is
// printed, so no installation ever runs with a well-known credential.
func (m *Main) shops(ctx context.Context) ([]*orders.Shop, map[string]string, error) {
	m.APIKeys = map[string]string{}
	secrets := map[string]string{}
	var out []*orders.Shop
	for _, sh := range m.Config.Shops {
		keys := append([]string(nil), sh.APIKeys...)
		if len(keys) == 0 {
			key, err := m.Store.Secret(ctx, "api_key:"+sh.ID, func() (string, error) {
				s, err := randomString(24, base64.RawURLEncoding)
				return "cp_" + sh.ID + "_" + s, err
			})
			if err != nil {
				return nil, nil, err
			}
			keys = append(keys, key)
		}
		for _, k := range keys {
			m.APIKeys[k] = sh.ID
		}
		shop := &orders.Shop{
			ID:                   sh.ID,
			Name:                 sh.Name,
			Currency:             sh.Currency,
			Locale:               sh.Locale,
			DisplayToman:         sh.DisplayToman,
			SendPaidConfirmation: sh.PaidConfirmation(),
			StaffChat:            sh.Telegram != nil && sh.Telegram.OperatorChatID != 0,
		}
		if sh.WebChat != nil {
			shop.WebChatOrigins = sh.WebChat.AllowedOrigins
		}
		if sb := sh.Gateways.Sandbox; sb != nil {
			shop.Gateways = append(shop.Gateways, "sandbox")
			secret := sb.WebhookSecret
			if secret == "" {
				var err error
				secret, err = m.Store.Secret(ctx, "sandbox_webhook_secret:"+sh.ID, func() (string, error) {
					return randomString(32, base64.RawURLEncoding)
				})
				if err != nil {
					return nil, nil, err
				}
			}
			secrets[sh.ID] = secret
		}
		// The pay page offers every gateway the shop enabled, in config order.
		for _, name := range sh.Gateways.Enabled() {
			if name != "sandbox" {
				shop.Gateways = append(shop.Gateways, name)
			}
		}
		out = append(out, shop)
	}
	return out, secrets, nil
}

// printWelcome tells whoever started chatpay how to use it: the URL and, for shops
// whose keys were generated, their API key.
func (m *Main) printWelcome(shops []*orders.Shop) {
	fmt.Fprintf(m.Stdout, "chatpay %s is listening on %s (public URL %s)\n", Version(), m.URL, m.Config.HTTP.PublicURL)
	fmt.Fprintf(m.Stdout, "dashboard: %s/dashboard\n", m.Config.HTTP.PublicURL)
	if m.demoLink != "" {
		fmt.Fprintf(m.Stdout, "demo: open %s\n  (a one-time sign-in for the demo shop's owner: the dashboard and a customer's chat side by side)\n", m.demoLink)
	}
	for _, sh := range m.Config.Shops {
		if len(sh.APIKeys) > 0 {
			continue
		}
		for k, id := range m.APIKeys {
			if id == sh.ID {
				fmt.Fprintf(m.Stdout, "shop %q API key: %s\n", sh.ID, k)
				fmt.Fprintf(m.Stdout, "  try: curl -H 'Authorization: Bearer %s' %s/api/v1/orders\n", k, m.Config.HTTP.PublicURL)
			}
		}
	}
}

func randomString(n int, enc *base64.Encoding) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return enc.EncodeToString(b), nil
}

// redactURL hides a database URL's password in logs.
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.LastIndex(u, "@"); j > i {
			if k := strings.Index(u[i+3:j], ":"); k >= 0 {
				return u[:i+3+k] + ":***" + u[j:]
			}
		}
	}
	return u
}

// openTelegram creates the bot client of each shop with a telegram block. Nothing
// talks to Telegram yet.
func (m *Main) openTelegram() error {
	m.Telegram = map[string]*telegram.Client{}
	for _, sh := range m.Config.Shops {
		t := sh.Telegram
		if t == nil {
			continue
		}
		c, err := telegram.New(t.Token, t.APIURL, telegram.WithLogger(m.Logger.With("component", "telegram", "shop_id", sh.ID)))
		if err != nil {
			return fmt.Errorf("config: shops[%s].telegram: %w", sh.ID, err)
		}
		m.Telegram[sh.ID] = c
	}
	return nil
}

func (m *Main) telegramClient(shopID string) (*telegram.Client, bool) {
	c, ok := m.Telegram[shopID]
	return c, ok
}

// telegramWebhookBot tells the webhook route about shops whose bot is in webhook mode.
func (m *Main) telegramWebhookBot(shopID string) (webhooks.TelegramBot, bool) {
	for _, sh := range m.Config.Shops {
		if sh.ID == shopID && sh.Telegram != nil && sh.Telegram.Mode == "webhook" {
			source, err := telegram.Source(sh.Telegram.Token)
			if err != nil {
				return webhooks.TelegramBot{}, false
			}
			return webhooks.TelegramBot{Source: source, Secret: sh.Telegram.WebhookSecret}, true
		}
	}
	return webhooks.TelegramBot{}, false
}

// startTelegram points each bot at chatpay: in webhook mode it sets the webhook to
// the public URL; in polling mode it removes any webhook (Telegram refuses getUpdates
// while one is set) and starts the shop's poller.
func (m *Main) startTelegram(ctx context.Context) {
	pollCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.stopPolling = cancel
	for _, sh := range m.Config.Shops {
		t, client := sh.Telegram, m.Telegram[sh.ID]
		if t == nil || client == nil {
			continue
		}
		log := m.Logger.With("component", "telegram", "shop_id", sh.ID, "mode", t.Mode)
		source, err := telegram.Source(t.Token)
		if err != nil {
			log.Error("telegram: bad token", "err", err)
			continue
		}
		if t.Mode == "webhook" {
			url := m.Config.HTTP.PublicURL + "/webhooks/telegram/" + sh.ID
			if err := client.SetWebhook(ctx, url, t.WebhookSecret); err != nil {
				log.Error("telegram: setWebhook failed; updates will not arrive until it succeeds", "url", url, "err", err)
			}
			continue
		}
		m.polling.Go(func() {
			if err := client.DeleteWebhook(pollCtx); err != nil && pollCtx.Err() == nil {
				log.Warn("telegram: deleteWebhook failed", "err", err)
			}
			p := &telegram.Poller{Updates: client, Recorder: m.Service, ShopID: sh.ID, Source: source, Logger: log}
			if err := p.Run(pollCtx); err != nil {
				log.Error("telegram: polling stopped", "err", err)
			}
		})
	}
}

// operatorChat returns the shop's Telegram operator group, 0 for none.
func (m *Main) operatorChat(shopID string) int64 {
	for _, sh := range m.Config.Shops {
		if sh.ID == shopID && sh.Telegram != nil {
			return sh.Telegram.OperatorChatID
		}
	}
	return 0
}

// salesGroup reports whether chat is one of the shop's Telegram sales groups.
func (m *Main) salesGroup(shopID string, chat int64) bool {
	for _, sh := range m.Config.Shops {
		if sh.ID == shopID && sh.Telegram != nil {
			return slices.Contains(sh.Telegram.SalesGroups, chat)
		}
	}
	return false
}

// chatHandlers routes a recorded update to the handler of the platform that sent it,
// named by the first part of its source ("telegram:<bot id>").
type chatHandlers map[string]jobs.ChatHandler

func (hs chatHandlers) HandleUpdate(ctx context.Context, shop *orders.Shop, u *orders.ChatUpdate) error {
	platform, _, _ := strings.Cut(u.Source, ":")
	h, ok := hs[platform]
	if !ok {
		return &bot.PermanentError{Reason: "No handler for updates from " + platform + "."}
	}
	return h.HandleUpdate(ctx, shop, u)
}

func (m *Main) openMessenger() error {
	m.Messenger = map[string]*messenger.Client{}
	for _, sh := range m.Config.Shops {
		c := sh.Messenger
		if c == nil {
			continue
		}
		client, err := messenger.NewClient(messenger.Config{
			PageID: c.PageID, PageAccessToken: c.PageAccessToken, AppSecret: c.AppSecret, AppID: c.AppID,
			APIURL: c.APIURL, Version: c.APIVersion,
		})
		if err != nil {
			return fmt.Errorf("config: shops[%s].messenger: %w", sh.ID, err)
		}
		m.Messenger[sh.ID] = client
	}
	return nil
}

func (m *Main) messengerClient(shopID string) (*messenger.Client, bool) {
	c, ok := m.Messenger[shopID]
	return c, ok
}

// messengerPage tells the webhook route about a shop's Facebook Page.
func (m *Main) messengerPage(shopID string) (webhooks.MessengerPage, bool) {
	for _, sh := range m.Config.Shops {
		if sh.ID == shopID && sh.Messenger != nil {
			return webhooks.MessengerPage{Source: messenger.Source(sh.Messenger.PageID), PageID: sh.Messenger.PageID,
				AppSecret: sh.Messenger.AppSecret, VerifyToken: sh.Messenger.VerifyToken}, true
		}
	}
	return webhooks.MessengerPage{}, false
}

// messengerPaidTemplate returns the shop's approved utility template for the paid
// confirmation outside the 24-hour window.
func (m *Main) messengerPaidTemplate(shopID string) (name, language string, ok bool) {
	for _, sh := range m.Config.Shops {
		if sh.ID == shopID && sh.Messenger != nil && sh.Messenger.PaidTemplate != nil {
			return sh.Messenger.PaidTemplate.Name, sh.Messenger.PaidTemplate.Language, true
		}
	}
	return "", "", false
}

// addRealGateways registers the shop's Stripe and Opn Payments (Omise) accounts.
func (m *Main) addRealGateways(sh configs.Shop) error {
	if st := sh.Gateways.Stripe; st != nil {
		g, err := stripe.New(stripe.Config{
			SecretKey: st.SecretKey, WebhookSecrets: st.WebhookSecrets, APIURL: st.APIURL,
			SessionTTL: st.SessionTTL.Std(), ManualCapture: st.ManualCapture, ShopID: sh.ID,
		})
		if err != nil {
			return fmt.Errorf("config: shops[%s].gateways.stripe: %w", sh.ID, err)
		}
		m.Gateways.Add(sh.ID, g)
	}
	if om := sh.Gateways.Omise; om != nil {
		client, err := omise.NewClient(omise.ClientOptions{SecretKey: om.SecretKey, PublicKey: om.PublicKey, BaseURL: om.APIURL})
		if err != nil {
			return fmt.Errorf("config: shops[%s].gateways.omise: %w", sh.ID, err)
		}
		g, err := omise.New(omise.Config{ShopID: sh.ID, Client: client, WebhookSecrets: om.WebhookSecrets, SourceType: om.SourceType})
		if err != nil {
			return fmt.Errorf("config: shops[%s].gateways.omise: %w", sh.ID, err)
		}
		m.Gateways.Add(sh.ID, g)
	}
	return nil
}
