package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Browser tests drive Debian's chromium, headless, through chromedp. They need the
// chromium package (`.ci/run` installs it). Without it they skip, unless
// CHATPAY_REQUIRE_SERVICES=1 (as in CI), where a missing browser fails them.

// chromiumPath finds the browser: CHATPAY_CHROMIUM, else chromium on PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHATPAY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CHATPAY_REQUIRE_SERVICES") == "1" {
		t.Fatal("chromium is not installed (apt-get install chromium); browser tests are required here")
	}
	t.Skip("chromium is not installed; apt-get install chromium to run the browser tests")
	return ""
}

// newBrowser starts a headless chromium for the test and returns a context for its
// first tab, ended when the test ends. Tests that use it do not call t.Parallel: Go
// runs them one at a time before the parallel tests, so a browser that renders and
// runs scripts on this machine's two cores neither slows the other end-to-end tests
// past their deadlines (a Telegram test once missed its 15 s under CI's load) nor
// is slowed by them. A width under 30rem would give the phone
// layout; tests pick what they check.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		// The machine's network is closed: without these, chromium's own background
		// connections are refused many at a time and slow every start.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(width, height),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to run its sandbox as root, which CI is.
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	// One generous deadline for the whole test: a step that waits for something that
	// never appears fails the test instead of hanging it.
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	return ctx
}

// screenshotDir is where browser tests leave screenshots of the pages they visit, as
// test artifacts: CHATPAY_ARTIFACTS when set, else testdata/artifacts at the
// repository's root (ignored by git).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CHATPAY_ARTIFACTS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "testdata", "artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// screenshot saves the whole page as NAME.png among the artifacts (quality 100 makes
// chromedp capture PNG rather than JPEG).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err, "screenshot %s", name)
	path := filepath.Join(screenshotDir(t), name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
}

// js runs a script in the tab and decodes its value.
func js[T any](t *testing.T, ctx context.Context, script string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "script: %s", script)
	return v
}

// waitJS waits until script is truthy in the tab; what says what the test waits for.
// A poll does not survive a navigation, and clicks navigate, so it starts again until
// the deadline.
func waitJS(t *testing.T, ctx context.Context, what, script string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](script,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(2*time.Second)))
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if ctx.Err() == nil {
				screenshot(t, ctx, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
			}
			require.NoError(t, err, "waiting for %s (%s)", what, script)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do runs actions in the tab.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, actions...), what)
}

// location is the tab's current URL.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	return u
}
